/*
 * syscall entry/exit and the first entry into ring 3: UL_VISIBLE trampolines
 * that run with the app's page tables loaded, switch to the kernel's view on
 * the way in and back to the app's on the way out.
 *
 * syscall leaves the user rsp in place and interrupts masked (FMASK), so the
 * first instructions swapgs to this CPU's entry block (smp.h: struct
 * cpu_entry, UL_VISIBLE) and switch to its syscall stack through the
 * block's scratch slot. Every way back to ring 3 swapgs again, so the GS
 * base is the CPU's entry block whenever the kernel runs and the app's
 * (never set by Solo) in ring 3. The kernel never takes a syscall from
 * itself, so one slot and one stack per CPU are enough. No thread has a
 * stack of its own: a syscall runs to its end here, and a thread that must
 * wait is switched out on the way back (kernel/thread.h). The stack is
 * UL_VISIBLE too: it is in use across the CR3 switch.
 *
 * The kernel lock (smp.h) is taken after the CR3 switch and dropped before
 * the switch back: one CPU in the kernel at a time, whatever the entry.
 *
 * Entry path to the C dispatcher, counted: 25 instructions (before the kernel lock's call) (swapgs, 3 to
 * switch stacks and make room for the iretq exit's rcx/r11, 16 pushes: the
 * user rsp and 15 registers, 3 to switch CR3 and clear rbp, 2 to set up the
 * call + call). Exit to sysretq: 22 (2 for CR3, 2 to choose the exit, 16
 * pops, swapgs, sysretq).
 *
 * sysret loads rip from rcx and rflags from r11, so it cannot give the app
 * back its own rcx and r11. After rt_sigreturn the app expects every
 * register as it was when the signal arrived (a fault can interrupt any
 * instruction), so the dispatcher then asks for the iretq exit, which
 * restores all of them from the frame.
 */
#include "kernel/arch/x86_64/gdt.h"
#include "kernel/arch/x86_64/smp.h"

	/* Pops the frame's registers below rax (both exits share them). */
.macro pop_frame_registers
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%r10
	popq	%r8
	popq	%r9
.endm

.section .ulvisible.data, "aw"
	.align 8
	.globl ul_kernel_root, ul_user_root
ul_kernel_root:			/* CR3 of the kernel's view */
	.quad 0
ul_user_root:			/* CR3 of the app's view */
	.quad 0

	.section .ulvisible.text, "ax"
	.globl syscall_entry
syscall_entry:
	swapgs
	movq	%rsp, %gs:CPU_ENTRY_USER_RSP
	movq	%gs:CPU_ENTRY_KERNEL_RSP, %rsp
	subq	$16, %rsp		/* frame->rcx, frame->r11: set only for iretq */
	pushq	%gs:CPU_ENTRY_USER_RSP
	pushq	%r11
	pushq	%rcx
	pushq	%rax
	pushq	%r9			/* the arguments, pushed last to first: */
	pushq	%r8			/* in memory they are in argument order */
	pushq	%r10			/* (struct syscall_args) */
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	ul_kernel_root(%rip), %rax
	movq	%rax, %cr3
	xorl	%ebp, %ebp		/* stack traces stop at the user boundary */
	movq	%rsp, %rdi
	call	syscall_dispatch	/* takes the kernel lock, or its shared side */
	movq	ul_user_root(%rip), %rcx
	movq	%rcx, %cr3
	testl	%eax, %eax
	jnz	syscall_exit_iret
	pop_frame_registers
	popq	%rax
	popq	%rcx			/* user rip, checked canonical by the dispatcher */
	popq	%r11			/* user rflags */
	popq	%rsp
	swapgs				/* an NMI from here on sees the app's GS: trap.S copes */
	sysretq

/*
 * The full-restore exit. Frame words from rax up: rax, rip, rflags, rsp,
 * rcx, r11. rcx and r11 are loaded, then rip..r11 are rearranged in place
 * into the iretq frame rip, cs, rflags, rsp, ss. The dispatcher checked rip
 * and built rflags from user-settable bits only.
 */
syscall_exit_iret:
	pop_frame_registers
	movq	32(%rsp), %rcx
	movq	40(%rsp), %r11
	movq	24(%rsp), %rax
	movq	%rax, 32(%rsp)		/* rsp */
	movq	16(%rsp), %rax
	movq	%rax, 24(%rsp)		/* rflags */
	movq	$GDT_USER_CS, 16(%rsp)
	movq	$GDT_USER_DS, 40(%rsp)
	popq	%rax
	swapgs
	iretq

/*
 * arch_enter_user(entry, user_stack, root): load the app's view and iretq
 * into ring 3 with clean registers. Runs from UL_VISIBLE text because the
 * instructions after the CR3 write are fetched through the app's tables,
 * and on the UL_VISIBLE syscall stack, which iretq still reads after it.
 */
	.globl arch_enter_user
arch_enter_user:
	movq	%rdx, ul_user_root(%rip)
	movq	%gs:CPU_ENTRY_KERNEL_RSP, %rsp	/* the iretq frame must stay mapped */
	pushq	$GDT_USER_DS
	pushq	%rsi
	pushq	$0x202			/* IF set, everything else clear */
	pushq	$GDT_USER_CS
	pushq	%rdi
	movq	%rdx, %cr3
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
	swapgs
	iretq

	.section .note.GNU-stack, "", @progbits
