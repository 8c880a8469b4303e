/*
 * ELF64 validation, shared by three separately built parts: the UEFI stub
 * (loading kernel.elf), the kernel's app loader, and the host tool behind
 * tools/mkimg.sh. It is plain C with no dependencies, so each compiles it.
 *
 * elf_check() never trusts the file: every offset and size is bounds- and
 * overflow-checked against the buffer before anything else reads it. When it
 * returns 0, the caller may read the ELF header and the program headers in
 * place and copy every PT_LOAD's [p_offset, p_offset + p_filesz) from the
 * buffer without further checks.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define ELF_PT_NULL	 0
#define ELF_PT_LOAD	 1
#define ELF_PT_DYNAMIC	 2
#define ELF_PT_INTERP	 3
#define ELF_PT_PHDR	 6
#define ELF_PT_TLS	 7
#define ELF_PT_GNU_STACK 0x6474e551

#define ELF_PF_X 1
#define ELF_PF_W 2
#define ELF_PF_R 4

#define ELF_ET_EXEC 2
#define ELF_ET_DYN  3

struct elf64_ehdr {
	unsigned char e_ident[16];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header is 56 bytes");

enum elf_target {
	ELF_TARGET_KERNEL, /* ET_EXEC, every PT_LOAD in the kernel half */
	ELF_TARGET_APP,	   /* ET_EXEC or ET_DYN, user half; PT_INTERP reported in interp */
};

/* Lowest and highest (exclusive) app addresses an ET_EXEC may use. */
#define ELF_APP_VADDR_MIN    0x10000ull /* the 64 KiB null guard stays unmapped */
#define ELF_APP_VADDR_MAX    0x00007f0000000000ull
#define ELF_KERNEL_VADDR_MIN 0xffffffff80000000ull /* -mcmodel=kernel: top 2 GiB */
#define ELF_MAX_PHNUM	     256
#define ELF_MAX_SPAN	     (1ull << 36) /* 64 GiB of address space per image */
#define ELF_INTERP_MAX	     4096	  /* PT_INTERP size with its NUL (Linux: PATH_MAX) */

struct elf_image {
	const struct elf64_ehdr *ehdr;
	const struct elf64_phdr *phdrs; /* ehdr->e_phnum entries, inside the buffer */
	uint16_t phnum;
	uint16_t type;	     /* ELF_ET_EXEC or ELF_ET_DYN */
	uint64_t entry;	     /* e_entry (relative to the load base for ET_DYN) */
	uint64_t vaddr_min;  /* lowest PT_LOAD address, rounded down to 4 KiB */
	uint64_t vaddr_max;  /* highest PT_LOAD end, rounded up to 4 KiB */
	uint64_t phdr_vaddr; /* where the program headers are in memory, 0 if nowhere */
	uint64_t tls_memsz;  /* PT_TLS size, 0 if none */
	/* PT_INTERP: the interpreter's absolute path, NUL-terminated, inside
	 * the buffer (ELF_TARGET_APP only); NULL for a static program. */
	const char *interp;
};

/*
 * elf_interp_valid - whether the PT_INTERP contents p[0..len) name an
 * interpreter Solo can look up: 2..ELF_INTERP_MAX bytes, ending with the
 * only NUL, an absolute path. Returns 0, or -1 with *why set.
 */
int elf_interp_valid(const char *p, uint64_t len, const char **why);

/*
 * elf_check - validate an ELF64 x86-64 image of size bytes for target.
 * file must be 8-byte aligned. On success fills *out and returns 0. On failure
 * returns a negative code and sets *why to a static, human-readable reason
 * (e.g. "32-bit ELF (ELFCLASS32): Solo runs x86-64 programs only").
 */
int elf_check(const void *file, uint64_t size, enum elf_target target, struct elf_image *out,
	      const char **why);
