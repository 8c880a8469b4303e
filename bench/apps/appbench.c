/*
 * appbench - the driver of make bench-apps (tools/bench-apps.sh): one static
 * musl program that runs one workload of real code and times it with the TSC
 * inside the guest, around the work only (not the process's start, not the
 * output). The same binary runs on Solo, on Debian's Linux in the same QEMU
 * and natively on the host, whose checksum is the oracle of the other two.
 *
 *   appbench WORKLOAD [ARG]     prints "bench-apps: WORKLOAD tsc N check X minflt F"
 *   appbench gen FILE MIB       writes the input file of read and mmap
 *
 * WORKLOAD and ARG (the defaults are the paths of both guests' images):
 *   sqlite [DB]    the sqlite3 amalgamation in-process: 200k inserts in
 *                  transactions, two indexes, aggregates, a join [/tmp/appbench.db]
 *   lua [SCRIPT]   Lua 5.4 embedded, running a GC-heavy script [/bench/gc.lua]
 *   malloc [N]     N malloc/free pairs of 16 B - 64 KiB, every page touched [1000000]
 *   realloc [MIB]  one block grown by realloc, 4 KiB at a time, to MIB MiB [64]
 *   read [FILE]    FILE read in 4 KiB reads and summed [/bench/data.bin]
 *   mmap [FILE]    FILE mapped (MAP_PRIVATE, PROT_READ) and summed [/bench/data.bin]
 *   maptouch [FILE]  FILE mapped the same way, one word read per page [/bench/data.bin]
 *   futex [N]      two threads hand a token back and forth N times [100000]
 *
 * X is a checksum of the work's result (16 hex digits) that depends on no
 * address, time or scheduling order. F is the page faults the work took
 * (getrusage's ru_minflt, read outside the timed part). Exit status 0, or 1 with a message on
 * stderr when the work fails (the line is then not printed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "sqlite3.h"

#define PAGE 4096ul
/* <linux/futex.h> is not in musl-gcc's include path; the ABI's values. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

/* lfence keeps rdtsc from starting before the work's earlier instructions
 * end; rdtscp waits for them at the end, the lfence after it keeps later
 * instructions from starting before the read. */
static inline uint64_t tsc_begin(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t tsc_end(void)
{
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp; lfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static _Noreturn void fail(const char *what, const char *detail)
{
	fprintf(stderr, "appbench: %s: %s\n", what, detail);
	exit(1);
}

/* FNV-1a over bytes: the checksum of results that are text or bytes. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static long arg_long(const char *arg, long dflt, long max)
{
	if (!arg)
		return dflt;
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || *end || v <= 0 || v > max)
		fail("bad count", arg);
	return v;
}

/* ---------------------------------------------------------------- sqlite */

static uint64_t sql_hash;

static int sql_row(void *unused, int n, char **vals, char **names)
{
	(void)unused;
	(void)names;
	for (int i = 0; i < n; i++) {
		const char *v = vals[i] ? vals[i] : "NULL";
		sql_hash = fnv(sql_hash, v, strlen(v) + 1);
	}
	return 0;
}

static void sql(sqlite3 *db, const char *text)
{
	char *err = NULL;
	if (sqlite3_exec(db, text, sql_row, NULL, &err) != SQLITE_OK)
		fail(text, err ? err : "sqlite3_exec failed");
}

/* Deterministic rows: customers and their orders. The file is a real
 * on-disk database with its rollback journal, so the kernel's file paths
 * (write, pwrite, fsync, ftruncate, unlink, fcntl locks) are in the work. */
static uint64_t work_sqlite(const char *path)
{
	enum { CUSTOMERS = 20000, ORDERS = 180000, PER_TX = 10000 };
	static const char *const cities[] = {"Oslo", "Lima", "Pune", "Kyiv",
					     "Rome", "Agra", "Cork", "Bern"};
	sqlite3 *db;
	sqlite3_stmt *cust, *ord;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char name[32];

	unlink(path);
	sql_hash = FNV_INIT;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		fail(path, sqlite3_errmsg(db));
	sql(db,
	    "CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT, since INT);"
	    "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INT, amount INT, item TEXT);");
	if (sqlite3_prepare_v2(db, "INSERT INTO customer VALUES(?1, ?2, ?3, ?4)", -1, &cust,
			       NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO orders VALUES(?1, ?2, ?3, ?4)", -1, &ord, NULL))
		fail("prepare", sqlite3_errmsg(db));
	for (int i = 0; i < CUSTOMERS + ORDERS; i++) {
		if (i % PER_TX == 0)
			sql(db, "BEGIN");
		uint64_t r = xorshift(&seed);
		sqlite3_stmt *st = i < CUSTOMERS ? cust : ord;
		if (i < CUSTOMERS) {
			snprintf(name, sizeof name, "c%08llx", (unsigned long long)(r >> 20));
			sqlite3_bind_int(st, 1, i + 1);
			sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, cities[r % 8], -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 4, 1990 + (int)(r >> 8) % 35);
		} else {
			snprintf(name, sizeof name, "item-%u", (unsigned)(r >> 40) % 5000);
			sqlite3_bind_int(st, 1, i - CUSTOMERS + 1);
			sqlite3_bind_int(st, 2, 1 + (int)((r >> 3) % CUSTOMERS));
			sqlite3_bind_int(st, 3, (int)((r >> 17) % 100000));
			sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			fail("insert", sqlite3_errmsg(db));
		sqlite3_reset(st);
		if (i % PER_TX == PER_TX - 1 || i == CUSTOMERS + ORDERS - 1)
			sql(db, "COMMIT");
	}
	sqlite3_finalize(cust);
	sqlite3_finalize(ord);
	sql(db, "CREATE INDEX orders_customer ON orders(customer);"
		"CREATE INDEX customer_city ON customer(city, since);");
	sql(db, "SELECT count(*), sum(amount), min(amount), max(amount), avg(amount) FROM orders;");
	sql(db, "SELECT city, count(*), min(since), max(since) FROM customer GROUP BY city ORDER "
		"BY city;");
	sql(db, "SELECT item, count(*), sum(amount) FROM orders GROUP BY item "
		"ORDER BY sum(amount) DESC, item LIMIT 20;");
	sql(db, "SELECT c.city, count(o.id), sum(o.amount) FROM customer c JOIN orders o "
		"ON o.customer = c.id WHERE c.since >= 2000 GROUP BY c.city ORDER BY c.city;");
	sql(db,
	    "SELECT c.name, t.total FROM customer c JOIN (SELECT customer, sum(amount) AS total "
	    "FROM orders GROUP BY customer) t ON t.customer = c.id ORDER BY t.total DESC, c.id "
	    "LIMIT 50;");
	sql(db, "SELECT count(*) FROM customer c WHERE NOT EXISTS "
		"(SELECT 1 FROM orders o WHERE o.customer = c.id);");
	sql(db, "BEGIN; UPDATE orders SET amount = amount + 1 WHERE customer % 7 = 0;"
		"DELETE FROM orders WHERE amount < 1000; COMMIT;");
	sql(db, "SELECT count(*), sum(amount) FROM orders;");
	if (sqlite3_close(db) != SQLITE_OK)
		fail("close", "sqlite3_close failed");
	unlink(path);
	return sql_hash;
}

/* ---------------------------------------------------------------- lua */

/* The script's return value (an integer) is the checksum. */
static uint64_t work_lua(const char *script)
{
	lua_State *L = luaL_newstate();
	if (!L)
		fail("lua", "luaL_newstate failed");
	luaL_openlibs(L);
	if (luaL_dofile(L, script) != LUA_OK)
		fail(script, lua_tostring(L, -1));
	int ok;
	lua_Integer v = lua_tointegerx(L, -1, &ok);
	if (!ok)
		fail(script, "did not return an integer");
	lua_close(L);
	return (uint64_t)v;
}

/* ---------------------------------------------------------------- malloc */

/* Sizes log-uniform over 16 B - 64 KiB (so small blocks dominate the count
 * and large ones the bytes), into 4096 slots picked at random: a slot's old
 * block is freed as the new one takes its place. Every page of a new block is
 * written; its first byte is read back before the free. */
static uint64_t work_malloc(long n)
{
	enum { SLOTS = 4096 };
	static unsigned char *slot[SLOTS];
	static size_t len[SLOTS];
	uint64_t seed = 0x2545f4914f6cdd1dull, sum = 0;

	for (long i = 0; i < n; i++) {
		uint64_t r = xorshift(&seed);
		unsigned k = r % SLOTS;
		if (slot[k]) {
			sum = sum * 31 + slot[k][0] + slot[k][len[k] - 1];
			free(slot[k]);
		}
		/* 2^(4 + 12 * u) for u uniform in [0, 1): 16 B .. 64 KiB. */
		unsigned bits = 4 + (unsigned)((r >> 12) % 12);
		size_t size = ((size_t)1 << bits) + (size_t)((r >> 32) & (((size_t)1 << bits) - 1));
		unsigned char *p = malloc(size);
		if (!p)
			fail("malloc", "out of memory");
		for (size_t off = 0; off < size; off += PAGE)
			p[off] = (unsigned char)(i + off / PAGE);
		p[size - 1] = (unsigned char)(i >> 8);
		slot[k] = p;
		len[k] = size;
	}
	for (unsigned k = 0; k < SLOTS; k++)
		if (slot[k]) {
			sum = sum * 31 + slot[k][0];
			free(slot[k]);
			slot[k] = NULL;
		}
	return sum;
}

/* ---------------------------------------------------------------- realloc */

/* One block grown 4 KiB at a time; each new page gets its index, and at the
 * end every page is read back (realloc must have kept them all). */
static uint64_t work_realloc(long mib)
{
	size_t end = (size_t)mib << 20, size = 0;
	unsigned char *p = NULL;
	uint64_t sum = 0;

	while (size < end) {
		size_t grown = size + PAGE;
		unsigned char *q = realloc(p, grown);
		if (!q)
			fail("realloc", "out of memory");
		p = q;
		p[size] = (unsigned char)(size / PAGE);
		p[size + PAGE / 2] = (unsigned char)(size / PAGE >> 8);
		size = grown;
	}
	for (size_t off = 0; off < size; off += PAGE)
		sum = sum * 31 + p[off] + ((uint64_t)p[off + PAGE / 2] << 8);
	free(p);
	return sum;
}

/* ---------------------------------------------------------------- read, mmap */

/* The words of the file in order, in a sum that depends on the order: read
 * and mmap give the same value for the same file. */
static inline uint64_t sum_words(uint64_t s, const uint64_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s = (s ^ w[i]) * 0x9e3779b97f4a7c15ull;
	return s;
}

static uint64_t work_read(const char *path)
{
	static uint64_t buf[PAGE / 8];
	uint64_t s = FNV_INIT;
	size_t total = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		fail(path, strerror(errno));
	for (;;) {
		ssize_t got = read(fd, buf, PAGE);
		if (got < 0)
			fail(path, strerror(errno));
		if (got == 0)
			break;
		if (got % 8)
			fail(path, "a read that is not a multiple of 8 bytes");
		s = sum_words(s, buf, (size_t)got / 8);
		total += (size_t)got;
	}
	close(fd);
	return s ^ total;
}

static uint64_t work_mmap(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		fail(path, strerror(errno));
	if (st.st_size % 8)
		fail(path, "size not a multiple of 8 bytes");
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		fail(path, strerror(errno));
	close(fd);
	uint64_t s = sum_words(FNV_INIT, m, (size_t)st.st_size / 8);
	munmap(m, (size_t)st.st_size);
	return s ^ (uint64_t)st.st_size;
}

/* The mapping path alone: the same file mapped, one word read per page, so
 * the kernel's faults (and fault-around) are most of the work rather than
 * the sum. */
static uint64_t work_maptouch(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		fail(path, strerror(errno));
	const volatile uint64_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		fail(path, strerror(errno));
	close(fd);
	uint64_t h = FNV_INIT;
	for (size_t off = 0; off + 8 <= (size_t)st.st_size; off += PAGE)
		h = (h ^ m[off / 8]) * 0x100000001b3ull;
	munmap((void *)m, (size_t)st.st_size);
	return h ^ (uint64_t)st.st_size;
}

/* ---------------------------------------------------------------- futex */

/* The token: whose turn it is (0 main, 1 the other thread). The value
 * handed over is an LCG state each side advances on its turn, so the result
 * depends on every handoff happening, in order. */
static _Atomic int turn;
static uint64_t baton;
static long handoffs;

static void futex_wait(_Atomic int *w, int val)
{
	long r = syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
	if (r < 0 && errno != EAGAIN && errno != EINTR)
		fail("futex wait", strerror(errno));
}

static void futex_wake(_Atomic int *w)
{
	if (syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
		fail("futex wake", strerror(errno));
}

static void play(int me, long rounds)
{
	for (long i = 0; i < rounds; i++) {
		while (atomic_load(&turn) != me)
			futex_wait(&turn, !me);
		baton = baton * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)me;
		atomic_store(&turn, !me);
		futex_wake(&turn);
	}
}

static void *other_side(void *unused)
{
	(void)unused;
	play(1, handoffs);
	return NULL;
}

static uint64_t work_futex(long n)
{
	pthread_t t;

	handoffs = n;
	baton = 1;
	atomic_store(&turn, 0);
	if (pthread_create(&t, NULL, other_side, NULL))
		fail("futex", "pthread_create failed");
	play(0, n);
	pthread_join(t, NULL);
	return baton;
}

/* ---------------------------------------------------------------- main */

static void gen(const char *path, const char *mib_arg)
{
	static uint64_t buf[PAGE / 8];
	long mib = arg_long(mib_arg, 0, 1024);
	uint64_t seed = 0x853c49e6748fea9bull;
	FILE *f = fopen(path, "wb");

	if (!f)
		fail(path, strerror(errno));
	for (long i = 0; i < mib * 256; i++) {
		for (size_t k = 0; k < PAGE / 8; k++)
			buf[k] = xorshift(&seed);
		if (fwrite(buf, PAGE, 1, f) != 1)
			fail(path, strerror(errno));
	}
	if (fclose(f))
		fail(path, strerror(errno));
}

int main(int argc, char **argv)
{
	const char *w = argc > 1 ? argv[1] : "", *arg = argc > 2 ? argv[2] : NULL;
	uint64_t check, t0, t1;

	if (!strcmp(w, "gen") ? argc != 4 : argc > 3)
		fail("usage", "appbench WORKLOAD [ARG] | appbench gen FILE MIB");
	if (!strcmp(w, "gen")) {
		gen(argv[2], argv[3]);
		return 0;
	}
	/* The faults the work takes (ru_minflt, read outside the timed part):
	 * what tells the kernels' memory paths apart. */
	struct rusage usage;
	getrusage(RUSAGE_SELF, &usage);
	long minflt0 = usage.ru_minflt;
	/* Each branch is the same shape: everything the work needs is in its
	 * argument, and only the call is between the two reads. */
	if (!strcmp(w, "sqlite")) {
		const char *a = arg ? arg : "/tmp/appbench.db";
		t0 = tsc_begin();
		check = work_sqlite(a);
		t1 = tsc_end();
	} else if (!strcmp(w, "lua")) {
		const char *a = arg ? arg : "/bench/gc.lua";
		t0 = tsc_begin();
		check = work_lua(a);
		t1 = tsc_end();
	} else if (!strcmp(w, "malloc")) {
		long n = arg_long(arg, 1000000, 100000000);
		t0 = tsc_begin();
		check = work_malloc(n);
		t1 = tsc_end();
	} else if (!strcmp(w, "realloc")) {
		long mib = arg_long(arg, 64, 4096);
		t0 = tsc_begin();
		check = work_realloc(mib);
		t1 = tsc_end();
	} else if (!strcmp(w, "read")) {
		const char *a = arg ? arg : "/bench/data.bin";
		t0 = tsc_begin();
		check = work_read(a);
		t1 = tsc_end();
	} else if (!strcmp(w, "mmap")) {
		const char *a = arg ? arg : "/bench/data.bin";
		t0 = tsc_begin();
		check = work_mmap(a);
		t1 = tsc_end();
	} else if (!strcmp(w, "maptouch")) {
		const char *a = arg ? arg : "/bench/data.bin";
		t0 = tsc_begin();
		check = work_maptouch(a);
		t1 = tsc_end();
	} else if (!strcmp(w, "futex")) {
		long n = arg_long(arg, 100000, 100000000);
		t0 = tsc_begin();
		check = work_futex(n);
		t1 = tsc_end();
	} else {
		fail("unknown workload", w);
	}
	getrusage(RUSAGE_SELF, &usage);
	printf("bench-apps: %s tsc %llu check %016llx minflt %ld\n", w,
	       (unsigned long long)(t1 - t0), (unsigned long long)check, usage.ru_minflt - minflt0);
	return 0;
}
