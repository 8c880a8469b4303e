/*
 * mman - the memory calls over the app's address space (mm/aspace.h): the
 * Linux ones (brk, mmap, munmap, mprotect, madvise, mremap, msync, the
 * mlock family) and Solo's native ones (map_memory, unmap_memory,
 * increase_heap, decrease_heap, mem_stats; include/solo/uapi/syscall.h).
 * Argument checks and the ABI's flag words are here, the policy in mm/.
 */
#pragma once

#include "kernel/syscall.h"

SYSCALL_DECLARE(brk);
SYSCALL_DECLARE(mmap);
SYSCALL_DECLARE(munmap);
SYSCALL_DECLARE(mprotect);
SYSCALL_DECLARE(madvise);
SYSCALL_DECLARE(mremap);
SYSCALL_DECLARE(msync);
SYSCALL_DECLARE(mlock);
SYSCALL_DECLARE(munlock);
SYSCALL_DECLARE(mlockall);
SYSCALL_DECLARE(munlockall);
SYSCALL_DECLARE(map_memory);
SYSCALL_DECLARE(unmap_memory);
SYSCALL_DECLARE(increase_heap);
SYSCALL_DECLARE(decrease_heap);
SYSCALL_DECLARE(mem_stats);
