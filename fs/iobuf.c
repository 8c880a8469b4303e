/* The I/O buffer (see iobuf.h). */
#include "fs/iobuf.h"

#include "kernel/abi/errno.h"
#include "kernel/app.h"
#include "kernel/klib.h"

void iobuf_user(struct iobuf *b, uint64_t addr, uint64_t len)
{
	*b = (struct iobuf){.iov = &b->iov_one, .niov = 1, .left = len};
	b->iov_one = (struct linux_iovec){addr, len};
}

void iobuf_kernel(struct iobuf *b, void *p, uint64_t len)
{
	iobuf_user(b, (uint64_t)(uintptr_t)p, len);
	b->kernel = 1;
}

void iobuf_user_vec(struct iobuf *b, const struct linux_iovec *iov, unsigned n, uint64_t total)
{
	*b = (struct iobuf){.iov = iov, .niov = n, .left = total};
}

/* Steps over empty segments and segment ends: the cursor then points at a
 * byte, unless nothing is left. */
static void settle(struct iobuf *b)
{
	while (b->seg < b->niov && b->off == b->iov[b->seg].len) {
		b->seg++;
		b->off = 0;
	}
}

/* Copies n bytes between kernel memory k and the buffer (to_buffer: into
 * it), segment by segment. */
static int copy(struct iobuf *b, void *k, size_t n, int to_buffer)
{
	char *p = k;

	while (n) {
		settle(b);
		if (b->seg >= b->niov)
			return -EFAULT; /* more than iobuf_left: a caller bug, refused */
		const struct linux_iovec *v = &b->iov[b->seg];
		size_t step = (size_t)MIN((uint64_t)n, v->len - b->off);
		uint64_t at = v->base + b->off;
		if (at < v->base)
			return -EFAULT; /* the segment wraps around */
		if (b->kernel) {
			if (to_buffer)
				memcpy((void *)(uintptr_t)at, p, step);
			else
				memcpy(p, (const void *)(uintptr_t)at, step);
		} else if (to_buffer ? app_copy_to(at, p, step) : app_copy_from(p, at, step)) {
			return -EFAULT;
		}
		b->off += step;
		b->left -= step;
		p += step;
		n -= step;
	}
	return 0;
}

int iobuf_put(struct iobuf *b, const void *src, size_t n)
{
	return copy(b, (void *)(uintptr_t)src, n, 1);
}

int iobuf_get(struct iobuf *b, void *dst, size_t n)
{
	return copy(b, dst, n, 0);
}

void iobuf_skip(struct iobuf *b, uint64_t n)
{
	while (n && b->left) {
		settle(b);
		uint64_t step = MIN(n, b->iov[b->seg].len - b->off);
		b->off += step;
		b->left -= step;
		n -= step;
	}
}
