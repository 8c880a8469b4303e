/*
 * The AP trampoline's layout (smp_trampoline.S), shared with smp.c, which
 * copies it to a low-memory page and fills its data block. Offsets from
 * the start of that page.
 */
#pragma once

#define TRAMP_DATA	 0x200		     /* the data block; the code before it is shorter */
#define TRAMP_GDT	 (TRAMP_DATA + 0x00) /* 4 descriptors: null, code32, data, code64 */
#define TRAMP_GDTR	 (TRAMP_DATA + 0x20) /* limit (2 bytes), base (4): patched */
#define TRAMP_JMP32	 (TRAMP_DATA + 0x28) /* far pointer: offset (4), selector (2) */
#define TRAMP_JMP64	 (TRAMP_DATA + 0x30) /* far pointer: offset (4), selector (2) */
#define TRAMP_CR3	 (TRAMP_DATA + 0x38) /* 32-bit: the temporary page tables */
#define TRAMP_EFER	 (TRAMP_DATA + 0x40) /* 64-bit: EFER to load (LME set) */
#define TRAMP_KERNEL_CR3 (TRAMP_DATA + 0x48) /* 64-bit: the kernel's page tables */
#define TRAMP_ENTRY	 (TRAMP_DATA + 0x50) /* 64-bit: smp_ap_entry's address */
#define TRAMP_STACK	 (TRAMP_DATA + 0x58) /* 64-bit: the first stack's top */
#define TRAMP_ARG	 (TRAMP_DATA + 0x60) /* 64-bit: smp_ap_main's argument */
#define TRAMP_END	 (TRAMP_DATA + 0x68)

#define TRAMP_SEL_CODE32 0x08
#define TRAMP_SEL_DATA	 0x10
#define TRAMP_SEL_CODE64 0x18
