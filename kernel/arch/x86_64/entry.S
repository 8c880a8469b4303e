/*
 * Kernel entry from the UEFI stub.
 * In: %rdi = physical address of struct boot_info; interrupts off; the stub's
 * page tables map the kernel image and the direct map. The stub's stack is in
 * firmware memory the kernel is about to reuse, so move to our own at once.
 */
	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	cld
	leaq	__boot_stack_top(%rip), %rsp
	xorl	%ebp, %ebp		/* ends the frame-pointer chain for stack traces */
	call	kmain
1:	cli
	hlt
	jmp	1b
	.section .note.GNU-stack, "", @progbits
