/*
 * 256 interrupt/exception entry stubs, each 16-byte aligned so that the IDT
 * code finds vector n at trap_stubs + 16 * n. Vectors where the CPU pushes
 * no error code push a zero, so every frame has the struct trap_frame shape.
 */
#include "kernel/arch/x86_64/gdt.h"

	.text
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
	movq	%rsp, %rdi
	cld
	call	trap_dispatch
	.globl trap_return
trap_return:
	popq	%r15
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

	.section .note.GNU-stack, "", @progbits
