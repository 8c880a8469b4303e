/*
 * Interrupt and exception entry: 256 stubs and the common trampoline.
 *
 * All of it is UL_VISIBLE: the CPU enters here with whatever CR3 was loaded,
 * often the app's, whose page tables hold nothing of the kernel but the
 * UL_VISIBLE pages. So the first thing trap_common does is look at CR3: if it
 * is not the kernel's, it switches, and it switches back on the way out.
 * Deciding by CR3 rather than by the interrupted CS keeps an NMI or machine
 * check that hits the few instructions of syscall entry (ring 0, app CR3)
 * correct too.
 *
 * The GS base must be this CPU's entry block (smp.h) while the kernel runs.
 * From ring 3 it is the app's, so trap_common swaps; in ring 0 it is
 * normally the kernel's already, except when an NMI or machine check hits
 * syscall entry before its swapgs or the exits after theirs: so in ring 0
 * the MSR decides (a kernel address is negative). The frame remembers
 * whether entry swapped, and the exit swaps back exactly then.
 *
 * Each stub is 16-byte aligned so that the IDT code finds vector n at
 * trap_stubs + 16 * n. Vectors where the CPU pushes no error code push a
 * zero, so every frame has the struct trap_frame shape.
 */
#include "kernel/arch/x86_64/gdt.h"

#define MSR_GS_BASE 0xc0000101

	.section .ulvisible.text, "ax"
	.globl trap_stubs
	.align 16
trap_stubs:
	.set vector, 0
	.rept 256
	.align 16
	.if !(vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 || vector == 14 || vector == 17 || vector == 21 || vector == 29 || vector == 30)
	pushq	$0
	.endif
	pushq	$vector
	jmp	trap_common
	.set vector, vector + 1
	.endr
	.align 16
	.globl trap_stubs_end
trap_stubs_end:

trap_common:
	/* Interrupt delivery leaves DF and AC as the interrupted code had them.
	 * The kernel's C code needs DF clear, and AC set would switch SMAP off
	 * for the whole trap; iretq restores the app's own flags. (No clac:
	 * it is #UD on CPUs without SMAP.) */
	cld
	pushfq
	andq	$~0x40000, (%rsp)
	popfq
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%cr3, %rax
	pushq	%rax			/* frame->cr3: the view to return to */
	xorl	%ebx, %ebx
	testb	$3, 152(%rsp)		/* the interrupted CS */
	jnz	3f
	movl	$MSR_GS_BASE, %ecx
	rdmsr
	testl	%edx, %edx
	js	4f			/* the kernel's GS already */
3:	swapgs
	movl	$1, %ebx
4:	pushq	%rbx			/* frame->gs_swapped */
	movq	%cr3, %rax
	movq	ul_kernel_root(%rip), %rdx
	cmpq	%rax, %rdx
	je	1f
	movq	%rdx, %cr3
1:	movq	%rsp, %rdi
	cld
	call	trap_dispatch
trap_return:
	popq	%rax			/* frame->gs_swapped */
	testq	%rax, %rax
	jz	5f
	swapgs
5:	popq	%rax
	movq	%cr3, %rdx
	cmpq	%rax, %rdx
	je	2f
	movq	%rax, %cr3
2:	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector and error code */
	iretq

/*
 * arch_trap_return(frame): leaves through the exit above with a frame the
 * scheduler built (a CPU sending a thread to ring 3 from its idle loop).
 * The frame must be on this CPU's syscall stack, mapped in the app view.
 */
	.globl arch_trap_return
arch_trap_return:
	movq	%rdi, %rsp
	jmp	trap_return
	.section .note.GNU-stack, "", @progbits
