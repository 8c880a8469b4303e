/* elf_check: the validation shared by the stub, the kernel loader and mkimg. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/elf.h"

/* A minimal valid app: header, two program headers, one page of "code". */
struct fake_elf {
	struct elf64_ehdr eh;
	struct elf64_phdr ph[3];
	unsigned char body[4096];
} __attribute__((aligned(8)));

static struct fake_elf make_app(void)
{
	struct fake_elf f;

	memset(&f, 0, sizeof(f));
	memcpy(f.eh.e_ident,
	       "\x7f"
	       "ELF",
	       4);
	f.eh.e_ident[4] = 2;
	f.eh.e_ident[5] = 1;
	f.eh.e_ident[6] = 1;
	f.eh.e_type = ELF_ET_EXEC;
	f.eh.e_machine = 62;
	f.eh.e_version = 1;
	f.eh.e_entry = 0x401000;
	f.eh.e_phoff = offsetof(struct fake_elf, ph);
	f.eh.e_ehsize = sizeof(f.eh);
	f.eh.e_phentsize = sizeof(struct elf64_phdr);
	f.eh.e_phnum = 2;
	f.ph[0] = (struct elf64_phdr){.p_type = ELF_PT_LOAD,
				      .p_flags = ELF_PF_R | ELF_PF_X,
				      .p_offset = 0,
				      .p_vaddr = 0x400000,
				      .p_filesz = sizeof(f),
				      .p_memsz = 0x2000,
				      .p_align = 0x1000};
	f.ph[1] = (struct elf64_phdr){.p_type = ELF_PT_LOAD,
				      .p_flags = ELF_PF_R | ELF_PF_W,
				      .p_offset = 0,
				      .p_vaddr = 0x600000,
				      .p_filesz = 16,
				      .p_memsz = 0x5000,
				      .p_align = 0x1000};
	return f;
}

static int check(struct fake_elf *f, enum elf_target t, const char **why)
{
	struct elf_image img;
	return elf_check(f, sizeof(*f), t, &img, why);
}

Test(elf, accepts_a_static_executable)
{
	struct fake_elf f = make_app();
	struct elf_image img;
	const char *why = NULL;

	cr_assert_eq(elf_check(&f, sizeof(f), ELF_TARGET_APP, &img, &why), 0, "%s", why);
	cr_assert_eq(img.vaddr_min, 0x400000);
	cr_assert_eq(img.vaddr_max, 0x605000);
	cr_assert_eq(img.phdr_vaddr, 0x400000 + offsetof(struct fake_elf, ph));
	cr_assert_eq(img.entry, 0x401000);
}

Test(elf, rejects_bad_magic)
{
	struct fake_elf f = make_app();
	const char *why;

	f.eh.e_ident[1] = 'X';
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
	cr_assert(strstr(why, "not an ELF"));
}

Test(elf, rejects_32bit_with_a_clear_reason)
{
	struct fake_elf f = make_app();
	const char *why;

	f.eh.e_ident[4] = 1;
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
	cr_assert(strstr(why, "32-bit"), "%s", why);
}

Test(elf, rejects_other_machines)
{
	struct fake_elf f = make_app();
	const char *why;

	f.eh.e_machine = 183; /* aarch64 */
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
	cr_assert(strstr(why, "x86-64"), "%s", why);
}

/* A dynamic program: PT_INTERP naming path (with its NUL) in the body. */
static struct fake_elf make_dynamic(const char *path, size_t len)
{
	struct fake_elf f = make_app();

	memcpy(f.body, path, len);
	f.ph[2] = (struct elf64_phdr){
	    .p_type = ELF_PT_INTERP, .p_offset = offsetof(struct fake_elf, body), .p_filesz = len};
	f.eh.e_phnum = 3;
	return f;
}

Test(elf, reports_the_interpreter_of_a_dynamic_program)
{
	static const char ld[] = "/lib64/ld-linux-x86-64.so.2";
	struct fake_elf f = make_dynamic(ld, sizeof(ld));
	struct elf_image img;
	const char *why = NULL;

	cr_assert_eq(elf_check(&f, sizeof(f), ELF_TARGET_APP, &img, &why), 0, "%s", why);
	cr_assert_str_eq(img.interp, ld);
	cr_assert_eq((const void *)img.interp, (const void *)f.body, "points into the file");
	f = make_app();
	cr_assert_eq(elf_check(&f, sizeof(f), ELF_TARGET_APP, &img, &why), 0, "%s", why);
	cr_assert_null(img.interp, "a static program has none");
}

static void assert_interp_refused(struct fake_elf *f, const char *reason)
{
	const char *why = "";

	cr_assert_neq(check(f, ELF_TARGET_APP, &why), 0, "accepted, expected: %s", reason);
	cr_assert(strstr(why, reason), "why \"%s\", expected \"%s\"", why, reason);
}

Test(elf, refuses_a_bad_interpreter_path)
{
	struct fake_elf f = make_dynamic("/lib/ld.so", 10); /* no NUL */
	assert_interp_refused(&f, "not NUL-terminated");
	f = make_dynamic("lib/ld.so", 10);
	assert_interp_refused(&f, "not absolute");
	f = make_dynamic("/lib\0/ld.so", 12);
	assert_interp_refused(&f, "NUL byte inside");
	f = make_dynamic("", 1);
	assert_interp_refused(&f, "empty");
	f = make_dynamic("/x", 3);
	f.ph[2].p_filesz = ELF_INTERP_MAX + 1;
	f.ph[2].p_offset = 0;
	assert_interp_refused(&f, "longer than 4096");
	f = make_dynamic("/x", 3);
	f.ph[2].p_offset = sizeof(f) - 2; /* the last two bytes, then past the end */
	assert_interp_refused(&f, "past the end");
	f = make_dynamic("/x", 3);
	f.ph[2].p_offset = UINT64_MAX - 1; /* offset + size wraps around */
	assert_interp_refused(&f, "past the end");
	f = make_dynamic("/x", 3);
	f.ph[1] = f.ph[2];
	assert_interp_refused(&f, "more than one PT_INTERP");
}

Test(elf, interp_valid_takes_exactly_the_path_and_its_nul)
{
	const char *why;
	char longest[ELF_INTERP_MAX];

	cr_assert_eq(elf_interp_valid("/a", 3, &why), 0);
	cr_assert_neq(elf_interp_valid("/", 1, &why), 0, "no NUL and too short");
	cr_assert_eq(elf_interp_valid("/\0", 2, &why), 0);
	memset(longest, 'a', sizeof(longest));
	longest[0] = '/';
	longest[sizeof(longest) - 1] = 0;
	cr_assert_eq(elf_interp_valid(longest, sizeof(longest), &why), 0, "%s", why);
	cr_assert_neq(elf_interp_valid("/a\0\0", 4, &why), 0, "two NULs");
}

Test(elf, the_kernel_target_ignores_pt_interp)
{
	struct fake_elf f = make_dynamic("bad", 3);
	const char *why = NULL;

	f.ph[0].p_vaddr = 0xffffffff80000000ull;
	f.ph[1].p_vaddr = 0xffffffff80200000ull;
	f.eh.e_entry = 0xffffffff80000100ull;
	cr_assert_eq(check(&f, ELF_TARGET_KERNEL, &why), 0, "%s", why);
}

Test(elf, rejects_truncated_files)
{
	struct fake_elf f = make_app();
	struct elf_image img;
	const char *why;

	for (size_t size = 0; size < offsetof(struct fake_elf, body); size++)
		cr_assert_neq(elf_check(&f, size, ELF_TARGET_APP, &img, &why), 0, "size %zu", size);
}

Test(elf, rejects_segments_past_the_file)
{
	struct fake_elf f = make_app();
	const char *why;

	f.ph[0].p_filesz = sizeof(f) + 1;
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
	f = make_app();
	f.ph[0].p_offset = UINT64_MAX - 2; /* offset + size wraps around */
	f.ph[0].p_filesz = 16;
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
}

Test(elf, rejects_filesz_larger_than_memsz)
{
	struct fake_elf f = make_app();
	const char *why;

	f.ph[1].p_filesz = f.ph[1].p_memsz + 1;
	f.ph[1].p_offset = 0;
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
}

Test(elf, rejects_overlapping_segments)
{
	struct fake_elf f = make_app();
	const char *why;

	f.ph[1].p_vaddr = 0x401000;
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
	cr_assert(strstr(why, "overlap"), "%s", why);
}

Test(elf, rejects_entry_outside_executable_segments)
{
	struct fake_elf f = make_app();
	const char *why;

	f.eh.e_entry = 0x600000; /* in the RW segment */
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
	cr_assert(strstr(why, "entry"), "%s", why);
}

Test(elf, rejects_apps_in_the_null_guard_or_kernel_half)
{
	struct fake_elf f = make_app();
	const char *why;

	f.ph[0].p_vaddr = 0x1000;
	f.eh.e_entry = 0x1000;
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
	f = make_app();
	f.ph[1].p_vaddr = 0xffff800000000000ull;
	cr_assert_neq(check(&f, ELF_TARGET_APP, &why), 0);
}

/* A segment in the last page of the address space: its end rounded up to a
 * page wrapped to 0, so vaddr_max (0) passed the user-range check and an
 * ET_EXEC app in the kernel half was accepted, with vaddr_max < vaddr_min
 * (found while writing tests/fuzz/fuzz_elf.c's contract check). */
Test(elf, rejects_a_segment_whose_end_wraps_when_rounded_up)
{
	struct fake_elf f = make_app();
	struct elf_image img;
	const char *why;

	f.eh.e_phnum = 1;
	f.ph[0].p_vaddr = 0xfffffffffffff000ull;
	f.ph[0].p_memsz = 0x800;
	f.ph[0].p_filesz = 0x80;
	f.eh.e_entry = 0xfffffffffffff010ull;
	for (int t = 0; t < 2; t++) {
		enum elf_target target = t ? ELF_TARGET_KERNEL : ELF_TARGET_APP;

		cr_assert_neq(elf_check(&f, sizeof(f), target, &img, &why), 0);
		cr_assert(strstr(why, "overflows the address space"), "%s", why);
	}
	/* The highest segment that still rounds up without wrapping. */
	f.ph[0].p_vaddr = 0xffffffffffffe000ull;
	f.eh.e_entry = 0xffffffffffffe010ull;
	cr_assert_eq(elf_check(&f, sizeof(f), ELF_TARGET_KERNEL, &img, &why), 0, "%s", why);
	cr_assert_eq(img.vaddr_max, 0xfffffffffffff000ull);
}

Test(elf, kernel_target_requires_higher_half)
{
	struct fake_elf f = make_app();
	const char *why;

	cr_assert_neq(check(&f, ELF_TARGET_KERNEL, &why), 0);
	cr_assert(strstr(why, "higher half"), "%s", why);
	f.ph[0].p_vaddr = 0xffffffff80000000ull;
	f.ph[1].p_vaddr = 0xffffffff80200000ull;
	f.eh.e_entry = 0xffffffff80000100ull;
	cr_assert_eq(check(&f, ELF_TARGET_KERNEL, &why), 0, "%s", why);
}

Test(elf, accepts_static_pie)
{
	struct fake_elf f = make_app();
	struct elf_image img;
	const char *why;

	f.eh.e_type = ELF_ET_DYN;
	f.ph[0].p_vaddr = 0;
	f.ph[1].p_vaddr = 0x200000;
	f.eh.e_entry = 0x100;
	cr_assert_eq(elf_check(&f, sizeof(f), ELF_TARGET_APP, &img, &why), 0, "%s", why);
	cr_assert_eq(img.type, ELF_ET_DYN);
	cr_assert_eq(img.vaddr_min, 0);
}

Test(elf, never_reads_outside_random_garbage)
{
	/* Random headers must be rejected or accepted without reading outside
	 * the buffer (AddressSanitizer watches every byte). */
	unsigned seed = 12345;
	for (int round = 0; round < 20000; round++) {
		struct fake_elf f = make_app();
		unsigned char *bytes = (unsigned char *)&f;
		for (int k = 0; k < 6; k++) {
			seed = seed * 1103515245 + 12345;
			bytes[(seed >> 8) % offsetof(struct fake_elf, body)] =
			    (unsigned char)(seed >> 20);
		}
		size_t size = (seed >> 4) % sizeof(f);
		void *copy = aligned_alloc(8, (size + 7) & ~7ul);
		memcpy(copy, &f, size);
		struct elf_image img;
		const char *why;
		elf_check(copy, size, ELF_TARGET_APP, &img, &why);
		free(copy);
	}
}
