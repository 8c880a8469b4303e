/*
 * syscall entry and ring-3 entry.
 *
 * syscall leaves the user rsp in place and interrupts masked (FMASK), so the
 * first instructions switch to the kernel stack through a scratch slot.
 * Solo runs one app on one CPU and the kernel never takes a syscall from
 * itself, so a single slot and a single stack are enough (no swapgs).
 */
#include "kernel/arch/x86_64/gdt.h"

	.data
	.align 8
	.globl syscall_kernel_rsp
syscall_kernel_rsp:
	.quad 0
syscall_user_rsp:
	.quad 0

	.text
	.globl syscall_entry
syscall_entry:
	movq	%rsp, syscall_user_rsp(%rip)
	movq	syscall_kernel_rsp(%rip), %rsp
	pushq	syscall_user_rsp(%rip)
	pushq	%r11
	pushq	%rcx
	pushq	%rax
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%r10
	pushq	%r8
	pushq	%r9
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	xorl	%ebp, %ebp		/* stack traces stop at the user boundary */
	movq	%rsp, %rdi
	call	syscall_dispatch
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	popq	%r9
	popq	%r8
	popq	%r10
	popq	%rdx
	popq	%rsi
	popq	%rdi
	popq	%rax
	popq	%rcx			/* user rip, checked canonical by the dispatcher */
	popq	%r11			/* user rflags */
	popq	%rsp
	sysretq

/* arch_enter_user(entry, user_stack): iretq into ring 3 with clean registers. */
	.globl arch_enter_user
arch_enter_user:
	pushq	$GDT_USER_DS
	pushq	%rsi
	pushq	$0x202			/* IF set, everything else clear */
	pushq	$GDT_USER_CS
	pushq	%rdi
	xorl	%eax, %eax
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%esi, %esi
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	movw	$GDT_USER_DS, %ax
	movw	%ax, %ds
	movw	%ax, %es
	xorl	%eax, %eax
	iretq

	.section .note.GNU-stack, "", @progbits
