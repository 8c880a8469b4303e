/*
 * tools/mkimg.sh: what it refuses (each with a message, a non-zero status and
 * no image written) and what a good image holds. These tests never need the
 * real stub or kernel: they use small stand-ins built here (a PE header for
 * the stub, a higher-half ELF for the kernel), so they pass while the kernel
 * is under construction; the one boot (a qcow2 image) uses the real ones.
 * The app is build/user/demo.elf when it exists, else a musl-gcc -static
 * hello built here. For dynamically linked apps the host is the oracle:
 * every file ldd resolves must be in the image's rootfs.tar, at that path
 * (through the tar's own symlinks) and with the same bytes.
 *
 * Fixtures live in build/tests/mkimg/, created atomically (temp name, then
 * mv), since tests run in parallel processes.
 */
#define _GNU_SOURCE /* asprintf */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define FIXTURES "build/tests/mkimg"
#define ESP	 "@@1M" /* the EFI System Partition's byte offset in the image */

/* Fails the test unless hay contains needle. */
#define assert_contains(hay, needle)                                                               \
	cr_assert(strstr((hay), (needle)) != NULL, "expected \"%s\" in:\n%s", (needle), (hay))

/* Runs a shell snippet that makes the fixture FIXTURES/name from $tmp if absent. */
static char *fixture(const char *name, const char *make_tmp)
{
	char *out;
	int status;

	status = harness_run(&out,
			     "mkdir -p " FIXTURES " && f=" FIXTURES "/%s && "
			     "if [ ! -e \"$f\" ]; then tmp=\"$f.$$\" && ( %s\n) && "
			     "{ mv -fT \"$tmp\" \"$f\" 2>/dev/null || rm -rf \"$tmp\"; }; fi; "
			     "[ -e \"$f\" ]",
			     name, make_tmp);
	cr_assert_eq(status, 0, "making fixture %s failed:\n%s", name, out);
	free(out);
	return harness_path(FIXTURES "/%s", name);
}

/* Just enough of a PE32+ header for mkimg's check: MZ, e_lfanew 0x40, PE, x86-64. */
static char *fake_stub(void)
{
	return fixture("stub.efi",
		       "{ printf 'MZ'; head -c 58 /dev/zero; "
		       "printf '\\100\\000\\000\\000PE\\000\\000\\144\\206'; } > \"$tmp\"");
}

/* A minimal ELF64 kernel linked in the top 2 GiB. */
static char *fake_kernel(void)
{
	return fixture("kernel.elf",
		       "printf '.globl _start\\n_start: hlt\\n jmp _start\\n' > \"$tmp.S\" && "
		       "gcc -c \"$tmp.S\" -o \"$tmp.o\" && "
		       "ld -nostdlib -static -Ttext=0xffffffff80100000 \"$tmp.o\" -o \"$tmp\"; "
		       "rc=$?; rm -f \"$tmp.S\" \"$tmp.o\"; exit $rc");
}

/* Written with printf '%s': no quotes, no '%'. */
static const char hello_c[] = "int main(void) { return 0; }\\n";

static char *static_app(void)
{
	char *cmd = NULL, *app;

	if (harness_exists("build/user/demo.elf"))
		return harness_path("build/user/demo.elf");
	cr_assert_geq(
	    asprintf(&cmd,
		     "printf '%s' > \"$tmp.c\" && musl-gcc -static -O2 \"$tmp.c\" -o \"$tmp\"; "
		     "rc=$?; rm -f \"$tmp.c\"; exit $rc",
		     hello_c),
	    0);
	app = fixture("hello-static.elf", cmd);
	free(cmd);
	return app;
}

/* A normal (dynamically linked, PIE) host executable: has PT_INTERP. */
static char *dynamic_app(void)
{
	char *cmd = NULL, *app;

	cr_assert_geq(asprintf(&cmd,
			       "printf '%s' > \"$tmp.c\" && gcc -O2 \"$tmp.c\" -o \"$tmp\"; "
			       "rc=$?; rm -f \"$tmp.c\"; exit $rc",
			       hello_c),
		      0);
	app = fixture("hello-dynamic.elf", cmd);
	free(cmd);
	return app;
}

/* The 52-byte header of an ELF32 i386 executable (no program headers). */
static char *elf32_app(void)
{
	return fixture(
	    "elf32.elf",
	    "printf '\\177ELF\\001\\001\\001\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	    "\\002\\000\\003\\000\\001\\000\\000\\000\\000\\200\\004\\010"
	    "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	    "\\064\\000\\040\\000\\000\\000\\050\\000\\000\\000\\000\\000' > \"$tmp\"");
}

static char *text_file(void)
{
	return fixture("not-elf.txt", "echo 'this is not an ELF file' > \"$tmp\"");
}

/* Path of the test's image, removed first so that "not written" can be checked. */
static char *image_path(const char *name)
{
	char *img = harness_path("build/tests/img/%s.img", name);
	char *q = harness_quote(img);

	cr_assert_eq(harness_run(NULL, "mkdir -p build/tests/img && rm -f %s", q), 0);
	free(q);
	return img;
}

/*
 * Runs mkimg -o <the test's image> with the stand-in stub and kernel, the
 * static app (unless extra gives --app) and extra. Returns the status and
 * the output in *out.
 */
static int run_mkimg(char **out, const char *name, const char *extra)
{
	char *img = image_path(name), *stub = fake_stub(), *kernel = fake_kernel();
	char *app = strstr(extra, "--app") ? NULL : static_app();
	char *q_img = harness_quote(img), *q_stub = harness_quote(stub),
	     *q_kernel = harness_quote(kernel);
	char *q_app = app ? harness_quote(app) : NULL;
	int status;

	status = harness_run(out, "tools/mkimg.sh -o %s --efi %s --kernel %s %s%s %s", q_img,
			     q_stub, q_kernel, q_app ? "--app " : "", q_app ? q_app : "", extra);
	free(q_img), free(q_stub), free(q_kernel), free(q_app);
	free(img), free(stub), free(kernel), free(app);
	return status;
}

/* mkimg must fail with status want_status, say why, and write no image. */
static void expect_refusal(const char *name, const char *extra, int want_status, const char *why)
{
	char *out, *img = harness_path("build/tests/img/%s.img", name);
	int status = run_mkimg(&out, name, extra);

	cr_assert_eq(status, want_status, "mkimg %s: status %d, want %d; output:\n%s", extra,
		     status, want_status, out);
	assert_contains(out, "mkimg.sh: ");
	assert_contains(out, why);
	cr_assert(!harness_exists(img), "a refused mkimg left %s behind", img);
	free(out);
	free(img);
}

/* Arguments for a good image: stand-ins plus the static app. */
static char *good_args(const char *extra)
{
	char *stub = fake_stub(), *kernel = fake_kernel(), *app = static_app();
	char *q_stub = harness_quote(stub), *q_kernel = harness_quote(kernel),
	     *q_app = harness_quote(app);
	char *args = NULL;

	cr_assert_geq(asprintf(&args, "--efi %s --kernel %s --app %s %s", q_stub, q_kernel, q_app,
			       extra ? extra : ""),
		      0);
	free(q_stub), free(q_kernel), free(q_app);
	free(stub), free(kernel), free(app);
	return args;
}

static char *make_good_image(const char *name, const char *extra)
{
	char *args = good_args(extra), *img = harness_mkimg(name, args);

	free(args);
	return img;
}

/* Output of a command that must succeed. */
static char *must_run(const char *what, const char *cmd)
{
	char *out;
	int status = harness_run(&out, "%s", cmd);

	cr_assert_eq(status, 0, "%s failed (status %d):\n%s", what, status, out);
	return out;
}

/* ------------------------------------------------------------ refusals */

Test(mkimg, rejects_missing_app)
{
	expect_refusal("rejects_missing_app", "--app build/tests/mkimg/no-such-app.elf", 1,
		       "app not found");
}

Test(mkimg, rejects_missing_efi_stub)
{
	char *out, *img = image_path("rejects_missing_efi_stub"), *q = harness_quote(img);
	char *app = static_app(), *kernel = fake_kernel();
	int status = harness_run(&out,
				 "tools/mkimg.sh -o %s --efi build/tests/mkimg/no-such.efi "
				 "--kernel '%s' --app '%s'",
				 q, kernel, app);

	cr_assert_eq(status, 1, "status %d:\n%s", status, out);
	assert_contains(out, "EFI stub not found");
	cr_assert(!harness_exists(img));
}

Test(mkimg, rejects_missing_kernel)
{
	char *out, *img = image_path("rejects_missing_kernel"), *q = harness_quote(img);
	char *app = static_app(), *stub = fake_stub();
	int status = harness_run(&out,
				 "tools/mkimg.sh -o %s --kernel build/tests/mkimg/no-such.elf "
				 "--efi '%s' --app '%s'",
				 q, stub, app);

	cr_assert_eq(status, 1, "status %d:\n%s", status, out);
	assert_contains(out, "kernel not found");
	cr_assert(!harness_exists(img));
}

Test(mkimg, rejects_missing_file_source)
{
	expect_refusal("rejects_missing_file_source",
		       "--file build/tests/mkimg/no-such-file:/etc/motd", 1,
		       "--file source not found: build/tests/mkimg/no-such-file");
}

Test(mkimg, rejects_non_elf_app)
{
	char *app = text_file(), *extra = NULL;

	cr_assert_geq(asprintf(&extra, "--app '%s'", app), 0);
	expect_refusal("rejects_non_elf_app", extra, 1, "not an ELF file");
}

Test(mkimg, rejects_32bit_elf)
{
	char *app = elf32_app(), *extra = NULL;

	cr_assert_geq(asprintf(&extra, "--app '%s'", app), 0);
	expect_refusal("rejects_32bit_elf", extra, 1, "32-bit ELF");
}

Test(mkimg, rejects_app_as_kernel)
{
	char *out, *img = image_path("rejects_app_as_kernel"), *q = harness_quote(img);
	char *app = static_app(), *stub = fake_stub();
	int status = harness_run(&out, "tools/mkimg.sh -o %s --kernel '%s' --efi '%s' --app '%s'",
				 q, app, stub, app);

	cr_assert_eq(status, 1, "status %d:\n%s", status, out);
	assert_contains(out, "higher half");
	cr_assert(!harness_exists(img));
}

Test(mkimg, rejects_non_pe_efi_stub)
{
	char *out, *img = image_path("rejects_non_pe_efi_stub"), *q = harness_quote(img);
	char *app = static_app(), *kernel = fake_kernel(), *text = text_file();
	int status = harness_run(&out, "tools/mkimg.sh -o %s --kernel '%s' --efi '%s' --app '%s'",
				 q, kernel, text, app);

	cr_assert_eq(status, 1, "status %d:\n%s", status, out);
	assert_contains(out, "not a PE/COFF file");
	cr_assert(!harness_exists(img));
}

Test(mkimg, rejects_contents_larger_than_size)
{
	char *big = fixture("big-6M.bin", "head -c 6291456 /dev/zero > \"$tmp\""), *extra = NULL;

	cr_assert_geq(asprintf(&extra, "--size 4 --file '%s:/data/big.bin'", big), 0);
	expect_refusal("rejects_contents_larger_than_size", extra, 1, "do not fit");
}

Test(mkimg, rejects_newline_in_args)
{
	expect_refusal("rejects_newline_in_args", "--args 'one\ntwo'", 1,
		       "--args contains a newline");
}

Test(mkimg, rejects_newline_in_env)
{
	expect_refusal("rejects_newline_in_env", "--env 'A=one\ntwo'", 1,
		       "--env contains a newline");
}

Test(mkimg, rejects_env_without_equals)
{
	expect_refusal("rejects_env_without_equals", "--env JUSTANAME", 1, "has no '='");
}

Test(mkimg, rejects_file_without_colon)
{
	char *src = text_file(), *extra = NULL;

	cr_assert_geq(asprintf(&extra, "--file '%s'", src), 0);
	expect_refusal("rejects_file_without_colon", extra, 1, "has no ':'");
}

Test(mkimg, rejects_relative_file_dest)
{
	char *src = text_file(), *extra = NULL;

	cr_assert_geq(asprintf(&extra, "--file '%s:etc/motd'", src), 0);
	expect_refusal("rejects_relative_file_dest", extra, 1, "is not absolute");
}

Test(mkimg, rejects_dotdot_in_file_dest)
{
	char *src = text_file(), *extra = NULL;

	cr_assert_geq(asprintf(&extra, "--file '%s:/etc/../../escape'", src), 0);
	expect_refusal("rejects_dotdot_in_file_dest", extra, 1, "contains '..'");
}

Test(mkimg, rejects_bad_config_key)
{
	expect_refusal("rejects_bad_config_key", "--config Bad-Key=1", 1, "is invalid");
}

Test(mkimg, rejects_reserved_config_key)
{
	expect_refusal("rejects_reserved_config_key", "--config args=x", 1, "reserved");
}

Test(mkimg, rejects_unknown_option)
{
	expect_refusal("rejects_unknown_option", "--frobnicate", 2,
		       "unknown option '--frobnicate'");
}

Test(mkimg, rejects_missing_output)
{
	char *out;
	int status = harness_run(&out, "tools/mkimg.sh --args x");

	cr_assert_eq(status, 2, "status %d:\n%s", status, out);
	assert_contains(out, "missing -o");
}

Test(mkimg, rejects_bad_size)
{
	expect_refusal("rejects_bad_size", "--size 12abc", 2, "--size wants a whole number");
}

/* ------------------------------------------------------------ good images */

Test(mkimg, help_documents_every_option)
{
	static const char *const words[] = {
	    "-o",	   "--app",
	    "--args",	   "--env",
	    "--file",	   "--name",
	    "--config",	   "--size",
	    "--efi",	   "--kernel",
	    "--format",	   "--app-path",
	    "app_path=",   "qcow2",
	    "vhdx",	   "ld.so.cache",
	    "DT_RUNPATH",  "#!",
	    "boot.cfg",	   "name=",
	    "args=",	   "env=",
	    "on_exit=",	   "rootfs.tar",
	    "lsblk",	   "dd if=OUT.img of=/dev/sdX bs=4M conv=fsync status=progress",
	    "Secure Boot", "ERASES",
	};
	char *out;
	int status = harness_run(&out, "tools/mkimg.sh --help");

	cr_assert_eq(status, 0, "%s", out);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		assert_contains(out, words[i]);
}

Test(mkimg, image_lists_expected_files)
{
	char *img = make_good_image("image_lists_expected_files", NULL), *q = harness_quote(img);
	char *cmd = NULL, *root, *boot;

	cr_assert_geq(asprintf(&cmd, "mdir -b -i %s" ESP " ::/", q), 0);
	root = must_run("mdir ::/", cmd);
	assert_contains(root, "::/EFI");
	assert_contains(root, "::/kernel.elf");
	assert_contains(root, "::/app.elf");
	assert_contains(root, "::/boot.cfg");
	cr_assert(strstr(root, "rootfs.tar") == NULL, "rootfs.tar without --file:\n%s", root);
	free(cmd);
	cr_assert_geq(asprintf(&cmd, "mdir -b -i %s" ESP " ::/EFI/BOOT", q), 0);
	boot = must_run("mdir ::/EFI/BOOT", cmd);
	assert_contains(boot, "::/EFI/BOOT/BOOTX64.EFI");
}

Test(mkimg, image_is_gpt_with_one_fat32_esp)
{
	char *img = make_good_image("image_is_gpt_with_one_fat32_esp", NULL),
	     *q = harness_quote(img);
	char *cmd = NULL, *table, *info, *fsck;

	cr_assert_geq(asprintf(&cmd, "sfdisk --dump %s", q), 0);
	table = must_run("sfdisk --dump", cmd);
	assert_contains(table, "label: gpt");
	assert_contains(table, "start=        2048");
	assert_contains(table, "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
	cr_assert(strstr(table, ".img2 :") == NULL, "more than one partition:\n%s", table);
	free(cmd);

	cr_assert_geq(asprintf(&cmd, "minfo -i %s" ESP " ::", q), 0);
	info = must_run("minfo", cmd);
	assert_contains(info, "disk type=\"FAT32   \"");
	free(cmd);

	/* The partition alone, checked by dosfstools (read-only). */
	cr_assert_geq(
	    asprintf(&cmd,
		     "p=%s.esp && dd if=%s of=\"$p\" bs=1M skip=1 count=62 status=none && "
		     "fsck.fat -n \"$p\"; rc=$?; rm -f \"$p\"; exit $rc",
		     q, q),
	    0);
	fsck = must_run("fsck.fat", cmd);
	cr_assert(strstr(fsck, "differ") == NULL && strstr(fsck, "rror") == NULL, "%s", fsck);
}

Test(mkimg, default_size_is_64_mib)
{
	char *img = make_good_image("default_size_is_64_mib", NULL), *q = harness_quote(img);
	char *cmd = NULL, *size;

	cr_assert_geq(asprintf(&cmd, "stat -c %%s %s", q), 0);
	size = must_run("stat", cmd);
	cr_assert_str_eq(size, "67108864\n");
}

Test(mkimg, boot_cfg_matches_options)
{
	char *img =
	    make_good_image("boot_cfg_matches_options",
			    "--args 'one \"two three\" four\\ five' --env A=1 --env 'B=x=y z' "
			    "--config on_exit=halt --config log=debug");
	char *q = harness_quote(img), *cmd = NULL, *app = static_app(), *cfg, *want = NULL;
	const char *base = strrchr(app, '/') + 1;

	cr_assert_geq(asprintf(&cmd, "mtype -i %s" ESP " ::/boot.cfg", q), 0);
	cfg = must_run("mtype boot.cfg", cmd);
	cr_assert_geq(asprintf(&want,
			       "# Solo boot configuration, written by tools/mkimg.sh\n"
			       "name=%.*s\n"
			       "args=one \"two three\" four\\ five\n"
			       "env=A=1\n"
			       "env=B=x=y z\n"
			       "on_exit=halt\n"
			       "log=debug\n",
			       (int)(strlen(base) - 4), base),
		      0);
	cr_assert_str_eq(cfg, want);
}

Test(mkimg, name_overrides_argv0)
{
	char *img = make_good_image("name_overrides_argv0", "--name myapp");
	char *q = harness_quote(img), *cmd = NULL, *cfg;

	cr_assert_geq(asprintf(&cmd, "mtype -i %s" ESP " ::/boot.cfg", q), 0);
	cfg = must_run("mtype boot.cfg", cmd);
	cr_assert(harness_has_line(cfg, "name=myapp"), "%s", cfg);
	cr_assert(harness_has_line(cfg, "args="), "%s", cfg);
}

Test(mkimg, rootfs_tar_holds_the_files)
{
	char *motd = fixture("motd", "echo 'welcome to solo' > \"$tmp\"");
	char *dir = fixture("tree", "mkdir -p \"$tmp/sub\" && echo a > \"$tmp/a.txt\" && "
				    "echo b > \"$tmp/sub/b.txt\"");
	char *extra = NULL, *img, *q, *cmd = NULL, *list, *content;

	cr_assert_geq(asprintf(&extra,
			       "--file '%s:/etc/motd' --file '%s:/usr/share/doc/' --file '%s:/srv'",
			       motd, motd, dir),
		      0);
	img = make_good_image("rootfs_tar_holds_the_files", extra);
	q = harness_quote(img);
	cr_assert_geq(asprintf(&cmd,
			       "t=%s.tar && rm -f \"$t\" && mcopy -i %s" ESP
			       " ::/rootfs.tar \"$t\" && "
			       "tar tf \"$t\" && echo format=$(head -c 262 \"$t\" | tail -c 5)",
			       q, q),
		      0);
	list = must_run("mcopy rootfs.tar", cmd);
	cr_assert(harness_has_line(list, "etc/"), "%s", list);
	cr_assert(harness_has_line(list, "etc/motd"), "%s", list);
	cr_assert(harness_has_line(list, "usr/share/doc/motd"), "%s", list);
	cr_assert(harness_has_line(list, "srv/a.txt"), "%s", list);
	cr_assert(harness_has_line(list, "srv/sub/b.txt"), "%s", list);
	assert_contains(list, "format=ustar");
	free(cmd);

	cr_assert_geq(asprintf(&cmd, "mcopy -i %s" ESP " ::/rootfs.tar - | tar xOf - etc/motd", q),
		      0);
	content = must_run("tar xOf", cmd);
	cr_assert_str_eq(content, "welcome to solo\n");
}

Test(mkimg, failed_mkimg_keeps_existing_output)
{
	char *img = make_good_image("failed_mkimg_keeps_existing_output", "--args first");
	char *q = harness_quote(img), *cmd = NULL, *before, *after, *out, *bad = text_file();
	int status;

	cr_assert_geq(asprintf(&cmd, "cksum < %s", q), 0);
	before = must_run("cksum", cmd);
	status = harness_run(&out, "tools/mkimg.sh -o %s --app '%s' --args second", q, bad);
	cr_assert_eq(status, 1, "status %d:\n%s", status, out);
	after = must_run("cksum", cmd);
	cr_assert_str_eq(after, before, "a failed mkimg changed the existing image");
	free(cmd);
	cr_assert_geq(
	    asprintf(&cmd, "ls -a build/tests/img | grep -c '^\\.failed_mkimg_keeps' || true"), 0);
	out = must_run("ls", cmd);
	cr_assert_str_eq(out, "0\n", "a temporary image was left behind");
}

Test(mkimg, uses_build_outputs_by_default)
{
	char *img;

	if (!harness_exists("build/BOOTX64.EFI") || !harness_exists("build/kernel.elf") ||
	    !harness_exists("build/user/demo.elf"))
		cr_skip_test(
		    "build/BOOTX64.EFI, build/kernel.elf or build/user/demo.elf not built yet");
	img = harness_mkimg("uses_build_outputs_by_default", "--args 'x y'");
	cr_assert(harness_exists(img));
}

/* ------------------------------------------------------------ dynamic apps, scripts, formats */

/*
 * Extracts the image's rootfs.tar into a fresh build/tests/img/<name>.root
 * and returns that directory. Its absolute symlinks point at the host's
 * files, so paths in it are resolved with resolve_in, never by the kernel.
 */
static char *extract_rootfs(const char *img, const char *name)
{
	char *dir = harness_path("build/tests/img/%s.root", name), *q = harness_quote(img);
	char *qd = harness_quote(dir), *cmd = NULL, *out;

	cr_assert_geq(asprintf(&cmd,
			       "rm -rf %s && mkdir -p %s && mcopy -i %s" ESP
			       " ::/rootfs.tar - | tar -xf - -C %s",
			       qd, qd, q, qd),
		      0);
	out = must_run("extracting rootfs.tar", cmd);
	free(out), free(cmd), free(q), free(qd);
	return dir;
}

/*
 * resolve_in - the image path path resolved inside root as the guest will:
 * component by component, symlinks followed inside root (an absolute target
 * starts again at root). Writes root + the symlink-free path to out (PATH_MAX
 * bytes) and returns 0, or -1 when a component is missing.
 */
static int resolve_in(const char *root, const char *path, char *out)
{
	char unwalked[PATH_MAX], real[PATH_MAX] = "", probe[PATH_MAX * 2], target[PATH_MAX];
	int links = 0;

	snprintf(unwalked, sizeof(unwalked), "%s", path);
	while (unwalked[0]) {
		char *c = unwalked, *rest;
		size_t clen;
		struct stat st;

		while (*c == '/')
			c++;
		rest = strchr(c, '/');
		clen = rest ? (size_t)(rest - c) : strlen(c);
		if (clen == 0)
			break;
		if (clen == 1 && c[0] == '.') {
			memmove(unwalked, c + 1, strlen(c + 1) + 1);
			continue;
		}
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			char *slash = strrchr(real, '/');

			if (slash)
				*slash = '\0';
			memmove(unwalked, c + 2, strlen(c + 2) + 1);
			continue;
		}
		snprintf(probe, sizeof(probe), "%s%s/%.*s", root, real, (int)clen, c);
		if (lstat(probe, &st) != 0)
			return -1;
		if (S_ISLNK(st.st_mode)) {
			char next[PATH_MAX];
			ssize_t n = readlink(probe, target, sizeof(target) - 1);

			if (n < 0 || ++links > 40)
				return -1;
			target[n] = '\0';
			snprintf(next, sizeof(next), "%s%s", target, c + clen);
			if (target[0] == '/')
				real[0] = '\0';
			snprintf(unwalked, sizeof(unwalked), "%s", next);
			continue;
		}
		snprintf(real + strlen(real), sizeof(real) - strlen(real), "/%.*s", (int)clen, c);
		memmove(unwalked, c + clen, strlen(c + clen) + 1);
	}
	snprintf(out, PATH_MAX, "%s%s", root, real);
	return 0;
}

/* Fails unless the image path is a regular file in root with the bytes of host. */
static void assert_same_in_rootfs(const char *root, const char *path, const char *host)
{
	char real[PATH_MAX], *qr, *qh;
	struct stat st;
	int status;

	cr_assert_eq(resolve_in(root, path, real), 0, "%s is not in the image's rootfs", path);
	cr_assert(stat(real, &st) == 0 && S_ISREG(st.st_mode), "%s is not a file in the rootfs",
		  path);
	qr = harness_quote(real), qh = harness_quote(host);
	status = harness_run(NULL, "cmp -s %s %s", qr, qh);
	cr_assert_eq(status, 0, "%s in the rootfs differs from the host's %s", path, host);
	free(qr), free(qh);
}

/* boot.cfg of an image. */
static char *boot_cfg(const char *img)
{
	char *q = harness_quote(img), *cmd = NULL, *cfg;

	cr_assert_geq(asprintf(&cmd, "mtype -i %s" ESP " ::/boot.cfg", q), 0);
	cfg = must_run("mtype boot.cfg", cmd);
	free(cmd), free(q);
	return cfg;
}

/* mkimg that must succeed; returns its output. */
static char *mkimg_ok(const char *name, const char *extra)
{
	char *out;
	int status = run_mkimg(&out, name, extra);

	cr_assert_eq(status, 0, "mkimg %s: status %d:\n%s", extra, status, out);
	return out;
}

/*
 * The oracle: every path the host's ldd resolves for /usr/bin/python3 (and
 * its interpreter) is in the rootfs with the host's bytes, the app is at its
 * app_path, and mkimg said what it added.
 */
Test(mkimg, python3_closure_is_complete, .timeout = 120)
{
	char *extra = NULL, *out, *ldd, *img, *root, *cfg, *line, *save = NULL;
	int checked = 0;

	if (!harness_exists("/usr/bin/python3"))
		cr_skip_test("/usr/bin/python3 is not installed");
	cr_assert_geq(asprintf(&extra, "--app /usr/bin/python3 --args -V"), 0);
	out = mkimg_ok("python3_closure_is_complete", extra);
	assert_contains(out, "mkimg.sh: added /lib/x86_64-linux-gnu/libc.so.6 (");
	assert_contains(out, "for /usr/bin/python3");
	assert_contains(out, "in all");
	img = harness_path("build/tests/img/python3_closure_is_complete.img");
	cfg = boot_cfg(img);
	cr_assert(harness_has_line(cfg, "app_path=/usr/bin/python3"), "%s", cfg);
	root = extract_rootfs(img, "python3_closure_is_complete");
	assert_same_in_rootfs(root, "/usr/bin/python3", "/usr/bin/python3");

	/* "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and
	 * "\t/lib64/ld-linux-x86-64.so.2 (0x...)". */
	ldd = must_run("ldd", "ldd /usr/bin/python3");
	for (line = strtok_r(ldd, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, "=> "), *path = arrow ? arrow + 3 : line, *end;

		while (*path == '\t' || *path == ' ')
			path++;
		if (*path != '/')
			continue; /* linux-vdso.so.1: the kernel's */
		end = strstr(path, " (");
		if (end)
			*end = '\0';
		assert_same_in_rootfs(root, path, path);
		checked++;
	}
	cr_assert_geq(checked, 3, "ldd resolved only %d files:\n%s", checked, ldd);
	/* Every file's data starts at a 4 KiB boundary of the archive: tar -R
	 * gives each member's header block, the data follows it. */
	{
		char *cmd = NULL, *list, *l, *sp = NULL, *q = harness_quote(img);
		int files = 0;

		cr_assert_geq(
		    asprintf(&cmd, "mcopy -i %s" ESP " ::/rootfs.tar - | tar -tvR -f -", q), 0);
		list = must_run("tar -tvR", cmd);
		for (l = strtok_r(list, "\n", &sp); l; l = strtok_r(NULL, "\n", &sp)) {
			long block;
			char kind;

			if (sscanf(l, "block %ld: %c", &block, &kind) != 2 || kind != '-')
				continue;
			cr_assert_eq((block + 1) * 512 % 4096, 0, "data not 4 KiB aligned: %s", l);
			files++;
		}
		cr_assert_geq(files, 5, "only %d files in rootfs.tar", files);
	}
	/* The interpreter keeps the host's symlink to its real file. */
	{
		char link[PATH_MAX], real[PATH_MAX];

		cr_assert_eq(resolve_in(root, "/lib64/ld-linux-x86-64.so.2", link), 0);
		cr_assert_eq(resolve_in(root, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", real),
			     0);
		cr_assert_str_eq(link, real);
	}
}

/*
 * A musl program: its loader (libc.so behind the /lib/ld-musl-x86_64.so.1
 * symlink), the loader's path file, and a library its DT_RUNPATH finds
 * through $ORIGIN. With --app-path the app moves to /opt/m/m, so $ORIGIN/lib
 * is /opt/m/lib in the guest: mkimg takes it from beside the app on the host
 * and puts it there.
 */
static char *musl_dyn(void)
{
	return fixture("musl-dyn", "mkdir -p \"$tmp/lib\" && cd \"$tmp\" && "
				   "printf 'int foo(void) { return 42; }\\n' > foo.c && "
				   "printf 'int foo(void);\\nint main(void) { return foo(); }\\n' "
				   "> m.c && musl-gcc -shared -fPIC -o lib/libfoo.so.1 foo.c && "
				   "musl-gcc -o m m.c -Llib -l:libfoo.so.1 "
				   "-Wl,-rpath,'$ORIGIN/lib' && rm foo.c m.c");
}

Test(mkimg, musl_dynamic_app_with_origin_runpath)
{
	char *dir = musl_dyn();
	char *extra = NULL, *out, *img, *root, *cfg, *host = NULL;

	cr_assert_geq(asprintf(&extra, "--app '%s/m' --app-path /opt/m/m", dir), 0);
	out = mkimg_ok("musl_dynamic_app_with_origin_runpath", extra);
	assert_contains(out, "added /opt/m/lib/libfoo.so.1 (");
	img = harness_path("build/tests/img/musl_dynamic_app_with_origin_runpath.img");
	cfg = boot_cfg(img);
	cr_assert(harness_has_line(cfg, "app_path=/opt/m/m"), "%s", cfg);
	root = extract_rootfs(img, "musl_dynamic_app_with_origin_runpath");
	cr_assert_geq(asprintf(&host, "%s/lib/libfoo.so.1", dir), 0);
	assert_same_in_rootfs(root, "/opt/m/lib/libfoo.so.1", host);
	assert_same_in_rootfs(root, "/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-x86_64.so.1");
	if (harness_exists("/etc/ld-musl-x86_64.path"))
		assert_same_in_rootfs(root, "/etc/ld-musl-x86_64.path", "/etc/ld-musl-x86_64.path");
}

/*
 * A musl plugin that --file puts beside a musl app is looked at with musl's
 * rules: its libc.so is the loader itself (no warning, nothing added) and
 * its DT_RUNPATH $ORIGIN/../plib finds libbaz.so.1 beside the tree's source
 * on the host.
 */
Test(mkimg, musl_file_object_gets_its_libraries_by_musl_rules)
{
	char *app = musl_dyn();
	char *dir =
	    fixture("musl-plugin",
		    "mkdir -p \"$tmp/plugins\" \"$tmp/plib\" && cd \"$tmp\" && "
		    "printf 'int baz(void) { return 7; }\\n' > b.c && "
		    "musl-gcc -shared -fPIC -Wl,-soname,libbaz.so.1 -o plib/libbaz.so.1 b.c && "
		    "printf 'int baz(void);\\nint p(void) { return baz(); }\\n' > p.c && "
		    "musl-gcc -shared -fPIC -o plugins/p.so p.c -Lplib -l:libbaz.so.1 "
		    "-Wl,-rpath,'$ORIGIN/../plib' && rm b.c p.c");
	char *extra = NULL, *out, *root, *host = NULL;

	cr_assert_geq(
	    asprintf(&extra, "--app '%s/m' --app-path /opt/m/m --file '%s/plugins:/opt/m/plugins'",
		     app, dir),
	    0);
	out = mkimg_ok("musl_file_object", extra);
	assert_contains(out, "mkimg.sh: added /opt/m/plib/libbaz.so.1 (");
	assert_contains(out, ") for /opt/m/plugins/p.so\n");
	cr_assert(strstr(out, "warning") == NULL, "%s", out);
	root = extract_rootfs(harness_path("build/tests/img/musl_file_object.img"),
			      "musl_file_object");
	cr_assert_geq(asprintf(&host, "%s/plib/libbaz.so.1", dir), 0);
	assert_same_in_rootfs(root, "/opt/m/plib/libbaz.so.1", host);
}

/* A program linked against a library that is then hidden: refused by name. */
Test(mkimg, missing_library_is_refused_by_name)
{
	char *app = fixture("needs-libgone.elf",
			    "d=\"$tmp.d\" && mkdir -p \"$d\" && "
			    "printf 'int gone(void) { return 1; }\\n' > \"$d/g.c\" && "
			    "printf 'int gone(void);\\nint main(void) { return gone(); }\\n' "
			    "> \"$d/m.c\" && gcc -shared -fPIC -Wl,-soname,libgone.so.1 "
			    "-o \"$d/libgone.so.1\" \"$d/g.c\" && "
			    "gcc -o \"$tmp\" \"$d/m.c\" -L\"$d\" -l:libgone.so.1; "
			    "rc=$?; rm -rf \"$d\"; exit $rc");
	char *extra = NULL;

	cr_assert_geq(asprintf(&extra, "--app '%s' --app-path /bin/needs-libgone", app), 0);
	expect_refusal("missing_library_is_refused_by_name", extra, 1,
		       "libgone.so.1 (needed by /bin/needs-libgone) not found in ");
}

/* The same file twice (two --file, or a --file and a library mkimg adds) is
 * fine; a different file at the same path is refused by name. */
Test(mkimg, duplicate_file_same_ok_different_refused)
{
	char *motd = fixture("motd", "echo 'welcome to solo' > \"$tmp\"");
	char *other = text_file(), *dyn = dynamic_app(), *extra = NULL, *out, *img, *root;
	char libc[PATH_MAX];

	cr_assert(realpath("/lib/x86_64-linux-gnu/libc.so.6", libc), "no host libc.so.6");
	cr_assert_geq(asprintf(&extra,
			       "--app '%s' --file '%s:/etc/motd' --file '%s:/etc/' "
			       "--file '%s:/lib/x86_64-linux-gnu/libc.so.6'",
			       dyn, motd, motd, libc),
		      0);
	out = mkimg_ok("duplicate_file_same_ok", extra);
	cr_assert(strstr(out, "added /lib/x86_64-linux-gnu/libc.so.6") == NULL,
		  "libc.so.6 from --file was added again:\n%s", out);
	img = harness_path("build/tests/img/duplicate_file_same_ok.img");
	root = extract_rootfs(img, "duplicate_file_same_ok");
	assert_same_in_rootfs(root, "/lib/x86_64-linux-gnu/libc.so.6", libc);
	assert_same_in_rootfs(root, "/etc/motd", motd);
	free(extra);

	cr_assert_geq(asprintf(&extra, "--file '%s:/etc/motd' --file '%s:/etc/motd'", motd, other),
		      0);
	expect_refusal("duplicate_file_different_refused", extra, 1,
		       "a different file is already at /etc/motd");
	free(extra);
	cr_assert_geq(
	    asprintf(&extra, "--app '%s' --file '%s:/lib/x86_64-linux-gnu/libc.so.6'", dyn, other),
	    0);
	expect_refusal("duplicate_library_different_refused", extra, 1,
		       "a different file is already at /lib/x86_64-linux-gnu/libc.so.6");
}

/* Scripts: warned about when the interpreter is missing or is env; with the
 * interpreter in the image, its closure comes along. */
Test(mkimg, script_interpreter_warnings_and_closure, .timeout = 120)
{
	char *py = fixture("hello.py", "printf '#!/usr/bin/python3 -u\\nprint(1)\\n' > \"$tmp\"");
	char *envpy = fixture("env.py", "printf '#!/usr/bin/env python3\\nprint(1)\\n' > \"$tmp\"");
	char *extra = NULL, *out, *img, *q, *cmd = NULL, *esp_app, *cfg, *root;

	cr_assert_geq(asprintf(&extra, "--app '%s'", py), 0);
	out = mkimg_ok("script_without_interpreter", extra);
	assert_contains(out, "mkimg.sh: warning: hello.py starts with #!/usr/bin/python3, which is "
			     "not in the image");
	img = harness_path("build/tests/img/script_without_interpreter.img");
	cfg = boot_cfg(img);
	assert_contains(cfg, "app_path=/");
	assert_contains(cfg, "/hello.py\n");
	q = harness_quote(img);
	cr_assert_geq(asprintf(&cmd, "mtype -i %s" ESP " ::/app.elf", q), 0);
	esp_app = must_run("mtype app.elf", cmd);
	cr_assert_str_eq(esp_app, "#!/usr/bin/python3 -u\nprint(1)\n");
	free(extra);

	cr_assert_geq(asprintf(&extra, "--app '%s'", envpy), 0);
	out = mkimg_ok("script_with_env", extra);
	assert_contains(out, "starts with #!/usr/bin/env python3: Solo has no PATH search at exec");
	free(extra);

	if (!harness_exists("/usr/bin/python3"))
		cr_skip_test("/usr/bin/python3 is not installed");
	cr_assert_geq(asprintf(&extra, "--app '%s' --file /usr/bin/python3:/usr/bin/python3", py),
		      0);
	out = mkimg_ok("script_with_interpreter", extra);
	cr_assert(strstr(out, "warning") == NULL, "%s", out);
	assert_contains(out, "added /lib/x86_64-linux-gnu/libc.so.6 (");
	root = extract_rootfs(harness_path("build/tests/img/script_with_interpreter.img"),
			      "script_with_interpreter");
	assert_same_in_rootfs(root, "/usr/bin/python3", "/usr/bin/python3");
	assert_same_in_rootfs(root, "/lib/x86_64-linux-gnu/libc.so.6",
			      "/lib/x86_64-linux-gnu/libc.so.6");
	assert_same_in_rootfs(root, "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2");
}

/* --app names a file inside a --file DIR:/ tree: taken from there, at its path. */
Test(mkimg, app_inside_a_file_tree)
{
	char *app = static_app(), *tree, *make = NULL, *extra = NULL, *img, *q, *cmd = NULL, *cfg;
	char *qa = harness_quote(app), *sum_app, *sum_esp;

	cr_assert_geq(
	    asprintf(&make, "mkdir -p \"$tmp/usr/bin\" && cp %s \"$tmp/usr/bin/hello\"", qa), 0);
	tree = fixture("approot", make);
	cr_assert_geq(asprintf(&extra, "--file '%s:/' --app /usr/bin/hello", tree), 0);
	free(mkimg_ok("app_inside_a_file_tree", extra));
	img = harness_path("build/tests/img/app_inside_a_file_tree.img");
	cfg = boot_cfg(img);
	cr_assert(harness_has_line(cfg, "app_path=/usr/bin/hello"), "%s", cfg);
	cr_assert(harness_has_line(cfg, "name=hello"), "%s", cfg);
	q = harness_quote(img);
	cr_assert_geq(asprintf(&cmd, "mcopy -i %s" ESP " ::/app.elf - | cksum", q), 0);
	sum_esp = must_run("cksum app.elf", cmd);
	free(cmd);
	/* The tree's copy (the fixture outlives rebuilds of the static app). */
	cr_assert_geq(asprintf(&cmd, "cksum < '%s/usr/bin/hello'", tree), 0);
	sum_app = must_run("cksum app", cmd);
	cr_assert_str_eq(sum_esp, sum_app);
}

/*
 * A tree of tens of MiB builds in seconds and the image grows to fit. With
 * python3 as the app, the C extension modules in the tree bring their
 * libraries (lib-dynload's _sqlite3 brings libsqlite3.so.0). The oracle:
 * every path the host's ldd resolves for any of them is in the rootfs with
 * the host's bytes, and a library ldd cannot find is a warning, not a
 * refusal.
 */
Test(mkimg, large_tree_grows_the_image_and_brings_its_modules_libraries, .timeout = 300)
{
	static const char tree[] = "/usr/lib/python3.11";
	char *out, *img, *q, *cmd = NULL, *size, *root, *ldd, *line, *save = NULL;
	int status, checked = 0;

	if (!harness_exists("/usr/bin/python3") ||
	    !harness_exists("/usr/lib/python3.11/json/__init__.py"))
		cr_skip_test("/usr/bin/python3 or /usr/lib/python3.11 is not installed");
	img = image_path("large_tree");
	q = harness_quote(img);
	status = harness_run(&out,
			     "s=$(date +%%s%%N) && tools/mkimg.sh -o %s --efi '%s' --kernel '%s' "
			     "--app /usr/bin/python3 --file %s:%s && "
			     "echo took=$((($(date +%%s%%N) - s) / 1000000)) ms",
			     q, fake_stub(), fake_kernel(), tree, tree);
	cr_assert_eq(status, 0, "%s", out);
	cr_log_info("mkimg with %s: %s", tree, strstr(out, "took="));
	assert_contains(out, "mkimg.sh: added /lib/x86_64-linux-gnu/libsqlite3.so.0 (");
	assert_contains(out, ") for /usr/lib/python3.11/lib-dynload/"
			     "_sqlite3.cpython-311-x86_64-linux-gnu.so\n");
	assert_contains(out, " of them for --file objects)");
	cr_assert_geq(asprintf(&cmd, "echo $(($(stat -c %%s %s) / 1048576))", q), 0);
	size = must_run("stat", cmd);
	cr_assert_gt(atoi(size), 64, "image is %s MiB: it did not grow", size);
	root = extract_rootfs(img, "large_tree");
	assert_same_in_rootfs(root, "/usr/lib/python3.11/json/__init__.py",
			      "/usr/lib/python3.11/json/__init__.py");

	/* "\tlibsqlite3.so.0 => /lib/x86_64-linux-gnu/libsqlite3.so.0 (0x...)",
	 * "\tlibfoo.so.1 => not found"; one line per library, sorted. */
	free(cmd);
	cr_assert_geq(asprintf(&cmd,
			       "find %s -type f -name '*.so' -exec ldd {} + 2>/dev/null | "
			       "sed -nE -e 's@^\\s*(\\S+ => )?(/\\S+) \\(0x.*@\\2@p' "
			       "-e 's@^\\s*(\\S+) => not found.*@missing \\1@p' | sort -u",
			       tree),
		      0);
	ldd = must_run("ldd of the extension modules", cmd);
	for (line = strtok_r(ldd, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "missing ", 8)) {
			char *want = harness_format("mkimg.sh: warning: %s (needed by ", line + 8);

			assert_contains(out, want);
			continue;
		}
		assert_same_in_rootfs(root, line, line);
		checked++;
	}
	cr_assert_geq(checked, 10, "ldd resolved only %d files:\n%s", checked, ldd);
}

/*
 * The objects --file puts in the image are looked at with the app's loader's
 * rules: plugins/uses-sib.so's DT_RUNPATH $ORIGIN/../lib names a directory
 * that is not in the --file tree, so libsib.so.1 comes from beside the
 * tree's source on the host and goes to /opt/lib; plugins/needs-gone.so
 * needs a library that is nowhere, which is warned about by name and the
 * image is still written. A static app has no loader: the tree is left as
 * it is.
 */
Test(mkimg, file_objects_bring_their_libraries_and_a_missing_one_is_a_warning)
{
	char *dir = fixture(
	    "tree-objs",
	    "mkdir -p \"$tmp/opt/plugins\" \"$tmp/opt/lib\" \"$tmp/gone\" && cd \"$tmp\" && "
	    "printf 'int gone(void) { return 1; }\\n' > g.c && "
	    "gcc -shared -fPIC -Wl,-soname,libgone.so.1 -o gone/libgone.so.1 g.c && "
	    "printf 'int gone(void);\\nint f(void) { return gone(); }\\n' > n.c && "
	    "gcc -shared -fPIC -o opt/plugins/needs-gone.so n.c -Lgone -l:libgone.so.1 && "
	    "printf 'int sib(void) { return 2; }\\n' > s.c && "
	    "gcc -shared -fPIC -Wl,-soname,libsib.so.1 -o opt/lib/libsib.so.1 s.c && "
	    "printf 'int sib(void);\\nint h(void) { return sib(); }\\n' > u.c && "
	    "gcc -shared -fPIC -o opt/plugins/uses-sib.so u.c -Lopt/lib -l:libsib.so.1 "
	    "-Wl,-rpath,'$ORIGIN/../lib' && rm -rf gone g.c n.c s.c u.c");
	char *dyn = dynamic_app(), *extra = NULL, *out, *root, *host = NULL, real[PATH_MAX];

	cr_assert_geq(asprintf(&extra, "--app '%s' --file '%s/opt/plugins:/opt/p'", dyn, dir), 0);
	out = mkimg_ok("file_objects_dynamic_app", extra);
	assert_contains(out, "mkimg.sh: added /opt/lib/libsib.so.1 (");
	assert_contains(out, ") for /opt/p/uses-sib.so\n");
	assert_contains(out, "mkimg.sh: warning: libgone.so.1 (needed by /opt/p/needs-gone.so) "
			     "not found in ");
	root = extract_rootfs(harness_path("build/tests/img/file_objects_dynamic_app.img"),
			      "file_objects_dynamic_app");
	cr_assert_geq(asprintf(&host, "%s/opt/lib/libsib.so.1", dir), 0);
	assert_same_in_rootfs(root, "/opt/lib/libsib.so.1", host);
	cr_assert_neq(resolve_in(root, "/opt/p/needs-gone.so", real), -1);
	free(extra);

	cr_assert_geq(asprintf(&extra, "--file '%s/opt/plugins:/opt/p'", dir), 0);
	out = mkimg_ok("file_objects_static_app", extra);
	cr_assert(strstr(out, "warning") == NULL && strstr(out, "added") == NULL, "%s", out);
}

/* Every --format is what qemu-img reads back; a bad one is a usage error. */
Test(mkimg, formats_are_recognised_by_qemu_img, .timeout = 120)
{
	static const char *const formats[] = {"qcow2", "vmdk", "vhdx", "vdi"};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char *name = harness_format("format_%s", formats[i]);
		char *extra = harness_format("--format %s", formats[i]);
		char *img, *q, *cmd = NULL, *info, *want = NULL;

		free(mkimg_ok(name, extra));
		img = harness_path("build/tests/img/%s.img", name);
		q = harness_quote(img);
		cr_assert_geq(asprintf(&cmd, "qemu-img info --output=json %s", q), 0);
		info = must_run("qemu-img info", cmd);
		cr_assert_geq(asprintf(&want, "\"format\": \"%s\"", formats[i]), 0);
		assert_contains(info, want);
	}
	expect_refusal("format_bad", "--format iso", 2, "--format is one of raw, qcow2");
}

/* A qcow2 image boots (qemu.sh finds the format itself). */
Test(mkimg, qcow2_image_boots, .timeout = 180)
{
	char *img, *log;
	int status;

	if (!harness_exists("build/BOOTX64.EFI") || !harness_exists("build/kernel.elf") ||
	    !harness_exists("build/user/demo.elf"))
		cr_skip_test(
		    "build/BOOTX64.EFI, build/kernel.elf or build/user/demo.elf not built");
	img = harness_mkimg("mkimg_qcow2_boots", "--format qcow2 --args 'qcow2 ok'");
	log = harness_boot(img, NULL, 150, &status);
	harness_assert_exit(log, status, 0);
	assert_contains(log, "qcow2 ok");
}
