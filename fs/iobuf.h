/*
 * iobuf - the buffer a file operation reads into or writes from: the app's
 * memory (user addresses; every copy is checked and a bad address is
 * -EFAULT, never a kernel fault) or kernel memory (sendfile's bounce
 * buffer, the console's echo), in one or more segments (readv, writev).
 * A cursor moves through it as bytes are copied, so an operation returns
 * how far it got and a caller can go on from there.
 *
 * The user copies go through app_copy_to/app_copy_from (kernel/app.h),
 * which back demand pages on the way; host tests link a shim that treats
 * user addresses as host pointers.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/abi/fcntl.h"

struct iobuf {
	const struct linux_iovec *iov; /* the segments (iov_one for one) */
	unsigned niov;
	unsigned seg; /* cursor: segment, and offset in it */
	uint64_t off;
	uint64_t left; /* bytes from the cursor to the end */
	int kernel;    /* addresses are kernel pointers */
	struct linux_iovec iov_one;
};

/* One user segment [addr, addr + len). */
void iobuf_user(struct iobuf *b, uint64_t addr, uint64_t len);
/* One kernel segment. */
void iobuf_kernel(struct iobuf *b, void *p, uint64_t len);
/* User segments iov[0..n): the caller checked that the total fits in
 * int64_t (readv/writev refuse more with -EINVAL). iov must outlive b. */
void iobuf_user_vec(struct iobuf *b, const struct linux_iovec *iov, unsigned n, uint64_t total);

static inline uint64_t iobuf_left(const struct iobuf *b)
{
	return b->left;
}

/*
 * iobuf_put - copies n bytes (n <= iobuf_left) from src to the buffer at
 * the cursor and moves it. iobuf_get - copies n bytes from the buffer at
 * the cursor into dst and moves it. Both return 0, or -EFAULT at an
 * address the app may not use (the cursor then stays where the bad
 * segment part starts, so bytes before it count as done).
 */
int iobuf_put(struct iobuf *b, const void *src, size_t n);
int iobuf_get(struct iobuf *b, void *dst, size_t n);
/* Moves the cursor n bytes on (n <= iobuf_left) without copying. */
void iobuf_skip(struct iobuf *b, uint64_t n);
