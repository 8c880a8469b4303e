/* /proc/self/status and /proc/self/statm in Linux's format (see procstatus.h). */
#include "fs/procstatus.h"

#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "mm/aspace.h"
#include "mm/vm.h"

#define KB(pages) ((unsigned long)(pages) * (PAGE_SIZE / 1024))

static int holds(const struct region *r, uint64_t va)
{
	return va && va >= r->base && va < r->base + r->npages * PAGE_SIZE;
}

/* An image page by page: its permissions live in the page tables (each
 * segment has its own), so text, data and rss are read there. */
static void count_image(const struct aspace *as, const struct region *r, int program,
			struct procstatus_mem *m)
{
	for (size_t i = 0; i < r->npages; i++) {
		paddr_t pa;
		unsigned f;

		if (vm_lookup(&as->ctx, r->base + i * PAGE_SIZE, &pa, &f))
			continue;
		m->size++;
		m->rss++;
		m->rss_file++;
		if ((f & VM_EXEC) && !(f & VM_WRITE))
			*(program ? &m->exe : &m->lib) += 1;
		if (f & VM_WRITE)
			m->data++;
	}
}

/* The borrowed (the object's own) pages among r's backed ones: file pages;
 * the private copies are the app's. Stops once every backed page was seen. */
static size_t count_borrowed(const struct aspace *as, const struct region *r)
{
	size_t seen = 0, borrowed = 0;

	for (size_t i = 0; i < r->npages && seen < r->backed; i++) {
		paddr_t pa;
		unsigned f;

		if (vm_lookup(&as->ctx, r->base + i * PAGE_SIZE, &pa, &f))
			continue;
		seen++;
		borrowed += (f & VM_BORROWED) != 0;
	}
	return borrowed;
}

void procstatus_mem(const struct aspace *as, const struct procstatus_info *info,
		    struct procstatus_mem *out)
{
	size_t image = 0;

	*out = (struct procstatus_mem){0};
	for (const struct region *r = as->regions; r; r = r->next) {
		size_t backed = aspace_region_backed(as, r);
		int exec = (r->flags & VM_EXEC) && !(r->flags & VM_WRITE);

		if (r->kind == REGION_IMAGE)
			image += backed;
		if (r->kind == REGION_IMAGE && !holds(r, info->vdso)) {
			count_image(as, r, !holds(r, info->interp_base), out);
			continue;
		}
		out->rss += backed;
		if (r->kind == REGION_STACK) {
			out->size += backed;
			out->stack += backed;
			continue;
		}
		out->size += r->npages;
		if (r->kind == REGION_DEVICE || r->kind == REGION_IMAGE)
			out->rss_file += backed; /* the vDSO, vvar, device memory */
		else if (r->obj)
			out->rss_file += count_borrowed(as, r);
		if (exec)
			out->lib += r->npages;
		if ((r->flags & VM_WRITE) && !(r->obj && r->shared))
			out->data += r->npages;
	}
	out->hwm = MAX(out->rss, image + as->backed_peak);
}

long procstatus_statm(const struct aspace *as, const struct procstatus_info *info, char *buf,
		      size_t size)
{
	struct procstatus_mem m;

	procstatus_mem(as, info, &m);
	return ksnprintf(buf, size, "%zu %zu %zu %zu 0 %zu 0\n", m.size, m.rss, m.rss_file, m.exe,
			 m.data + m.stack);
}

long procstatus_status(const struct aspace *as, const struct procstatus_info *info, char *buf,
		       size_t size)
{
	struct procstatus_mem m;
	char comm[16]; /* Linux's TASK_COMM_LEN */
	size_t n = MIN(strlen(info->name), sizeof(comm) - 1);

	memcpy(comm, info->name, n);
	comm[n] = '\0';
	procstatus_mem(as, info, &m);
	return ksnprintf(
	    buf, size,
	    "Name:\t%s\nUmask:\t0%c%c%c\nState:\tR (running)\nTgid:\t1\nNgid:\t0\nPid:\t1\n"
	    "PPid:\t0\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\n"
	    "Groups:\t\nNStgid:\t1\nNSpid:\t1\nNSpgid:\t1\nNSsid:\t1\n"
	    "VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmLck:\t%8lu kB\nVmPin:\t%8lu kB\n"
	    "VmHWM:\t%8lu kB\nVmRSS:\t%8lu kB\nRssAnon:\t%8lu kB\nRssFile:\t%8lu kB\n"
	    "RssShmem:\t%8lu kB\nVmData:\t%8lu kB\nVmStk:\t%8lu kB\nVmExe:\t%8lu kB\n"
	    "VmLib:\t%8lu kB\nVmPTE:\t%8lu kB\nVmSwap:\t%8lu kB\nHugetlbPages:\t%8lu kB\n"
	    "CoreDumping:\t0\nTHP_enabled:\t0\nThreads:\t%d\nSigQ:\t0/0\n"
	    "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
	    "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
	    "SigCgt:\t0000000000000000\nCapInh:\t0000000000000000\n"
	    "CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
	    "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\n"
	    "Seccomp:\t0\nSeccomp_filters:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\n"
	    "SpeculationIndirectBranch:\tconditional enabled\nCpus_allowed:\t1\n"
	    "Cpus_allowed_list:\t0\nMems_allowed:\t00000000,00000001\n"
	    "Mems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\n"
	    "nonvoluntary_ctxt_switches:\t0\n",
	    comm, '0' + (info->umask >> 6 & 7), '0' + (info->umask >> 3 & 7),
	    '0' + (info->umask & 7), KB(m.size), KB(m.size), KB(0), KB(0), KB(m.hwm), KB(m.rss),
	    KB(m.rss - m.rss_file), KB(m.rss_file), KB(0), KB(m.data), KB(m.stack), KB(m.exe),
	    KB(m.lib), KB(0), KB(0), KB(0), info->threads);
}
