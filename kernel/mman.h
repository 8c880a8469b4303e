/*
 * mman - the Linux memory syscalls (brk, mmap, munmap, mprotect, madvise,
 * mremap) over the app's address space (mm/aspace.h). The handlers are the
 * dispatcher's table entries (kernel/syscall.c); each takes the six raw
 * argument registers and returns a result or a negative errno.
 */
#pragma once

#include <stdint.h>

long sys_brk(uint64_t addr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd,
	      uint64_t offset);
long sys_munmap(uint64_t addr, uint64_t len, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
long sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot, uint64_t a3, uint64_t a4,
		  uint64_t a5);
long sys_madvise(uint64_t addr, uint64_t len, uint64_t advice, uint64_t a3, uint64_t a4,
		 uint64_t a5);
long sys_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, uint64_t flags, uint64_t new_addr,
		uint64_t a5);
