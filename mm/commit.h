/*
 * commit - commit accounting: how much private writable memory the app was
 * promised (the charge), and whether more may be promised
 * (boot.cfg overcommit=, Linux's vm.overcommit_memory, Windows' commit
 * charge). mm/aspace.c keeps the counts as regions change; this module
 * holds the totals, the mode and the arithmetic, and knows nothing of
 * palloc (host-tested as is).
 *
 * What is charged: every page of a HEAP, STACK or MAPPING region that is
 * writable and private (anonymous, shared anonymous, which with one
 * process is private memory, and private file mappings, whose writes make
 * copies), from when it is mapped (or made writable, or grown) until it is
 * unmapped (or made read-only or PROT_NONE, or shrunk) or the address space
 * goes. PROT_NONE reservations, read-only and executable mappings, shared
 * file mappings (the file's pages: tmpfs counts them), the ELF image
 * (backed at load) and device memory are not. Lazily freed pages
 * (MADV_FREE) stay charged: the app may write them again.
 *
 * Three totals, in pages:
 *   charged  the pages charged;
 *   owned    of those, the ones backed by a frame the app owns now (a
 *            borrowed page of a file is not: its first write copies);
 *   tables   a budget for the page tables the charged regions may still
 *            need: for each charged region, the most tables its range can
 *            need (aspace.c's tables_bound).
 * held = charged - owned + tables is what a demand fault on charged memory
 * may still take from palloc.
 *
 * The invariant (strict mode; mm/aspace.h says who keeps it):
 *   palloc's free pages >= ASPACE_KERNEL_RESERVE_PAGES + held
 * up to the tables already made inside charged regions, which the budget
 * counts again (so it errs on the safe side). New charges are checked
 * against it, and so is every page palloc gives for anything the app
 * causes that is not a charged page (tmpfs pages, uncharged faults, page
 * tables of uncharged regions), so a demand fault on charged memory always
 * finds its page and its tables: the app sees ENOMEM from mmap, brk,
 * mprotect or mremap instead of a kill at a touch. Lazy mode keeps the
 * counts but checks nothing (held is not kept free): today's overcommit.
 *
 * Not re-entrant; no locks (one CPU, interrupts off in syscalls).
 */
#pragma once

#include <stddef.h>

enum commit_mode {
	COMMIT_LAZY = 0, /* every mapping succeeds; a touch with no page kills */
	COMMIT_STRICT,	 /* charges are checked when made */
};

struct commit_stats {
	size_t charged, owned, tables; /* pages, as above */
	size_t peak_charged;	       /* the most charged at once since boot */
};

void commit_set_mode(enum commit_mode mode);
enum commit_mode commit_mode(void);

/* Adds the signed deltas (pages) to the totals. A total that would go below
 * zero, or owned above charged, is a broken invariant: panic. */
void commit_add(long dcharged, long downed, long dtables);

/* The totals now. O(1). */
void commit_get_stats(struct commit_stats *out);

/* held (see above) in strict mode, 0 in lazy mode: the pages every
 * allocation that is not a charged page must leave free beyond the
 * kernel's reserve. O(1). */
size_t commit_held(void);

/*
 * commit_limit - /proc/meminfo's CommitLimit: the most the charge could
 * reach now, given free_pages free in palloc and the kernel's reserve of
 * reserve_pages: the frames the app owns in charged memory plus what is
 * free beyond the reserve and the table budget (0 when that is negative).
 * It moves as tmpfs and the kernel take or give back memory. Pure.
 */
size_t commit_limit(size_t free_pages, size_t reserve_pages);

/* Forgets every total and the peak, and goes back to lazy mode (host tests). */
void commit_reset(void);
