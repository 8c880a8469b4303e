/*
 * The app's lifecycle (see app.h): what it needs set up before its first
 * instruction (its file tree, threads, descriptors, address space) and
 * taken down after its last, in the order that keeps every pointer valid.
 */
#include "kernel/app.h"

#include "fs/fdtable.h"
#include "fs/rootfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/signal.h"
#include "kernel/arch/x86_64/apic_timer.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/args.h"
#include "kernel/console.h"
#include "kernel/exec.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/loader.h"
#include "kernel/lockstat.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/power.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "kernel/vdso.h"
#include "mm/commit.h"
#include "mm/failinj.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "net/netcfg.h"
#include "net/stack.h"
#include "net/unix.h"

extern struct vm_ctx app_view_template;

static struct {
	struct aspace as;
	struct app_image image;
	enum bootcfg_on_exit on_exit;
	int loaded;
	size_t free_before_load;      /* palloc free pages before the app, heap trimmed */
	size_t free_baseline;	      /* palloc free pages expected once the app is gone */
	size_t commit_limit_at_start; /* CommitLimit before the app was loaded, pages */
	uint64_t minor_faults;	      /* faults that backed or copied a page: ru_minflt */
} app;

uint64_t app_minor_faults(void)
{
	return app.minor_faults;
}

struct aspace *app_aspace(void)
{
	return &app.as;
}

const struct vm_ctx *app_context(void)
{
	return &app.as.ctx;
}

void app_note_free_baseline(size_t returned_pages)
{
	app.free_baseline = app.free_before_load + returned_pages;
}

/* Every page the app took must be back in palloc: a leak here is a kernel
 * bug, and the boot log says so in numbers. */
static void report_returned_memory(void)
{
	struct palloc_stats st;

	kmalloc_trim();
	palloc_get_stats(&st);
	/* Before the free-pages line: the harness reads the last memory line. */
	struct commit_stats cs;
	commit_get_stats(&cs);
	kinfo("solo: memory: commit charge peak %zu KiB, limit %zu KiB at start (overcommit=%s)\n",
	      cs.peak_charged * (PAGE_SIZE / 1024), app.commit_limit_at_start * (PAGE_SIZE / 1024),
	      commit_mode() == COMMIT_STRICT ? "strict" : "lazy");
	kinfo("solo: memory: %zu pages free after the app, %zu before it\n", st.free_pages,
	      app.free_baseline);
}

/* With failalloc= (the sanitized kernel): how many allocations the app's
 * run made and how many were failed on purpose; the sweeps read it. */
static void report_failed_allocations(void)
{
	struct failinj_stats st;

	if (!failinj_enabled())
		return;
	failinj_get_stats(&st);
	kinfo("solo: failalloc: %lu of %lu allocations failed\n", st.failed, st.points);
}

/* How the app's sleeps went: a sleep that halts shows about one timer
 * interrupt and one wake-up per sleep, a spin shows none. */
static void report_timer(void)
{
	uint64_t interrupts = 0, spurious = 0;

	for (unsigned c = 0; c < SMP_MAX_CPUS; c++) {
		if (smp_cpu_online(c)) {
			interrupts += cpu_entries[c].cpu->timer_interrupts;
			spurious += cpu_entries[c].cpu->spurious_interrupts;
		}
	}
	kdebug("solo: timer: %lu interrupts, %lu wake-ups from hlt, %lu spurious\n", interrupts,
	       apic_timer_wakeups(), spurious);
}

static void report_shared_fault_lock(void);

_Noreturn void app_exit(int status)
{
	/* The exit line is the last line of the log (the serial contract), so
	 * the app's memory is returned and reported first. Threads leave their
	 * wait queues before the files that own the queues go; mappings go
	 * before the file system whose files they hold. */
	failinj_disarm(); /* the teardown is the kernel's own (mm/failinj.h) */
	if (app.loaded) {
		app.loaded = 0;
		report_shared_fault_lock(); /* the app's run, without its teardown */
		lockstat_report();
		thread_release_all();
		timer_release_all();
		fd_table_release();
		unix_release_in_flight(); /* what only descriptors in flight held */
		net_app_exit();		  /* after the sockets closed: what lwIP still holds */
		arch_switch_address_space(kernel_ctx.root);
		aspace_destroy(&app.as);
		rootfs_unmount();
		proc_release();
		report_failed_allocations();
		report_returned_memory();
		report_timer();
	}
	console_set_cursor(0); /* nobody types to an app that is gone */
	kprintf("solo: exit %d\n", status & 0xff);
	power_finish(app.on_exit);
}

/* Backs every unbacked page of [addr, addr + len) that the app could
 * access with access; returns -EFAULT at the first page it may not. */
static int back_user_range(uint64_t addr, size_t len, unsigned access)
{
	if (!len)
		return 0;
	if (addr >= VM_USER_TOP || len > VM_USER_TOP - addr)
		return -EFAULT;
	for (uint64_t page = ALIGN_DOWN(addr, PAGE_SIZE); page < addr + len; page += PAGE_SIZE) {
		unsigned flags, how = access;
		if (!vm_lookup(&app.as.ctx, page, NULL, &flags)) {
			/* Present: only a write to a read-only page can still be
			 * made to work (a copy-on-write file page). */
			if (!(access & ASPACE_ACCESS_WRITE) || (flags & VM_WRITE))
				continue;
			how |= ASPACE_ACCESS_PRESENT;
		}
		if (syscall_shared()) {
			/* A shared syscall's buffer: what the shared fault
			 * cannot back, the call's run under the lock will. */
			if (app_page_fault_shared(page, how)) {
				(void)syscall_needs_lock();
				return -EFAULT;
			}
			continue;
		}
		int err = aspace_fault(&app.as, page, how);
		app.minor_faults += !err;
		if (err == -ENOMEM)
			app_kill(SIGKILL, "out of memory: no page for a syscall's buffer", 0, page);
		if (err)
			return -EFAULT;
	}
	return 0;
}

int app_copy_to(uint64_t dst, const void *src, size_t len)
{
	int err = vm_copy_to_user(&app.as.ctx, dst, src, len);

	if (err && !back_user_range(dst, len, ASPACE_ACCESS_WRITE))
		err = vm_copy_to_user(&app.as.ctx, dst, src, len);
	return err;
}

int app_copy_from(void *dst, uint64_t src, size_t len)
{
	int err = vm_copy_from_user(&app.as.ctx, dst, src, len);

	if (err && !back_user_range(src, len, ASPACE_ACCESS_READ))
		err = vm_copy_from_user(&app.as.ctx, dst, src, len);
	return err;
}

int app_page_fault(uint64_t addr, unsigned access, uint64_t rip)
{
	int err = aspace_fault(&app.as, addr, access);

	if (!err) {
		app.minor_faults++;
		return 0;
	}
	if (err == -ENOMEM)
		app_kill(SIGKILL, "out of memory: no page for a demand fault", rip, addr);
	return err;
}

/* What the demand faults beside each other share: palloc and the counts.
 * The flags live here because sync's calls have no room for them; only the
 * holder reads or writes them. */
static struct spinlock shared_fault_lock = SPINLOCK_INIT("shared faults", LOCK_SHARED_FAULT);
static unsigned long shared_fault_flags;

/* With lockstat=1, each CPU times its own turns of that lock (a line of
 * its own, not a count every CPU writes). */
static struct shared_fault_stat {
	uint64_t count, waited_ns, held_ns, since;
} __attribute__((aligned(64))) shared_fault_stats[SMP_MAX_CPUS];

static void shared_fault_lock_take(void)
{
	uint64_t asked = lockstat_enabled ? time_now() : 0;

	shared_fault_flags = spin_lock_irqsave(&shared_fault_lock);
	if (lockstat_enabled) {
		struct shared_fault_stat *st = &shared_fault_stats[this_cpu()->index];
		st->since = time_now();
		st->waited_ns += st->since - asked;
		st->count++;
	}
}

static void shared_fault_lock_give(void)
{
	if (lockstat_enabled) {
		struct shared_fault_stat *st = &shared_fault_stats[this_cpu()->index];
		st->held_ns += time_now() - st->since;
	}
	spin_unlock_irqrestore(&shared_fault_lock, shared_fault_flags);
}

static void report_shared_fault_lock(void)
{
	struct shared_fault_stat sum = {0};

	for (unsigned c = 0; c < SMP_MAX_CPUS; c++) {
		sum.count += shared_fault_stats[c].count;
		sum.waited_ns += shared_fault_stats[c].waited_ns;
		sum.held_ns += shared_fault_stats[c].held_ns;
	}
	lockstat_report_lock("the shared fault lock", sum.count, sum.waited_ns, sum.held_ns);
}

static const struct aspace_shared_sync shared_fault_sync = {shared_fault_lock_take,
							    shared_fault_lock_give};

/* Each CPU takes its fault pages from a palloc cache of its own. */
_Static_assert(PALLOC_CACHES >= SMP_MAX_CPUS, "a palloc fault cache for every CPU");

int app_page_fault_shared(uint64_t addr, unsigned access)
{
	int err = aspace_fault_shared(&app.as, addr, access, &shared_fault_sync, this_cpu()->index);

	if (!err)
		__atomic_fetch_add(&app.minor_faults, 1, __ATOMIC_RELAXED);
	return err;
}

/* The kernel heap in shared sections (mm/kmalloc.h): its lock only they
 * take; its pages come from this CPU's fault cache (a run of them from the
 * pool, never the reclaimer) and go back to palloc under the shared fault
 * lock, which serializes palloc there. The heap's lock is never held
 * across either (kmalloc drops it first). */
static struct spinlock shared_heap_lock = SPINLOCK_INIT("kernel heap", LOCK_KMALLOC);
static unsigned long shared_heap_flags;

static void shared_heap_lock_take(void)
{
	shared_heap_flags = spin_lock_irqsave(&shared_heap_lock);
}

static void shared_heap_lock_give(void)
{
	spin_unlock_irqrestore(&shared_heap_lock, shared_heap_flags);
}

static paddr_t shared_heap_pages(size_t n)
{
	shared_fault_lock_take();
	paddr_t pa = n == 1 ? palloc_cache_take(this_cpu()->index) : palloc_no_reclaim(n);
	shared_fault_lock_give();
	return pa;
}

static void shared_heap_free_pages(paddr_t pa, size_t n)
{
	shared_fault_lock_take();
	pfree(pa, n);
	shared_fault_lock_give();
}

/* syscall_shared: this CPU's section flag, a fault's sections' too. */
static const struct kmalloc_shared_side shared_heap = {syscall_shared, shared_heap_lock_take,
						       shared_heap_lock_give, shared_heap_pages,
						       shared_heap_free_pages};

void app_shared_heap_init(void)
{
	kmalloc_set_shared_side(&shared_heap);
}

_Noreturn void app_kill(int signal, const char *reason, uint64_t rip, uint64_t addr)
{
	kprintf("solo: app killed: %s at rip=%#lx addr=%#lx\n", reason, rip, addr);
	app_exit(128 + signal);
}

/* argv = name, then the words of args; returns argc or a negative error. */
static int build_argv(const struct boot_config *cfg, const char ***argv_out, char **words_out)
{
	size_t len = strlen(cfg->args);
	size_t max_words = len / 2 + 2;
	const char **argv = kmalloc((max_words + 1) * sizeof(char *));
	char *words = kmalloc(len + 1);

	if (!argv || !words) {
		kfree(argv);
		kfree(words);
		return -1;
	}
	argv[0] = cfg->name;
	int n = args_split(cfg->args, words, len + 1, argv + 1, max_words);
	if (n < 0) {
		kprintf("solo: boot.cfg args: unbalanced quote or trailing backslash in \"%s\"\n",
			cfg->args);
		kfree(argv);
		kfree(words);
		return -1;
	}
	*argv_out = argv;
	*words_out = words;
	return n + 1;
}

/*
 * A "#!" script as the app, as execve does it (binfmt_script): the
 * interpreter named on the first line is read from the root file system and
 * becomes the program, with argv = [interpreter as written, the optional
 * argument, the script's path (app_path), argv[1..]]. One level only: an
 * interpreter that is itself a script is refused, as Linux refuses it.
 * On success *prog / *prog_size are the interpreter's bytes (kfree them)
 * and *argv_io / *argc_io the new argv (kfree it; its strings live in *sb
 * and the old argv). Prints why and returns a negative error otherwise.
 */
static int resolve_script(const void *text, size_t size, const struct boot_config *cfg,
			  struct exec_shebang *sb, void **prog, size_t *prog_size,
			  const char ***argv_io, int *argc_io)
{
	const char *why;
	int err;

	if (exec_parse_shebang(text, size, sb, &why)) {
		kprintf("solo: app not started: %s\n", why);
		return -ENOEXEC;
	}
	if (!cfg->app_path) {
		kprintf("solo: app not started: a \"#!\" script (interpreter %s) needs its path in "
			"the root file system: boot.cfg app_path= (mkimg.sh writes it)\n",
			sb->interp);
		return -ENOEXEC;
	}
	err = loader_read_file(sb->interp, prog, prog_size, &why);
	if (err) {
		size_t n = strlen(sb->interp);
		int dos = n && sb->interp[n - 1] == '\r';
		kprintf("solo: app not started: #! interpreter %s: %s%s\n", sb->interp, why,
			dos ? " (the script has DOS line endings: \"\\r\" ends the name)" : "");
		return err;
	}
	if (exec_is_script(*prog, *prog_size)) {
		kprintf("solo: app not started: #! interpreter %s is itself a script (only one "
			"level of \"#!\" is followed, as on Linux)\n",
			sb->interp);
		kfree(*prog);
		*prog = NULL;
		return -ELOOP;
	}
	int argc = *argc_io;
	const char **argv = kmalloc(((size_t)argc + 3) * sizeof(char *));
	if (!argv) {
		kprintf("solo: app not started: out of memory\n");
		kfree(*prog);
		*prog = NULL;
		return -ENOMEM;
	}
	int n = 0;
	argv[n++] = sb->interp;
	if (sb->has_arg)
		argv[n++] = sb->arg;
	argv[n++] = cfg->app_path;
	for (int i = 1; i < argc; i++)
		argv[n++] = (*argv_io)[i];
	argv[n] = NULL;
	*argv_io = argv;
	*argc_io = n;
	return 0;
}

int app_load(const void *elf, size_t size, const void *tar, size_t tar_size,
	     const struct boot_config *cfg)
{
	struct rootfs_config fs = {.read_only = cfg->root_read_only, .tmpfs_size = cfg->tmpfs_size};
	struct exec_shebang *sb = NULL;
	const char **script_argv = NULL;
	void *interp_prog = NULL;
	const char *why = "";
	const char **argv;
	char *words;
	int err;

	struct palloc_stats before;

	/* Taken before anything is allocated for the app, heap trimmed. */
	kmalloc_trim();
	palloc_get_stats(&before);
	app.free_before_load = before.free_pages;
	commit_set_mode(cfg->overcommit == BOOTCFG_OVERCOMMIT_STRICT ? COMMIT_STRICT : COMMIT_LAZY);
	app.commit_limit_at_start = aspace_commit_limit();
	kinfo("solo: memory: overcommit=%s, commit limit %zu KiB\n",
	      commit_mode() == COMMIT_STRICT ? "strict" : "lazy",
	      app.commit_limit_at_start * (PAGE_SIZE / 1024));
	app.on_exit = cfg->on_exit;
	int argc = build_argv(cfg, &argv, &words);
	if (argc < 0)
		return -EINVAL;

	thread_init();
	/* /etc/resolv.conf, hosts and nsswitch.conf as the network is now
	 * (net_init waited for it), unless rootfs.tar has its own. */
	fs.files = net_root_files(&fs.nfiles);
	err = rootfs_mount(tar, tar_size, &fs);
	if (!err)
		err = aspace_init(&app.as, &app_view_template);
	if (err) {
		kprintf("solo: app not started: out of memory\n");
		goto fail;
	}
	const char *exe = cfg->app_path;
	if (exec_is_script(elf, size)) {
		sb = kmalloc(sizeof(*sb));
		script_argv = argv;
		err = sb ? resolve_script(elf, size, cfg, sb, &interp_prog, &size, &script_argv,
					  &argc)
			 : -ENOMEM;
		if (err) {
			if (!sb)
				kprintf("solo: app not started: out of memory\n");
			script_argv = NULL;
			goto fail;
		}
		elf = interp_prog;
		exe = sb->interp; /* Linux's /proc/self/exe is the interpreter */
	}
	err = proc_set_command(argc, script_argv ? script_argv : argv);
	if (!err)
		err = proc_set_exe(exe);
	if (err) {
		kprintf("solo: app not started: out of memory\n");
		goto fail;
	}
	err = loader_load(elf, size, &app.as, &app.image, &why);
	if (err) {
		kprintf("solo: app not started: %s\n", why);
		goto fail;
	}
	kfree(interp_prog); /* copied into the app's pages */
	interp_prog = NULL;
	err = vdso_map(&app.as, &app.image.vdso_base);
	if (err) {
		kprintf("solo: app not started: out of memory (vDSO)\n");
		goto fail;
	}
	/* AT_EXECFN: what execve was given, the script for a script */
	app.image.execfn = cfg->app_path;
	err = loader_build_stack(&app.as, &app.image, cfg->stack_size, argc,
				 script_argv ? script_argv : argv, (int)cfg->env_count, cfg->env);
	if (!err)
		err = proc_set_auxv(app.image.auxv, app.image.auxv_len);
	if (err) {
		kprintf("solo: app not started: %s\n",
			err == -E2BIG ? "arguments and environment too large" : "out of memory");
		goto fail;
	}
	kfree(script_argv); /* copied onto the app's stack */
	kfree(sb);
	kfree(argv);
	kfree(words);
	kdebug("solo: app %s: %d argument%s, %zu environment variable%s, entry %#lx\n", cfg->name,
	       argc - 1, argc == 2 ? "" : "s", cfg->env_count, cfg->env_count == 1 ? "" : "s",
	       app.image.entry);
	if (app.image.interp_base)
		kdebug("solo: interpreter at %#lx, program entry %#lx\n", app.image.interp_base,
		       app.image.prog_entry);
	if (log_level >= LOG_DEBUG) {
		/* both halves: the kernel half holds only UL_VISIBLE pages */
		vm_dump(&app.as.ctx, 0, UINT64_MAX);
		aspace_dump(&app.as);
	}
	err = fd_table_init();
	if (err) {
		kprintf("solo: app not started: no console (out of memory)\n");
		return err;
	}
	app.loaded = 1;
	return 0;
fail:
	aspace_destroy(&app.as);
	rootfs_unmount();
	proc_release();
	kfree(interp_prog);
	kfree(script_argv);
	kfree(sb);
	kfree(argv);
	kfree(words);
	return err;
}

_Noreturn void app_enter(void)
{
	kinfo("solo: starting the app\n");
	time_set_app_start(time_now());
	arch_set_user_fs(0);
	failinj_arm();
	arch_enter_user(app.image.entry, app.image.stack_pointer, app.as.ctx.root);
}
