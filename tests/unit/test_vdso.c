/*
 * The vDSO on the host: the TSC-to-time conversion it shares with the kernel
 * (include/solo/vvar.h), its image as the kernel embeds it (vdso/image.S,
 * linked into this test too), and the image itself run on the host CPU over
 * a data page this test fills in, compared with the conversion applied to
 * TSC readings taken around each call. Calls it leaves to the kernel go to
 * the host's Linux, which answers them the way Solo must.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <x86intrin.h>

#include <solo/vvar.h>

#include "kernel/time.h"

extern const char vdso_image_start[], vdso_image_end[];

#define PAGE 4096ul

/* ---------------------------------------------------------- conversion */

static const uint64_t rates[] = {1000000000ull,	    2500000000ull, 2899999999ull, 3000000001ull,
				 1193182ull * 1000, 4700000000ull, 100000000ull};

Test(vdso, conversion_gives_one_second_per_hz_ticks)
{
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t mult = vvar_ns_mult(rates[i]);
		uint64_t ns = vvar_ticks_ns(rates[i], mult);
		/* short by the truncations: the multiplier's and the shift's */
		cr_assert(ns <= 1000000000ull && ns >= 1000000000ull - 2, "%lu Hz: %lu ns",
			  rates[i], ns);
		/* A year: short by the multiplier's truncation, at most
		 * hz / (1e9 * 2^32): 2 ppb below 8.5 GHz (63 ms a year). */
		uint64_t year_ns = 365ull * 86400 * 1000000000ull;
		ns = vvar_ticks_ns(rates[i] * (year_ns / 1000000000ull), mult);
		cr_assert(ns <= year_ns && ns >= year_ns - year_ns / 500000000,
			  "%lu Hz: a year is %lu ns", rates[i], ns);
	}
	cr_assert_eq(vvar_ns_mult(0), 0);
	cr_assert_eq(vvar_ticks_ns(12345, 0), 0);
}

Test(vdso, conversion_never_goes_backwards)
{
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t mult = vvar_ns_mult(rates[i]);
		uint64_t starts[] = {0, 1, 999999, rates[i] * 3600 - 500, 1ull << 40, 1ull << 52};
		for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
			uint64_t prev = vvar_ticks_ns(starts[s], mult);
			for (uint64_t t = starts[s] + 1; t < starts[s] + 5000; t++) {
				uint64_t ns = vvar_ticks_ns(t, mult);
				cr_assert(ns >= prev && ns - prev <= 10, "%lu Hz at %lu", rates[i],
					  t);
				prev = ns;
			}
		}
	}
}

Test(vdso, monotonic_counts_from_the_base_and_is_zero_before_it)
{
	uint64_t mult = vvar_ns_mult(2500000000ull);

	cr_assert_eq(vvar_monotonic_ns(1000, 5000, mult), 0);
	cr_assert_eq(vvar_monotonic_ns(5000, 5000, mult), 0);
	cr_assert_eq(vvar_monotonic_ns(5000 + 2500000000ull, 5000, mult),
		     vvar_ticks_ns(2500000000ull, mult));
}

/* The timer hardware's conversion (time_ns_to_ticks, rounded up) and the
 * clocks' (rounded down) meet: a deadline's ticks read back as the
 * deadline less at most the multiplier's truncation (2 ppb) and a
 * nanosecond, and never later than a tick after it. */
Test(vdso, deadline_ticks_read_back_as_the_deadline)
{
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t mult = vvar_ns_mult(rates[i]);
		uint64_t tick_ns = 1000000000ull / rates[i] + 1;
		for (uint64_t ns = 1; ns < 100000000000ull; ns = ns * 3 + 7) {
			uint64_t back = vvar_ticks_ns(time_ns_to_ticks(ns, rates[i]), mult);
			cr_assert(back + 1 + ns / 500000000 >= ns && back <= ns + tick_ns,
				  "%lu Hz: %lu ns -> %lu ns", rates[i], ns, back);
		}
	}
}

/* ---------------------------------------------------------- the image */

struct image {
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	const Elf64_Sym *symtab;
	const char *strtab;
	const Elf64_Word *hash;
	const Elf64_Half *versym;
	const Elf64_Verdef *verdef;
	int gnu_hash, relocs, textrel;
};

/* Reads the dynamic section of the image at base (memory image: offsets
 * are addresses). */
static void open_image(struct image *im, const char *base)
{
	memset(im, 0, sizeof(*im));
	im->eh = (const Elf64_Ehdr *)base;
	im->ph = (const Elf64_Phdr *)(base + im->eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;
	for (int i = 0; i < im->eh->e_phnum; i++) {
		if (im->ph[i].p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)(base + im->ph[i].p_vaddr);
	}
	cr_assert(dyn, "no PT_DYNAMIC");
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const void *p = base + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			im->symtab = p;
			break;
		case DT_STRTAB:
			im->strtab = p;
			break;
		case DT_HASH:
			im->hash = p;
			break;
		case DT_GNU_HASH:
			im->gnu_hash = 1;
			break;
		case DT_VERSYM:
			im->versym = p;
			break;
		case DT_VERDEF:
			im->verdef = p;
			break;
		case DT_REL:
		case DT_RELA:
		case DT_JMPREL:
		case DT_RELR:
			im->relocs++;
			break;
		case DT_TEXTREL:
			im->textrel = 1;
			break;
		case DT_FLAGS:
			im->textrel |= !!(dyn->d_un.d_val & DF_TEXTREL);
			break;
		}
	}
	cr_assert(im->symtab && im->strtab && im->hash && im->versym && im->verdef);
}

static const char *version_of(const struct image *im, unsigned ndx)
{
	for (const Elf64_Verdef *d = im->verdef;;
	     d = (const Elf64_Verdef *)((const char *)d + d->vd_next)) {
		if ((d->vd_ndx & 0x7fff) == (ndx & 0x7fff)) {
			const Elf64_Verdaux *a = (const void *)((const char *)d + d->vd_aux);
			return im->strtab + a->vda_name;
		}
		if (!d->vd_next)
			return NULL;
	}
}

/* The offset of name at version LINUX_2.6 (a defined function), or 0. */
static uint64_t symbol(const struct image *im, const char *name)
{
	for (unsigned i = 1; i < im->hash[1]; i++) {
		const Elf64_Sym *s = &im->symtab[i];
		const char *ver = version_of(im, im->versym[i]);
		if (!strcmp(im->strtab + s->st_name, name) &&
		    ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_shndx != SHN_UNDEF && ver &&
		    !strcmp(ver, "LINUX_2.6"))
			return s->st_value;
	}
	return 0;
}

static const char *const exported[] = {"__vdso_clock_gettime", "__vdso_gettimeofday",
				       "__vdso_time",	       "__vdso_clock_getres",
				       "__vdso_getcpu",	       "clock_gettime",
				       "gettimeofday",	       "time",
				       "clock_getres",	       "getcpu"};

Test(vdso, image_is_a_read_only_shared_object_without_relocations)
{
	struct image im;
	size_t size = (size_t)(vdso_image_end - vdso_image_start);
	int loads = 0;

	cr_assert(size > 0 && size % PAGE == 0 && ((uintptr_t)vdso_image_start % PAGE) == 0);
	cr_assert(!memcmp(vdso_image_start, ELFMAG, SELFMAG));
	open_image(&im, vdso_image_start);
	cr_assert_eq(im.eh->e_type, ET_DYN);
	cr_assert_eq(im.eh->e_machine, EM_X86_64);
	for (int i = 0; i < im.eh->e_phnum; i++) {
		const Elf64_Phdr *p = &im.ph[i];
		cr_assert(!(p->p_flags & PF_W), "segment %d is writable", i);
		if (p->p_type == PT_LOAD) {
			loads++;
			/* The file is its own memory image, within the pages. */
			cr_assert_eq(p->p_offset, 0);
			cr_assert_eq(p->p_vaddr, 0);
			cr_assert_eq(p->p_filesz, p->p_memsz);
			cr_assert(p->p_memsz <= size);
		}
		cr_assert_neq(p->p_type, PT_INTERP);
		cr_assert_neq(p->p_type, PT_TLS);
	}
	cr_assert_eq(loads, 1);
	cr_assert_eq(im.relocs, 0, "the vDSO has relocation tables");
	cr_assert_eq(im.textrel, 0);
	cr_assert(im.gnu_hash, "no DT_GNU_HASH (glibc prefers it)");
	for (size_t i = 0; i < sizeof(exported) / sizeof(exported[0]); i++)
		cr_assert(symbol(&im, exported[i]), "%s@LINUX_2.6 missing", exported[i]);
	cr_assert_eq(symbol(&im, "clock_gettime"), symbol(&im, "__vdso_clock_gettime"));
	cr_assert_eq(symbol(&im, "read_ns"), 0, "internal symbols are not exported");
}

/* ---------------------------------------------------------- the code, run */

typedef long (*cgt_fn)(long, struct timespec *);

static char *mapped;
static struct vvar *page;
static struct image im;

/* The image after a data page, as vdso_map lays it out, on the host. */
static void map_image(void)
{
	size_t size = (size_t)(vdso_image_end - vdso_image_start);

	mapped =
	    mmap(NULL, PAGE + size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(mapped != MAP_FAILED);
	memcpy(mapped + PAGE, vdso_image_start, size);
	cr_assert_eq(mprotect(mapped + PAGE, size, PROT_READ | PROT_EXEC), 0);
	page = (struct vvar *)mapped;
	open_image(&im, mapped + PAGE);
}

static void *fn(const char *name)
{
	uint64_t off = symbol(&im, name);

	cr_assert(off, "%s", name);
	return mapped + PAGE + off;
}

/* A data page as time_init would publish it for a 2.5 GHz TSC, with the
 * host's TSC now at monotonic 10 s and the wall clock in 2024. */
#define HZ	  2500000000ull
#define WALL_BASE (1704067200ull * 1000000000ull)
static void publish(void)
{
	page->ns_mult = vvar_ns_mult(HZ);
	page->tsc_base = __rdtsc() - 10 * HZ;
	page->realtime_base_ns = WALL_BASE;
	page->version = VVAR_VERSION;
	page->seq = 2;
}

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

Test(vdso, clocks_read_the_data_page_with_the_shared_conversion, .init = map_image)
{
	cgt_fn cgt = fn("__vdso_clock_gettime");
	const long mono[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE,
			     CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM};
	const long real[] = {CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM};
	struct timespec ts;

	publish();
	for (int round = 0; round < 100; round++) {
		for (size_t i = 0; i < 5 + 3; i++) {
			int is_real = i >= 5;
			long id = is_real ? real[i - 5] : mono[i];
			uint64_t before = __rdtsc();
			cr_assert_eq(cgt(id, &ts), 0);
			uint64_t after = __rdtsc();
			uint64_t lo = vvar_monotonic_ns(before, page->tsc_base, page->ns_mult);
			uint64_t hi = vvar_monotonic_ns(after, page->tsc_base, page->ns_mult);
			uint64_t add = is_real ? WALL_BASE : 0;
			cr_assert(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
			cr_assert(ns_of(&ts) >= lo + add && ns_of(&ts) <= hi + add,
				  "clock %ld: %lu not in [%lu, %lu]", id, ns_of(&ts), lo + add,
				  hi + add);
		}
	}
}

Test(vdso, the_other_calls_agree, .init = map_image)
{
	long (*gtod)(struct timeval *, struct timezone *) = fn("__vdso_gettimeofday");
	long (*vtime)(time_t *) = fn("__vdso_time");
	long (*getres)(long, struct timespec *) = fn("__vdso_clock_getres");
	long (*getcpu)(unsigned *, unsigned *, void *) = fn("__vdso_getcpu");
	struct timeval tv;
	struct timezone tz = {-1, -1};
	struct timespec res = {-1, -1};
	time_t stored = 0;
	unsigned cpu = 5, node = 5;

	publish();
	uint64_t before = vvar_monotonic_ns(__rdtsc(), page->tsc_base, page->ns_mult) + WALL_BASE;
	cr_assert_eq(gtod(&tv, &tz), 0);
	long t = vtime(&stored);
	uint64_t after = vvar_monotonic_ns(__rdtsc(), page->tsc_base, page->ns_mult) + WALL_BASE;
	uint64_t us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	cr_assert(us >= before / 1000 && us <= after / 1000);
	cr_assert(tz.tz_minuteswest == 0 && tz.tz_dsttime == 0);
	cr_assert(t == stored && (uint64_t)t >= before / 1000000000ull &&
		  (uint64_t)t <= after / 1000000000ull);
	cr_assert_eq(getres(CLOCK_MONOTONIC, &res), 0);
	cr_assert(res.tv_sec == 0 && res.tv_nsec == 1);
	cr_assert_eq(getres(CLOCK_REALTIME, NULL), 0);
	/* The CPU comes from Solo's per-CPU GDT descriptor, which this host
	 * does not have: only that both answers are written (one node). The
	 * boot test smp/app_threads_run_on_four_cpus checks the CPU. */
	cr_assert_eq(getcpu(&cpu, &node, NULL), 0);
	cr_assert(cpu != 5 && node == 0);
}

/* What the vDSO does not compute goes to the kernel: here the host's. */
Test(vdso, other_clocks_and_an_unpublished_page_take_the_syscall, .init = map_image)
{
	cgt_fn cgt = fn("__vdso_clock_gettime");
	struct timespec ts, host;

	publish();
	cr_assert_eq(cgt(1000, &ts), -EINVAL);
	cr_assert_eq(cgt(CLOCK_TAI, &ts), 0); /* the host has TAI; Solo answers -EINVAL */
	cr_assert_eq(cgt(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
	cr_assert_eq(((long (*)(long, struct timespec *))fn("__vdso_clock_getres"))(1000, &ts),
		     -EINVAL);

	page->version = 0; /* before time_init: nothing to compute from */
	cr_assert_eq(cgt(CLOCK_MONOTONIC, &ts), 0);
	clock_gettime(CLOCK_MONOTONIC, &host);
	cr_assert(ns_of(&ts) <= ns_of(&host) && ns_of(&host) - ns_of(&ts) < 1000000000ull,
		  "the host's monotonic clock: %lu then %lu", ns_of(&ts), ns_of(&host));
}
