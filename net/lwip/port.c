/*
 * lwIP's port to Solo (arch/cc.h): the clock lwIP's timeouts run on, its
 * heap, randomness (TCP's initial sequence numbers, DHCP's transaction
 * ids, ports) and its diagnostics. Also built into the host tests.
 */
#include <stdarg.h>

#include "kernel/arch/x86_64/arch.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "kernel/time.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "mm/failinj.h"
#include "mm/kmalloc.h"

#define NS_PER_MS 1000000ull

u32_t sys_now(void)
{
	/* Wraps after 49 days, which lwIP's timeouts are written for. */
	return (u32_t)(time_now() / NS_PER_MS);
}

uint32_t lwip_port_rand(void)
{
	uint32_t r;

	arch_random_bytes(&r, sizeof(r));
	return r;
}

void *lwip_port_malloc(size_t size)
{
	return kmalloc(size);
}

void *lwip_port_calloc(size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		return NULL;
	return zmalloc(n * size);
}

void lwip_port_free(void *p)
{
	kfree(p);
}

#ifdef SOLO_FAILINJ
/* The sanitized kernel builds lwIP's memp.c with its memp_malloc renamed
 * (Makefile: SAN_LWIP_MEMP): every pool allocation (pcbs, PBUF_POOL
 * buffers, segments, reassembly) passes a failure point here first. */
void *lwip_memp_malloc_pooled(memp_t type);

void *memp_malloc(memp_t type)
{
	return failinj_point() ? NULL : lwip_memp_malloc_pooled(type);
}
#endif

void lwip_port_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void lwip_port_assert(const char *msg, const char *file, int line)
{
	panic("lwIP: %s (%s:%d)", msg, file, line);
}

void (*lwip_port_loopback_hook)(void);

/* lwipopts.h's tcpip_try_callback: netif's loopback queue went from empty
 * to not. ERR_OK: lwIP need not ask again until it was polled. */
int lwip_port_loopback_queued(void *netif)
{
	(void)netif;
	if (lwip_port_loopback_hook)
		lwip_port_loopback_hook();
	return ERR_OK;
}

/* Delivers what every interface's loopback queue holds (lwIP leaves its
 * own out with LWIP_NETIF_LOOPBACK_MULTITHREADING). */
void netif_poll_all(void)
{
	struct netif *netif;

	NETIF_FOREACH(netif)
	{
		netif_poll(netif);
	}
}
