/*
 * Host benchmark of Solo's memory manager (make bench): the real mm/ sources,
 * built with -O2 and no sanitizers over fake physical memory (an arena
 * standing for 1 GiB of RAM, as in the unit tests), next to glibc's
 * malloc/free on the same workload in the same run.
 *
 * Every figure is one line "bench: <name> <value> <unit>". Each timed loop
 * runs in rounds until at least MIN_SECONDS have passed (after a short
 * untimed warm-up), so a figure is an average over ~0.3 s. The palloc,
 * valloc and pvalloc figures count alloc+free pairs (a batch of 1000
 * allocations then 1000 frees is 1000 pairs); the heap figures count
 * single operations.
 *
 * The mixed heap workload: rounds of BATCH allocations whose sizes are
 * log-uniform between 16 B and 4 KiB (one of the octaves 16-32, ...,
 * 2048-4096 with equal odds, then a size uniform in it: small blocks
 * dominate, as in a kernel, and one in eight is over 2 KiB), a write to
 * the first byte of each block, then BATCH
 * frees, either in reverse order (LIFO) or in a random order. The sizes
 * and the orders come from one fixed seed and are computed before timing;
 * kmalloc and glibc run exactly the same sequence, both called through a
 * function pointer. An op is one allocation or one free.
 *
 * glibc runs with its defaults except heap trimming: M_TRIM_THRESHOLD and
 * M_MMAP_THRESHOLD are raised so that it makes no system call inside the
 * timed loops, as kmalloc over the preallocated arena makes none. With
 * trimming on, glibc gives the heap top back to the kernel after each
 * LIFO round and looks slower than it is; bench: glibc_default_mixed
 * shows that configuration too, but the ratios use the faster one.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "kernel/console.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/valloc.h"
#include "mm/vm.h"

/* The kernel defines it in kernel/main.c; valloc.c refers to it. */
struct vm_ctx kernel_ctx;

#define ARENA_BYTES  (2ul << 30)
#define RAM_BASE     (16ul << 20)
#define RAM_BYTES    (1ul << 30)
#define MIN_SECONDS  0.3
#define WARM_SECONDS 0.05

#define BATCH	 1000
#define NSIZES	 (1u << 16)
#define NORDERS	 64
#define MIN_SIZE 16
#define MAX_SIZE 4096

static uint8_t *arena;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Fresh palloc, kmalloc and kernel context over the arena. */
static void mm_setup(void)
{
	if (!arena) {
		void *p = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			perror("mm_bench: mmap");
			exit(1);
		}
		arena = p;
	}
	mm_direct_map_offset = (uintptr_t)arena;
	const struct palloc_range r = {RAM_BASE, RAM_BYTES / PAGE_SIZE};
	if (palloc_init(&r, 1) || vm_ctx_init_kernel(&kernel_ctx) ||
	    vm_kernel_reserve_top_level(&kernel_ctx, VM_KERNEL_RANGES_BASE)) {
		fprintf(stderr, "mm_bench: cannot set up the allocators\n");
		exit(1);
	}
	kmalloc_init();
}

static void fail(const char *what)
{
	fprintf(stderr, "mm_bench: %s failed\n", what);
	exit(1);
}

/*
 * Runs round() until min_seconds have passed; each call does ops_per_round
 * operations. Returns operations per second.
 */
static double measure(void (*round)(void), double ops_per_round, double min_seconds)
{
	double start = now(), t;
	unsigned long rounds = 0;

	do {
		round();
		rounds++;
		t = now() - start;
	} while (t < min_seconds);
	return (double)rounds * ops_per_round / t;
}

static double run(void (*round)(void), double ops_per_round)
{
	measure(round, ops_per_round, WARM_SECONDS);
	return measure(round, ops_per_round, MIN_SECONDS);
}

static void line(const char *name, double value, const char *unit)
{
	printf("bench: %s %.3f %s\n", name, value, unit);
	fflush(stdout);
}

/* ------------------------------------------------------------ palloc */

#define PAIRS 1024

static void palloc_pairs_1page(void)
{
	for (int i = 0; i < PAIRS; i++) {
		paddr_t p = palloc(1);
		if (!p)
			fail("palloc(1)");
		pfree(p, 1);
	}
}

static void palloc_pairs_2mib(void)
{
	for (int i = 0; i < PAIRS; i++) {
		paddr_t p = palloc(512);
		if (!p)
			fail("palloc(512)");
		pfree(p, 512);
	}
}

static paddr_t held[BATCH];

static void palloc_batch_1page(void)
{
	for (int i = 0; i < BATCH; i++)
		if (!(held[i] = palloc(1)))
			fail("palloc(1)");
	for (int i = BATCH; i-- > 0;)
		pfree(held[i], 1);
}

/* ------------------------------------------------------------ valloc */

static void valloc_pairs_1page(void)
{
	for (int i = 0; i < PAIRS; i++) {
		vaddr_t v = valloc(1, &kernel_ctx);
		if (!v)
			fail("valloc(1)");
		vfree(v, 1, &kernel_ctx);
	}
}

static vaddr_t vheld[BATCH];

/* Allocate a batch, then free every other range and the rest: the pool
 * fragments into BATCH / 2 ranges and merges back. */
static void valloc_batch_1page(void)
{
	for (int i = 0; i < BATCH; i++)
		if (!(vheld[i] = valloc(1, &kernel_ctx)))
			fail("valloc(1)");
	for (int i = 0; i < BATCH; i += 2)
		vfree(vheld[i], 1, &kernel_ctx);
	for (int i = 1; i < BATCH; i += 2)
		vfree(vheld[i], 1, &kernel_ctx);
}

/* Steady state: main() holds one page mapped below, so the page tables
 * stay; without it each pair would also build and free a PD and a PT. */
static void pvalloc_pairs_1page(void)
{
	for (int i = 0; i < PAIRS / 8; i++) {
		vaddr_t v = pvalloc(1, &kernel_ctx, VM_WRITE);
		if (!v)
			fail("pvalloc(1)");
		pvfree(v, 1, &kernel_ctx);
	}
}

/* ------------------------------------------------------------ heaps */

struct heap {
	void *(*alloc)(size_t size);
	void (*free)(void *ptr);
};

static const struct heap kheap = {kmalloc, kfree};
static const struct heap glibc = {malloc, free};

static uint16_t sizes[NSIZES];
static uint16_t orders[NORDERS][BATCH];
static void *blocks[BATCH];

static const struct heap *heap;
static unsigned size_pos, order_pos;

static void make_workload(void)
{
	rng_state = 0x5eed5eed5eed5eedull;
	for (unsigned i = 0; i < NSIZES; i++) {
		/* An octave [16 << k, 32 << k), k in 0..7, then a size in it. */
		unsigned lo = MIN_SIZE << (rnd() % 8);
		sizes[i] = (uint16_t)(lo + rnd() % (lo + 1)); /* lo ... 2 lo: up to 4096 */
	}
	for (unsigned k = 0; k < NORDERS; k++) {
		for (unsigned i = 0; i < BATCH; i++)
			orders[k][i] = (uint16_t)i;
		for (unsigned i = BATCH - 1; i > 0; i--) {
			unsigned j = (unsigned)(rnd() % (i + 1));
			uint16_t t = orders[k][i];
			orders[k][i] = orders[k][j];
			orders[k][j] = t;
		}
	}
}

static void alloc_batch(void)
{
	for (unsigned i = 0; i < BATCH; i++) {
		char *p = heap->alloc(sizes[size_pos]);
		if (!p)
			fail("allocation");
		*(volatile char *)p = (char)i;
		blocks[i] = p;
		size_pos = (size_pos + 1) & (NSIZES - 1);
	}
}

static void mixed_lifo(void)
{
	alloc_batch();
	for (unsigned i = BATCH; i-- > 0;)
		heap->free(blocks[i]);
}

static void mixed_random(void)
{
	const uint16_t *order = orders[order_pos];

	alloc_batch();
	for (unsigned i = 0; i < BATCH; i++)
		heap->free(blocks[order[i]]);
	order_pos = (order_pos + 1) % NORDERS;
}

/* ops/s of one heap on one order, from the same starting point in the
 * size and order sequences. */
static double heap_run(const struct heap *h, void (*round)(void))
{
	heap = h;
	size_pos = order_pos = 0;
	return run(round, 2.0 * BATCH);
}

/* Combined rate of two phases of equal op counts per round: total ops over
 * total time, i.e. the harmonic mean. */
static double combined(double a, double b)
{
	return 2.0 / (1.0 / a + 1.0 / b);
}

int main(void)
{
	mm_setup();
	make_workload();

	line("palloc_pair_1page", run(palloc_pairs_1page, PAIRS) / 1e6, "Mops/s");
	line("palloc_pair_2mib", run(palloc_pairs_2mib, PAIRS) / 1e6, "Mops/s");
	line("palloc_batch1000_1page", run(palloc_batch_1page, BATCH) / 1e6, "Mops/s");
	line("valloc_pair_1page", run(valloc_pairs_1page, PAIRS) / 1e6, "Mops/s");
	line("valloc_batch1000_fragmenting", run(valloc_batch_1page, BATCH) / 1e6, "Mops/s");
	vaddr_t keep = pvalloc(1, &kernel_ctx, VM_WRITE);
	line("pvalloc_pair_1page", run(pvalloc_pairs_1page, PAIRS / 8) / 1e6, "Mops/s");
	pvfree(keep, 1, &kernel_ctx);

	double glibc_default =
	    combined(heap_run(&glibc, mixed_lifo), heap_run(&glibc, mixed_random));
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TOP_PAD, 16 << 20);

	double k_lifo = heap_run(&kheap, mixed_lifo);
	double g_lifo = heap_run(&glibc, mixed_lifo);
	double k_rand = heap_run(&kheap, mixed_random);
	double g_rand = heap_run(&glibc, mixed_random);

	line("kmalloc_mixed_lifo", k_lifo / 1e6, "Mops/s");
	line("glibc_mixed_lifo", g_lifo / 1e6, "Mops/s");
	line("kmalloc_mixed_random", k_rand / 1e6, "Mops/s");
	line("glibc_mixed_random", g_rand / 1e6, "Mops/s");
	line("glibc_default_mixed", glibc_default / 1e6, "Mops/s");
	line("kmalloc_lifo_vs_glibc", k_lifo / g_lifo, "x");
	line("kmalloc_random_vs_glibc", k_rand / g_rand, "x");
	line("kmalloc_mixed_vs_glibc", combined(k_lifo, k_rand) / combined(g_lifo, g_rand), "x");
	return 0;
}

/* The console under the kernel's kprintf (aspace.c prints through it). */
void console_write(const char *buf, size_t len)
{
	fwrite(buf, 1, len, stdout);
}

void console_set_colour(enum console_colour colour)
{
	(void)colour;
}
