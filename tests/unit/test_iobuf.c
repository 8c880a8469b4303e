/*
 * Host tests of fs/iobuf.c: one user segment, one kernel segment, vectors
 * with empty segments, the cursor after a bad address (-EFAULT with the
 * bytes before it done), iobuf_skip, and a segment address that wraps
 * around. User addresses are host pointers (the shim: an address below
 * 4096 is a bad one).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"

#define U(p)	    ((uint64_t)(uintptr_t)(p))
#define BAD_ADDRESS 16 /* below 4096: -EFAULT in the shim */

Test(iobuf, a_user_segment_takes_bytes_and_moves_the_cursor)
{
	char dst[8];
	struct iobuf b;

	memset(dst, '.', sizeof(dst));
	iobuf_user(&b, U(dst), 6);
	cr_assert_eq(iobuf_left(&b), 6);
	cr_assert_eq(iobuf_put(&b, "abc", 3), 0);
	cr_assert_eq(iobuf_left(&b), 3);
	cr_assert_eq(iobuf_put(&b, "def", 3), 0);
	cr_assert_eq(iobuf_left(&b), 0);
	cr_assert_arr_eq(dst, "abcdef..", 8);
}

Test(iobuf, a_user_segment_gives_bytes_in_order)
{
	char out[4];
	struct iobuf b;

	iobuf_user(&b, U("hello!"), 6);
	cr_assert_eq(iobuf_get(&b, out, 4), 0);
	cr_assert_arr_eq(out, "hell", 4);
	cr_assert_eq(iobuf_get(&b, out, 2), 0);
	cr_assert_arr_eq(out, "o!", 2);
	cr_assert_eq(iobuf_left(&b), 0);
}

Test(iobuf, zero_bytes_copy_nothing_even_at_a_bad_address)
{
	struct iobuf b;

	iobuf_user(&b, BAD_ADDRESS, 4);
	cr_assert_eq(iobuf_put(&b, "x", 0), 0);
	cr_assert_eq(iobuf_left(&b), 4);
	iobuf_user(&b, BAD_ADDRESS, 0);
	cr_assert_eq(iobuf_left(&b), 0);
	cr_assert_eq(iobuf_get(&b, NULL, 0), 0);
}

Test(iobuf, a_bad_user_address_is_efault_and_the_cursor_stays)
{
	char c = 'x';
	struct iobuf b;

	iobuf_user(&b, BAD_ADDRESS, 4);
	cr_assert_eq(iobuf_put(&b, "abcd", 4), -EFAULT);
	cr_assert_eq(iobuf_left(&b), 4);
	cr_assert_eq(iobuf_get(&b, &c, 1), -EFAULT);
	cr_assert_eq(iobuf_left(&b), 4);
	cr_assert_eq(c, 'x', "nothing was copied");
}

Test(iobuf, a_kernel_segment_uses_kernel_pointers)
{
	char k[6] = "-----";
	char out[3];
	struct iobuf b;

	iobuf_kernel(&b, k, 5);
	cr_assert_eq(b.kernel, 1);
	cr_assert_eq(iobuf_put(&b, "xyz", 3), 0);
	cr_assert_str_eq(k, "xyz--");
	cr_assert_eq(iobuf_left(&b), 2);
	iobuf_kernel(&b, k, 5);
	cr_assert_eq(iobuf_get(&b, out, 3), 0);
	cr_assert_arr_eq(out, "xyz", 3);
}

Test(iobuf, more_than_is_left_is_refused)
{
	char dst[4];
	struct iobuf b;

	iobuf_user(&b, U(dst), 2);
	cr_assert_eq(iobuf_put(&b, "abcd", 4), -EFAULT);
	cr_assert_eq(iobuf_left(&b), 0, "the bytes that fit were copied");
	cr_assert_arr_eq(dst, "ab", 2);
}

Test(iobuf, a_vector_spreads_bytes_over_its_segments_past_empty_ones)
{
	char a[3], c[5], d[2];
	struct linux_iovec iov[] = {
	    {U(a), 0}, {U(a), 3}, {BAD_ADDRESS, 0}, {U(c), 0}, {U(c), 5}, {U(d), 0}, {U(d), 2},
	};
	struct iobuf b;

	iobuf_user_vec(&b, iov, 7, 10);
	cr_assert_eq(iobuf_left(&b), 10);
	cr_assert_eq(iobuf_put(&b, "0123", 4), 0, "empty segments, even bad ones, are skipped");
	cr_assert_eq(iobuf_left(&b), 6);
	cr_assert_eq(iobuf_put(&b, "456789", 6), 0);
	cr_assert_eq(iobuf_left(&b), 0);
	cr_assert_arr_eq(a, "012", 3);
	cr_assert_arr_eq(c, "34567", 5);
	cr_assert_arr_eq(d, "89", 2);
}

Test(iobuf, a_vector_gives_its_segments_in_order)
{
	struct linux_iovec iov[] = {{U("ab"), 2}, {0, 0}, {U("cde"), 3}, {U("f"), 1}};
	char out[6];
	struct iobuf b;

	iobuf_user_vec(&b, iov, 4, 6);
	cr_assert_eq(iobuf_get(&b, out, 1), 0);
	cr_assert_eq(iobuf_get(&b, out + 1, 5), 0);
	cr_assert_arr_eq(out, "abcdef", 6);
}

Test(iobuf, a_bad_segment_stops_the_copy_at_its_start)
{
	char a[4], c[4];
	struct linux_iovec iov[] = {{U(a), 4}, {BAD_ADDRESS, 4}, {U(c), 4}};
	struct iobuf b;

	memset(c, '.', sizeof(c));
	iobuf_user_vec(&b, iov, 3, 12);
	cr_assert_eq(iobuf_put(&b, "abcdefghijkl", 12), -EFAULT);
	cr_assert_arr_eq(a, "abcd", 4);
	cr_assert_arr_eq(c, "....", 4, "nothing after the bad segment");
	cr_assert_eq(iobuf_left(&b), 8, "the bytes before the bad segment are done");
	cr_assert_eq(b.seg, 1);
	cr_assert_eq(b.off, 0);
	/* Trying again fails at the same place. */
	cr_assert_eq(iobuf_put(&b, "efgh", 4), -EFAULT);
	cr_assert_eq(iobuf_left(&b), 8);
}

Test(iobuf, a_bad_segment_mid_way_keeps_the_bytes_of_the_good_part)
{
	char a[4], out[6];
	struct linux_iovec iov[] = {{U("xy"), 2}, {BAD_ADDRESS, 4}, {U(a), 4}};
	struct iobuf b;

	iobuf_user_vec(&b, iov, 3, 10);
	cr_assert_eq(iobuf_get(&b, out, 1), 0);
	cr_assert_eq(iobuf_get(&b, out + 1, 5), -EFAULT);
	cr_assert_eq(out[1], 'y', "the good part was copied");
	cr_assert_eq(iobuf_left(&b), 8);
	iobuf_skip(&b, 4); /* past the bad segment */
	cr_assert_eq(iobuf_put(&b, "mnop", 4), 0);
	cr_assert_arr_eq(a, "mnop", 4);
}

Test(iobuf, skip_moves_the_cursor_over_segments_without_copying)
{
	char a[3] = "...", c[4] = "....";
	struct linux_iovec iov[] = {{U(a), 3}, {BAD_ADDRESS, 0}, {BAD_ADDRESS, 2}, {U(c), 4}};
	struct iobuf b;

	iobuf_user_vec(&b, iov, 4, 9);
	iobuf_skip(&b, 2);
	cr_assert_eq(iobuf_left(&b), 7);
	cr_assert_eq(iobuf_put(&b, "A", 1), 0);
	cr_assert_arr_eq(a, "..A", 3);
	iobuf_skip(&b, 2); /* over the empty and the bad segment: not touched */
	cr_assert_eq(iobuf_left(&b), 4);
	cr_assert_eq(iobuf_put(&b, "WXYZ", 4), 0);
	cr_assert_arr_eq(c, "WXYZ", 4);
	cr_assert_eq(iobuf_left(&b), 0);
	iobuf_skip(&b, 0);
	cr_assert_eq(iobuf_left(&b), 0);
}

Test(iobuf, skip_of_everything_leaves_nothing)
{
	struct linux_iovec iov[] = {{BAD_ADDRESS, 5}, {BAD_ADDRESS, 0}, {BAD_ADDRESS, 5}};
	struct iobuf b;

	iobuf_user_vec(&b, iov, 3, 10);
	iobuf_skip(&b, 10);
	cr_assert_eq(iobuf_left(&b), 0);
}

Test(iobuf, skip_then_get_reads_from_the_new_position)
{
	char out[3];
	struct iobuf b;

	iobuf_user(&b, U("0123456789"), 10);
	iobuf_skip(&b, 7);
	cr_assert_eq(iobuf_get(&b, out, 3), 0);
	cr_assert_arr_eq(out, "789", 3);
}

Test(iobuf, a_kernel_segment_that_wraps_around_is_efault)
{
	struct iobuf b;
	char k[4] = "abc";

	/* Past the top of the address space the cursor's address wraps to 0:
	 * refused before any copy (a kernel segment has no other check). */
	iobuf_kernel(&b, (void *)(UINTPTR_MAX - 1), 4);
	iobuf_skip(&b, 2);
	cr_assert_eq(iobuf_left(&b), 2);
	cr_assert_eq(iobuf_put(&b, k, 2), -EFAULT);
	cr_assert_eq(iobuf_get(&b, k, 2), -EFAULT);
	cr_assert_eq(iobuf_left(&b), 2);
	cr_assert_str_eq(k, "abc");
}

Test(iobuf, a_user_segment_that_wraps_around_is_efault)
{
	struct linux_iovec iov[] = {{UINT64_MAX, 8}};
	struct iobuf b;
	char k[4];

	iobuf_user_vec(&b, iov, 1, 8);
	iobuf_skip(&b, 4);
	cr_assert_eq(iobuf_put(&b, "wxyz", 4), -EFAULT);
	cr_assert_eq(iobuf_get(&b, k, 4), -EFAULT);
	cr_assert_eq(iobuf_left(&b), 4);
}
