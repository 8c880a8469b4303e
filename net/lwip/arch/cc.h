/*
 * arch/cc.h - lwIP's port to Solo's kernel (and, with HOST_TEST, to the
 * host tests, which build the same lwIP with the same lwipopts.h): types,
 * byte order, diagnostics, randomness.
 *
 * An lwIP assertion is a broken invariant of lwIP's own state, which the
 * kernel cannot trust afterwards: it panics, naming lwIP's message. Input
 * from the network never reaches one (lwIP checks frames as errors).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define LWIP_NO_INTTYPES_H 1
#define X8_F		   "02x"
#define U16_F		   "u"
#define S16_F		   "d"
#define X16_F		   "x"
#define U32_F		   "u"
#define S32_F		   "d"
#define X32_F		   "x"
#define SZT_F		   "zu"

#define LWIP_NO_CTYPE_H			      1
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1
#define BYTE_ORDER			      LITTLE_ENDIAN

#define LWIP_RAND() ((uint32_t)lwip_port_rand())
uint32_t lwip_port_rand(void);

void lwip_port_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lwip_port_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
#define LWIP_PLATFORM_DIAG(x)	lwip_port_diag x
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)
#define LWIP_ERR_T		int
#define lwip_htons(x)		__builtin_bswap16(x)
#define lwip_htonl(x)		__builtin_bswap32(x)

/* MEM_LIBC_MALLOC: lwIP's heap is the kernel's. */
void *lwip_port_malloc(size_t size);
void *lwip_port_calloc(size_t n, size_t size);
void lwip_port_free(void *p);
#define mem_clib_malloc lwip_port_malloc
#define mem_clib_calloc lwip_port_calloc
#define mem_clib_free	lwip_port_free

/* Called (from lwIP, in the stack's context) when a packet was queued on a
 * loopback path and the queues need a netif_poll soon; NULL: nobody is
 * told (host tests call netif_poll_all themselves). Set by net/stack.c. */
extern void (*lwip_port_loopback_hook)(void);
