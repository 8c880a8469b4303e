/*
 * The stub's SHA-256 (efi/sha256.c) against FIPS 180-4's examples and
 * sha256sum, and its manifest check (efi/manifest.c): every way a file can
 * differ from the signed one is refused.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efi/manifest.h"
#include "efi/sha256.h"

static void hex(const uint8_t *d, char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void expect(const void *data, size_t size, const char *want)
{
	uint8_t d[32];
	char got[65];

	sha256(data, size, d);
	hex(d, got);
	cr_assert_str_eq(got, want, "%zu bytes", size);
}

Test(sha256, fips_180_examples)
{
	expect("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	expect(two, strlen(two),
	       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *million = malloc(1000000);
	memset(million, 'a', 1000000);
	expect(million, 1000000,
	       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

/* Random data against the host's sha256sum, every length around the block
 * and padding edges, fed in random pieces. */
Test(sha256, agrees_with_sha256sum_in_any_pieces)
{
	static uint8_t buf[4096];
	srand(11);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t len = 0; len < 300; len += (len < 130 ? 1 : 17)) {
		FILE *f = fopen("build/tests/sha256.in", "wb");
		cr_assert_not_null(f);
		fwrite(buf, 1, len, f);
		fclose(f);
		char want[65] = "";
		FILE *p = popen("sha256sum build/tests/sha256.in", "r");
		cr_assert_not_null(p);
		cr_assert_eq(fscanf(p, "%64s", want), 1);
		pclose(p);

		struct sha256 ctx;
		uint8_t d[32];
		char got[65];
		sha256_init(&ctx);
		for (size_t done = 0; done < len;) {
			size_t n = 1 + rand() % 100;
			if (n > len - done)
				n = len - done;
			sha256_update(&ctx, buf + done, n);
			done += n;
		}
		sha256_final(&ctx, d);
		hex(d, got);
		cr_assert_str_eq(got, want, "length %zu", len);
	}
}

static struct solo_manifest signed_for(const char *kernel, const char *cfg)
{
	struct solo_manifest m = {.magic = SOLO_MANIFEST_MAGIC, .armed = 1, .count = 2};

	strcpy(m.files[0].name, "kernel.elf");
	m.files[0].present = 1;
	m.files[0].size = strlen(kernel);
	sha256(kernel, strlen(kernel), m.files[0].sha256);
	strcpy(m.files[1].name, "boot.cfg");
	if (cfg) {
		m.files[1].present = 1;
		m.files[1].size = strlen(cfg);
		sha256(cfg, strlen(cfg), m.files[1].sha256);
	}
	return m;
}

Test(manifest, unarmed_checks_nothing)
{
	struct solo_manifest m = {.magic = SOLO_MANIFEST_MAGIC};

	cr_assert_null(manifest_check(&m, "kernel.elf", "x", 1));
	cr_assert_null(manifest_check(&m, "anything", NULL, 0));
}

Test(manifest, the_signed_bytes_pass_and_every_change_is_refused)
{
	struct solo_manifest m = signed_for("KERNEL", "log=info\n");

	cr_assert_null(manifest_check(&m, "kernel.elf", "KERNEL", 6));
	cr_assert_null(manifest_check(&m, "boot.cfg", "log=info\n", 9));
	cr_assert_not_null(manifest_check(&m, "kernel.elf", "KERNEl", 6), "one byte");
	cr_assert_not_null(manifest_check(&m, "kernel.elf", "KERNEL!", 7), "longer");
	cr_assert_not_null(manifest_check(&m, "kernel.elf", "KERNEL", 5), "shorter");
	cr_assert_not_null(manifest_check(&m, "kernel.elf", NULL, 0), "missing");
	cr_assert_not_null(manifest_check(&m, "boot.cfg", "log=debug\n", 10), "edited");
	cr_assert_not_null(manifest_check(&m, "rootfs.tar", "tar", 3), "not listed");
	cr_assert_not_null(manifest_check(&m, "rootfs.tar", NULL, 0), "not listed, absent");
	cr_assert_not_null(manifest_check(&m, "kernel.el", "KERNEL", 6), "a prefix of a name");
	cr_assert_not_null(manifest_check(&m, "kernel.elf2", "KERNEL", 6), "a longer name");
}

Test(manifest, a_file_signed_as_absent_must_stay_absent)
{
	struct solo_manifest m = signed_for("KERNEL", NULL);

	cr_assert_null(manifest_check(&m, "boot.cfg", NULL, 0));
	cr_assert_str_eq(manifest_check(&m, "boot.cfg", "strace=1\n", 9),
			 "it is not part of the signed image");
}

Test(manifest, a_malformed_armed_manifest_refuses_everything)
{
	struct solo_manifest m = signed_for("KERNEL", "x");

	m.count = SOLO_MANIFEST_FILES + 1;
	cr_assert_not_null(manifest_check(&m, "kernel.elf", "KERNEL", 6));
	m = signed_for("KERNEL", "x");
	m.armed = 2;
	cr_assert_not_null(manifest_check(&m, "kernel.elf", "KERNEL", 6));
	/* A name that fills its field has no terminator: never a match. */
	m = signed_for("KERNEL", "x");
	memset(m.files[0].name, 'k', SOLO_MANIFEST_NAME_SIZE);
	cr_assert_not_null(manifest_check(&m, "kkkkkkkkkkkkkkkk", "KERNEL", 6));
}
