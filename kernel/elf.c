/*
 * ELF64 validation shared by the stub, the kernel and mkimg (see elf.h).
 * Bounds are checked with subtraction against the buffer size, never by
 * adding untrusted values, so no check can be defeated by wrap-around.
 */
#include "elf.h"

#include <solo/bootinfo.h>

#define EINVAL_ELF   (-22)
#define PAGE_MASK_4K 0xfffull

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return EINVAL_ELF;
}

/* True when [off, off + len) lies inside a buffer of size bytes. */
static int in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

int elf_interp_valid(const char *p, uint64_t len, const char **why)
{
	if (len < 2 || len > ELF_INTERP_MAX)
		return fail(why, "PT_INTERP path is empty or longer than 4096 bytes");
	for (uint64_t i = 0; i < len - 1; i++)
		if (!p[i])
			return fail(why, "PT_INTERP path has a NUL byte inside it");
	if (p[len - 1])
		return fail(why, "PT_INTERP path is not NUL-terminated");
	if (p[0] != '/')
		return fail(why, "PT_INTERP path is not absolute");
	return 0;
}

/* The PT_INTERP path (at most one, as Linux requires), checked. */
static int check_interp(struct elf_image *img, const char **why, const void *file, uint64_t size)
{
	const struct elf64_phdr *ph = img->phdrs;

	for (unsigned i = 0; i < img->phnum; i++) {
		if (ph[i].p_type != ELF_PT_INTERP)
			continue;
		if (img->interp)
			return fail(why, "more than one PT_INTERP");
		if (!in_bounds(ph[i].p_offset, ph[i].p_filesz, size))
			return fail(why, "PT_INTERP extends past the end of the file");
		const char *p = (const char *)file + ph[i].p_offset;
		if (elf_interp_valid(p, ph[i].p_filesz, why))
			return EINVAL_ELF;
		img->interp = p;
	}
	return 0;
}

static int check_segments(const struct elf_image *img, const char **why, uint64_t size)
{
	const struct elf64_phdr *ph = img->phdrs;
	int loads = 0;

	for (unsigned i = 0; i < img->phnum; i++) {
		if (ph[i].p_type != ELF_PT_LOAD)
			continue;
		loads++;
		if (ph[i].p_filesz > ph[i].p_memsz)
			return fail(why, "PT_LOAD with p_filesz > p_memsz");
		if (!in_bounds(ph[i].p_offset, ph[i].p_filesz, size))
			return fail(why, "PT_LOAD extends past the end of the file");
		/* The end must also round up to a page without wrapping to 0,
		 * which would defeat the range checks on vaddr_max. */
		if (ph[i].p_memsz > ELF_MAX_SPAN ||
		    ph[i].p_vaddr > UINT64_MAX - PAGE_MASK_4K - ph[i].p_memsz)
			return fail(why, "PT_LOAD size overflows the address space");
		if (ph[i].p_align > 1 && (ph[i].p_align & (ph[i].p_align - 1)))
			return fail(why, "PT_LOAD p_align is not a power of two");
		if (ph[i].p_align > 1 &&
		    (ph[i].p_offset & (ph[i].p_align - 1)) != (ph[i].p_vaddr & (ph[i].p_align - 1)))
			return fail(why, "PT_LOAD p_offset and p_vaddr disagree modulo p_align");
		for (unsigned j = 0; j < i; j++) {
			if (ph[j].p_type != ELF_PT_LOAD)
				continue;
			if (ph[i].p_vaddr < ph[j].p_vaddr + ph[j].p_memsz &&
			    ph[j].p_vaddr < ph[i].p_vaddr + ph[i].p_memsz)
				return fail(why, "PT_LOAD segments overlap");
		}
	}
	if (loads == 0)
		return fail(why, "no PT_LOAD segment: nothing to load");
	return 0;
}

static void compute_span(struct elf_image *img, uint64_t phoff)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (unsigned i = 0; i < img->phnum; i++) {
		const struct elf64_phdr *p = &img->phdrs[i];

		if (p->p_type == ELF_PT_TLS)
			img->tls_memsz = p->p_memsz;
		if (p->p_type == ELF_PT_PHDR)
			img->phdr_vaddr = p->p_vaddr;
		if (p->p_type != ELF_PT_LOAD)
			continue;
		if (p->p_vaddr < lo)
			lo = p->p_vaddr;
		if (p->p_vaddr + p->p_memsz > hi)
			hi = p->p_vaddr + p->p_memsz;
		/* Without PT_PHDR, the headers are wherever a segment maps phoff. */
		if (!img->phdr_vaddr && phoff >= p->p_offset && phoff - p->p_offset < p->p_filesz)
			img->phdr_vaddr = p->p_vaddr + (phoff - p->p_offset);
	}
	img->vaddr_min = lo & ~PAGE_MASK_4K;
	img->vaddr_max = (hi + PAGE_MASK_4K) & ~PAGE_MASK_4K;
}

static int entry_is_executable(const struct elf_image *img)
{
	for (unsigned i = 0; i < img->phnum; i++) {
		const struct elf64_phdr *p = &img->phdrs[i];

		if (p->p_type == ELF_PT_LOAD && (p->p_flags & ELF_PF_X) &&
		    img->entry >= p->p_vaddr && img->entry - p->p_vaddr < p->p_memsz)
			return 1;
	}
	return 0;
}

int elf_check(const void *file, uint64_t size, enum elf_target target, struct elf_image *out,
	      const char **why)
{
	const struct elf64_ehdr *eh = file;
	struct elf_image img = {0};
	int err;

	if (size < 4 || eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' || eh->e_ident[2] != 'L' ||
	    eh->e_ident[3] != 'F')
		return fail(why, "not an ELF file (bad magic)");
	if (size > 4 && eh->e_ident[4] == 1)
		return fail(why, "32-bit ELF (ELFCLASS32): Solo runs x86-64 programs only");
	if (size < sizeof(*eh))
		return fail(why, "truncated ELF header");
	if (eh->e_ident[4] != 2)
		return fail(why, "unknown ELF class");
	if (eh->e_ident[5] != 1)
		return fail(why, "not little-endian (ELFDATA2LSB)");
	if (eh->e_ident[6] != 1 || eh->e_version != 1)
		return fail(why, "unknown ELF version");
	if (eh->e_machine != 62)
		return fail(why, "not an x86-64 ELF (e_machine is not EM_X86_64)");
	if (eh->e_type != ELF_ET_EXEC && eh->e_type != ELF_ET_DYN)
		return fail(why, "not an executable (e_type is neither ET_EXEC nor ET_DYN)");
	if (target == ELF_TARGET_KERNEL && eh->e_type != ELF_ET_EXEC)
		return fail(why, "kernel must be ET_EXEC");
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return fail(why, "unexpected program header size");
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHNUM)
		return fail(why, "no program headers, or too many");
	if (eh->e_phoff & 7)
		return fail(why, "program headers are misaligned");
	if (!in_bounds(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr), size))
		return fail(why, "program headers extend past the end of the file");

	img.ehdr = eh;
	img.phdrs = (const struct elf64_phdr *)((const unsigned char *)file + eh->e_phoff);
	img.phnum = eh->e_phnum;
	img.type = eh->e_type;
	img.entry = eh->e_entry;

	err = check_segments(&img, why, size);
	if (!err && target == ELF_TARGET_APP)
		err = check_interp(&img, why, file, size);
	if (err)
		return err;
	compute_span(&img, eh->e_phoff);
	if (img.vaddr_max - img.vaddr_min > ELF_MAX_SPAN)
		return fail(why, "segments span more than 64 GiB");
	if (!entry_is_executable(&img))
		return fail(why, "entry point is not inside an executable PT_LOAD");

	if (target == ELF_TARGET_KERNEL) {
		if (img.vaddr_min < ELF_KERNEL_VADDR_MIN)
			return fail(why, "kernel segments must be in the top 2 GiB (higher half)");
	} else if (img.type == ELF_ET_EXEC) {
		if (img.vaddr_min < ELF_APP_VADDR_MIN || img.vaddr_max > ELF_APP_VADDR_MAX)
			return fail(why, "app segments outside the user range "
					 "[0x10000, 0x7f0000000000)");
	} else if (img.vaddr_max > ELF_APP_VADDR_MAX / 2) {
		return fail(why, "position-independent app spans too much address space");
	}

	*out = img;
	return 0;
}
