/*
 * Secure Boot under OVMF with it enforced (tools/qemu.sh --secure-boot:
 * OVMF_CODE_4M.secboot.fd, SMM on): Debian's snakeoil variables have the
 * snakeoil certificate as PK, KEK and db, so an image signed with its key
 * (mkimg.sh --sign) must boot, an unsigned one must be refused by the
 * firmware, and a signed one whose files were edited afterwards (with
 * mtools, as anyone holding the stick could) must be refused by the stub.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define SNAKEOIL_CERT "/usr/share/ovmf/PkKek-1-snakeoil.pem"
#define SNAKEOIL_KEY  "build/tests/snakeoil.key"
#define SIGN_ARGS     "--sign " SNAKEOIL_KEY " --cert " SNAKEOIL_CERT
#define BOOT_TIMEOUT  120

/* Debian ships the snakeoil key encrypted (passphrase "snakeoil"). */
static void snakeoil_key(void)
{
	char *out = NULL;
	int rc = harness_run(&out, "test -s " SNAKEOIL_KEY " || { mkdir -p build/tests && "
				   "openssl pkey -in /usr/share/ovmf/PkKek-1-snakeoil.key "
				   "-passin pass:snakeoil -out " SNAKEOIL_KEY
				   ".tmp && mv " SNAKEOIL_KEY ".tmp " SNAKEOIL_KEY "; }");
	cr_assert_eq(rc, 0, "cannot decrypt the snakeoil key: %s", out);
	free(out);
}

Test(secboot, a_signed_image_boots_with_secure_boot_enforced)
{
	int status;

	snakeoil_key();
	char *image =
	    harness_mkimg("sb-signed", "--app build/tests/apps/hello.elf --args 'a b' "
				       "--file tests/real/data/poem.txt:/srv/ " SIGN_ARGS);
	char *log = harness_boot(image, "--secure-boot snakeoil", BOOT_TIMEOUT, &status);

	cr_assert(harness_has_line(log, "solo: stub: signed image: every file matches its SHA-256"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "argv[2]=<b>"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(image);
	free(log);
}

Test(secboot, the_firmware_refuses_an_unsigned_image)
{
	char *image = harness_mkimg("sb-unsigned", "--app build/tests/apps/hello.elf");
	char *log =
	    harness_boot_until("sb-unsigned", image, "--secure-boot snakeoil", "Access Denied", 60);

	cr_assert(strstr(log, "Access Denied"), "OVMF must refuse to load the stub:\n%s", log);
	cr_assert(!strstr(log, "solo: stub"), "the stub must not run:\n%s", log);
	free(image);
	free(log);
}

/* Each file the stub loads, edited after signing: the stub names it and
 * refuses; the kernel never starts. One image, one file changed per boot. */
static void refused_when_changed(const char *file, const char *replacement)
{
	char *name = harness_format("sb-changed-%s", file);
	char *image;
	char *out = NULL;

	snakeoil_key();
	image = harness_mkimg(name, "--app build/tests/apps/hello.elf "
				    "--file tests/real/data/poem.txt:/srv/ " SIGN_ARGS);
	int rc = harness_run(&out,
			     "%s > build/tests/img/%s.new && "
			     "mcopy -o -i %s@@1M build/tests/img/%s.new ::/%s",
			     replacement, name, image, name, file);
	cr_assert_eq(rc, 0, "mcopy: %s", out);
	char *want =
	    harness_format("solo: stub: \\%s was changed after this image was signed", file);
	char *log =
	    harness_boot_until(name, image, "--secure-boot snakeoil", "Refusing to boot", 60);

	cr_assert(strstr(log, want), "the stub must name %s:\n%s", file, log);
	cr_assert(!strstr(log, "solo: Solo "), "the kernel must not start:\n%s", log);
	cr_assert(!strstr(log, "solo: exit"), "log:\n%s", log);
	free(want);
	free(out);
	free(image);
	free(name);
	free(log);
}

Test(secboot, the_stub_refuses_a_changed_boot_cfg_or_rootfs)
{
	/* The same keys, one more: enough to turn on the syscall log. */
	refused_when_changed("boot.cfg", "{ mtype -i build/tests/img/sb-changed-boot.cfg.img@@1M "
					 "::/boot.cfg; echo strace=1; }");
	/* One byte of a file's data, the size unchanged: only the hash tells. */
	refused_when_changed("rootfs.tar", "mtype -i build/tests/img/sb-changed-rootfs.tar.img@@1M "
					   "::/rootfs.tar | perl -0777 -pe 's/\\n(\\w)/\\nX/'");
}

Test(secboot, the_stub_refuses_a_changed_kernel_or_app)
{
	refused_when_changed("kernel.elf", "perl -0777 -pe 's/Solo/Sol0/' build/kernel.elf");
	refused_when_changed("app.elf", "cat build/tests/apps/exit3.elf");
}

/*
 * The own-keys route a user follows: tools/keys.sh makes PK, KEK and db,
 * its enroller (efi/enroll/enroll.c) puts them into OVMF's blank variables
 * under QEMU (the same image a PC boots from a stick), and then an image
 * signed with db boots while one signed with another key (snakeoil) is
 * refused by the firmware.
 */
Test(secboot, own_keys_enrolled_by_keys_sh_admit_only_their_images, .timeout = 300)
{
	char *out = NULL;
	int status;

	snakeoil_key();
	int rc = harness_run(&out, "rm -rf build/tests/own-keys build/tests/own-vars.fd && "
				   "tools/keys.sh --name 'Solo test' --ovmf-vars "
				   "build/tests/own-vars.fd build/tests/own-keys");
	cr_assert_eq(rc, 0, "keys.sh: %s", out);
	free(out);
	char *image = harness_mkimg("sb-own", "--app build/tests/apps/hello.elf --sign "
					      "build/tests/own-keys/db.key --cert "
					      "build/tests/own-keys/db.crt");
	char *log =
	    harness_boot(image, "--secure-boot build/tests/own-vars.fd", BOOT_TIMEOUT, &status);
	cr_assert(harness_has_line(log, "solo: stub: signed image: every file matches its SHA-256"),
		  "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
	free(image);

	image = harness_mkimg("sb-own-other", "--app build/tests/apps/hello.elf " SIGN_ARGS);
	log = harness_boot_until("sb-own-other", image, "--secure-boot build/tests/own-vars.fd",
				 "Access Denied", 60);
	cr_assert(strstr(log, "Access Denied"), "a snakeoil-signed stub must be refused:\n%s", log);
	cr_assert(!strstr(log, "solo: stub"), "log:\n%s", log);
	free(image);
	free(log);
}

/* ---------------------------------------------------------------- shim */

/*
 * The shim route on a PC that trusts only Microsoft's keys (OVMF's ms
 * variables): the image from mkimg --shim boots Debian's Microsoft-signed
 * shim, which refuses the stub (signed with the user's key, unknown to it)
 * and offers MokManager; the user enrolls \solo.cer there once (the keys
 * below are the README's steps) and MokManager reboots; from then on shim
 * admits the stub and Solo runs.
 */
Test(secboot, shim_with_microsofts_keys_runs_solo_once_its_key_is_enrolled, .timeout = 400)
{
	const char *log1 = "build/tests/log/sb-shim-enroll.log", *sock = "build/tests/sb-shim.sock";
	const char *vars = "build/tests/sb-shim-vars.fd", *pidfile = "build/tests/sb-shim.pid";
	int status;

	/* Signed with snakeoil, which the ms variables do not hold either. */
	snakeoil_key();
	char *image =
	    harness_mkimg("sb-shim", "--app build/tests/apps/hello.elf --sign " SNAKEOIL_KEY
				     " --cert " SNAKEOIL_CERT " --shim");
	unlink(log1);
	unlink(sock);
	unlink(vars);
	unlink(pidfile);
	char *cmd =
	    harness_format("exec tools/qemu.sh %s --secure-boot ms --serial %s --monitor %s "
			   "--keep-vars %s --timeout 240 --qemu-arg -pidfile --qemu-arg %s "
			   ">/dev/null 2>&1",
			   image, log1, sock, vars, pidfile);
	pid_t pid = harness_start(cmd);

	size_t at =
	    harness_wait_text(log1, "Verification failed: (0x1A) Security Violation", 0, 120);
	sleep(1);
	harness_press_keys(sock, (const char *const[]){"ret", NULL});
	at = harness_wait_text(log1, "Press any key to perform MOK management", at, 60);
	harness_press_keys(sock, (const char *const[]){"ret", NULL});
	at = harness_wait_text(log1, "Enroll key from disk", at, 30);
	harness_press_keys(sock, (const char *const[]){"down", "ret", NULL});
	at = harness_wait_text(log1, "Select Key", at, 30);
	harness_press_keys(sock, (const char *const[]){"ret", NULL}); /* the volume */
	at = harness_wait_text(log1, "solo.cer", at, 30);
	harness_press_keys(sock, (const char *const[]){"ret", NULL}); /* solo.cer, first */
	at = harness_wait_text(log1, "[Enroll MOK]", at, 30);
	harness_press_keys(sock, (const char *const[]){"down", "ret", NULL}); /* Continue */
	at = harness_wait_text(log1, "Enroll the key(s)?", at, 30);
	harness_press_keys(sock, (const char *const[]){"down", "ret", NULL}); /* Yes */
	at = harness_wait_text(log1, "Reboot", at, 30);
	harness_press_keys(sock, (const char *const[]){"ret", NULL});
	/* The reboot ends QEMU (-no-reboot); qemu.sh keeps the variables. */
	cr_assert_neq(harness_stop(pid, pidfile, 30), -1, "MokManager's reboot did not end QEMU");
	cr_assert(harness_exists(vars), "no variables kept");

	char *opts = harness_format("--secure-boot %s", vars);
	char *log = harness_boot(image, opts, BOOT_TIMEOUT, &status);
	cr_assert(harness_has_line(log, "solo: stub: signed image: every file matches its SHA-256"),
		  "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(opts);
	free(log);
	free(cmd);
	free(image);
}
