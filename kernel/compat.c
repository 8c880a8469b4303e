/* Calls answered as Linux answers without the feature (see compat.h). */
#include "kernel/compat.h"

#include "kernel/abi/errno.h"
#include "kernel/abi/process.h"
#include "kernel/arch/x86_64/smp.h"

/* Registered quietly: an rseq-less Linux says ENOSYS without a log line,
 * and glibc asks at every thread start. */
SYSCALL_DEFINE4(rseq, uint64_t, rseq, uint32_t, len, int, flags, uint32_t, sig)
{
	(void)rseq;
	(void)len;
	(void)flags;
	(void)sig;
	return -ENOSYS;
}

#define MEMBARRIER_SUPPORTED                                                                       \
	(MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED |                                 \
	 MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED |             \
	 MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)

SYSCALL_DEFINE3(membarrier, int, cmd, unsigned, flags, int, cpu_id)
{
	(void)cpu_id;
	if (cmd == MEMBARRIER_CMD_QUERY)
		return flags ? -EINVAL : MEMBARRIER_SUPPORTED;
	if (flags || cmd < 0 || !(cmd & MEMBARRIER_SUPPORTED) || (cmd & (cmd - 1)))
		return -EINVAL;
	/* A thread that is not running orders its accesses after ours when
	 * it is switched to; one running on another CPU is brought into the
	 * kernel by an interrupt (serializing) before the call returns. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return smp_call_all_others(smp_call_nop, NULL, 1) ? -EAGAIN : 0;
}
