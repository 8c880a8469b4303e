/*
 * Fuzzer for kernel/elf.c: elf_check() for both targets over the input as
 * a whole file, and elf_interp_valid() over it as a PT_INTERP. When
 * elf_check() accepts, everything elf.h promises is checked here: the
 * program headers and every PT_LOAD's file bytes lie in the buffer (read
 * in full, so ASan sees any stray byte), the span is the segments' span,
 * page-aligned and in the target's half, and the entry is executable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kernel/elf.h"

static volatile uint8_t sink;

static void check_accepted(const uint8_t *file, uint64_t size, enum elf_target target,
			   const struct elf_image *img)
{
	const struct elf64_ehdr *eh = (const void *)file;

	FUZZ_ASSERT(img->ehdr == eh);
	FUZZ_ASSERT(img->phnum == eh->e_phnum && img->phnum >= 1 && img->phnum <= ELF_MAX_PHNUM);
	FUZZ_ASSERT(eh->e_phoff <= size &&
		    img->phnum * sizeof(struct elf64_phdr) <= size - eh->e_phoff);
	FUZZ_ASSERT((const uint8_t *)img->phdrs == file + eh->e_phoff);
	FUZZ_ASSERT(img->type == ELF_ET_EXEC || img->type == ELF_ET_DYN);
	FUZZ_ASSERT(img->vaddr_min % 4096 == 0 && img->vaddr_max % 4096 == 0);
	FUZZ_ASSERT(img->vaddr_min <= img->vaddr_max);
	FUZZ_ASSERT(img->vaddr_max - img->vaddr_min <= ELF_MAX_SPAN);

	int entry_ok = 0, loads = 0;
	for (unsigned i = 0; i < img->phnum; i++) {
		const struct elf64_phdr *ph = &img->phdrs[i];

		if (ph->p_type != ELF_PT_LOAD)
			continue;
		loads++;
		FUZZ_ASSERT(ph->p_offset <= size && ph->p_filesz <= size - ph->p_offset);
		FUZZ_ASSERT(ph->p_filesz <= ph->p_memsz);
		FUZZ_ASSERT(ph->p_vaddr >= img->vaddr_min);
		FUZZ_ASSERT(ph->p_memsz <= img->vaddr_max - ph->p_vaddr);
		uint8_t x = 0;
		for (uint64_t b = 0; b < ph->p_filesz; b++)
			x ^= file[ph->p_offset + b];
		sink = x;
		if ((ph->p_flags & ELF_PF_X) && img->entry >= ph->p_vaddr &&
		    img->entry - ph->p_vaddr < ph->p_memsz)
			entry_ok = 1;
	}
	FUZZ_ASSERT(loads >= 1 && entry_ok);

	if (target == ELF_TARGET_KERNEL) {
		FUZZ_ASSERT(img->type == ELF_ET_EXEC && img->vaddr_min >= ELF_KERNEL_VADDR_MIN);
		FUZZ_ASSERT(!img->interp);
	} else if (img->type == ELF_ET_EXEC) {
		FUZZ_ASSERT(img->vaddr_min >= ELF_APP_VADDR_MIN);
		FUZZ_ASSERT(img->vaddr_max <= ELF_APP_VADDR_MAX);
	} else {
		FUZZ_ASSERT(img->vaddr_max <= ELF_APP_VADDR_MAX / 2);
	}
	if (img->interp) {
		const uint8_t *p = (const uint8_t *)img->interp;
		FUZZ_ASSERT(p >= file && p < file + size && p[0] == '/');
		size_t len = strnlen(img->interp, (size_t)(file + size - p));
		FUZZ_ASSERT(p + len < file + size); /* NUL-terminated in the buffer */
		FUZZ_ASSERT(len + 1 <= ELF_INTERP_MAX);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exactly sized, 8-byte aligned copy (elf.h asks for alignment). */
	uint8_t *file = malloc(size ? size : 1);
	const char *why = NULL;
	struct elf_image img;

	FUZZ_ASSERT(file);
	memcpy(file, data, size);
	for (int t = 0; t < 2; t++) {
		enum elf_target target = t ? ELF_TARGET_APP : ELF_TARGET_KERNEL;

		memset(&img, 0xa5, sizeof(img));
		why = NULL;
		if (elf_check(file, size, target, &img, &why) == 0)
			check_accepted(file, size, target, &img);
		else
			FUZZ_ASSERT(why && why[0]);
	}
	why = NULL;
	if (elf_interp_valid((const char *)file, size, &why) == 0) {
		FUZZ_ASSERT(size >= 2 && size <= ELF_INTERP_MAX && file[0] == '/');
		FUZZ_ASSERT(file[size - 1] == 0 && strlen((const char *)file) == size - 1);
	} else {
		FUZZ_ASSERT(why && why[0]);
	}
	free(file);
	return 0;
}
