/*
 * The vDSO image inside the kernel: the stripped vdso.so, on whole pages of
 * its own (the link script keeps them apart from other kernel data), so
 * that vdso_map can give the app exactly these pages. VDSO_SO is the
 * image's path, from the Makefile.
 */
	.section .vdso.image, "a"
	.balign 4096
	.globl vdso_image_start
vdso_image_start:
	.incbin VDSO_SO
	.balign 4096
	.globl vdso_image_end
vdso_image_end:
	.section .note.GNU-stack, "", @progbits
