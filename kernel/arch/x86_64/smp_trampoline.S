/*
 * The other CPUs' first instructions. A STARTUP IPI starts a CPU in real
 * mode at vector * 4096 (CS = vector << 8, IP = 0), so this code runs from
 * a page below 1 MiB (palloc_low), not from where it is linked: smp.c copies
 * [smp_trampoline_start, smp_trampoline_end) there and fills the data block
 * (smp_trampoline.h) with every address that depends on the page, so the
 * code itself is position independent (DS = CS in real mode, EBX = the
 * page's address afterwards).
 *
 * Real mode -> protected mode (a GDT of its own) -> long mode with
 * temporary page tables that map the low page to itself and the kernel's
 * half like the kernel's tables (protected mode loads only 32 bits of CR3,
 * and the kernel's root may lie higher), then a jump to smp_ap_entry in the
 * kernel's text, which loads the kernel's own page tables. From there the
 * low page is never touched again: smp.c may reuse it for the next CPU
 * once this one says it is alive.
 */
#include "kernel/arch/x86_64/smp_trampoline.h"

#define CR0_PE	  0x1
#define CR0_PG	  0x80000000
#define CR4_PAE	  0x20
#define MSR_EFER  0xc0000080

	.section .rodata, "a"
	.globl smp_trampoline_start, smp_trampoline_end
	.code16
smp_trampoline_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	xorl	%ebx, %ebx
	movw	%ax, %bx
	shll	$4, %ebx			/* the page's physical address */
	lgdtl	TRAMP_GDTR
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	*TRAMP_JMP32

	.code32
	.globl smp_tramp_32, smp_tramp_64
smp_tramp_32:
	movl	$TRAMP_SEL_DATA, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	TRAMP_CR3(%ebx), %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	movl	TRAMP_EFER(%ebx), %eax
	movl	TRAMP_EFER + 4(%ebx), %edx
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmpl	*TRAMP_JMP64(%ebx)

	.code64
smp_tramp_64:
	movl	%ebx, %edi			/* smp_ap_entry's argument: the page */
	movq	TRAMP_ENTRY(%rdi), %rax
	jmpq	*%rax

	.org	TRAMP_DATA
	/* The GDT: flat 32-bit code and data, 64-bit code. */
	.quad	0
	.quad	0x00cf9a000000ffff
	.quad	0x00cf92000000ffff
	.quad	0x00af9a000000ffff
	.org	TRAMP_END
smp_trampoline_end:

/*
 * smp_ap_entry(page): the first kernel code a started CPU runs, in long mode
 * on the trampoline's page tables with the page at page (identity mapped).
 * Takes the kernel's root, the stack and the argument from the data block,
 * leaves the page for good (smp_ap_main's first store tells smp.c so, by
 * coming online) and calls smp_ap_main.
 */
	.text
	.globl smp_ap_entry
smp_ap_entry:
	movq	TRAMP_KERNEL_CR3(%rdi), %rax
	movq	TRAMP_STACK(%rdi), %rsp
	movq	TRAMP_ARG(%rdi), %rsi
	movq	%rax, %cr3
	movq	%rsi, %rdi
	xorl	%ebp, %ebp
	pushq	$0				/* the return address slot: aligned as a call */
	jmp	smp_ap_main

	.section .note.GNU-stack, "", @progbits
