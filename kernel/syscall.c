/*
 * Syscall dispatch: Linux x86-64 numbers and conventions (see
 * include/solo/uapi/syscall.h and kernel/syscall.h). The handlers live
 * beside the subsystem they serve; this file holds the one table that
 * maps numbers to them. Numbers without a handler return -ENOSYS and are
 * logged once each, with the Linux name (build/gen/syscall_names.c,
 * generated from <asm/unistd_64.h>).
 *
 * docs/syscalls.md is generated from the table between the "syscall table"
 * markers below (tools/gen-syscall-docs.sh; `make docs`); the build fails
 * when it is stale. One entry per line; a trailing comment is the note.
 */
#include "kernel/arch/x86_64/syscall.h"

#include <solo/uapi/syscall.h>

#include "fs/epoll.h"
#include "fs/eventfd.h"
#include "fs/fcntl.h"
#include "fs/fdtable.h"
#include "fs/namei.h"
#include "fs/pipe.h"
#include "fs/read_write.h"
#include "fs/select.h"
#include "fs/timerfd.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/signal.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/app.h"
#include "kernel/compat.h"
#include "kernel/futex.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/lockstat.h"
#include "kernel/mman.h"
#include "kernel/percpu.h"
#include "kernel/proc.h"
#include "kernel/signal.h"
#include "kernel/strace.h"
#include "kernel/syscall_names.h"
#include "kernel/thread.h"
#include "kernel/timer.h"
#include "mm/vm.h"
#include "net/socket.h"

#define LOGGED_WORDS 16 /* numbers below 1024 are logged once each */

/* fmt: how strace=1 prints the call (kernel/strace.h). */
struct syscall_entry {
	syscall_fn fn;
	const char *name;
	const char *fmt;
};

static uint64_t logged_unsupported[LOGGED_WORDS];
static int logged_large_number;

/* Native calls live at SOLO_SYS_BASE; they get their own small table. */
static const struct syscall_entry solo_syscalls[] = {
    [SOLO_SYS_map_memory - SOLO_SYS_BASE] = {sys_map_memory, "map_memory", "x:xxux"},
    [SOLO_SYS_unmap_memory - SOLO_SYS_BASE] = {sys_unmap_memory, "unmap_memory", "d:xu"},
    [SOLO_SYS_increase_heap - SOLO_SYS_BASE] = {sys_increase_heap, "increase_heap", "x:ux"},
    [SOLO_SYS_decrease_heap - SOLO_SYS_BASE] = {sys_decrease_heap, "decrease_heap", "d:u"},
    [SOLO_SYS_mem_stats - SOLO_SYS_BASE] = {sys_mem_stats, "mem_stats", "d:x"},
};

/* clang-format off: one entry per line, whatever its length (the docs
 * generator reads them line by line). */
// clang-format off
static const struct syscall_entry syscalls[] = {
    /* BEGIN syscall table (tools/gen-syscall-docs.sh reads these lines) */
    [SYS_read] = {sys_read, "read", "d:dru"}, /* waits for pipes, the console, eventfd, timerfd */
    [SYS_write] = {sys_write, "write", "d:dwu"}, /* waits while a pipe is full; EPIPE + SIGPIPE without readers */
    [SYS_open] = {sys_open, "open", "d:sxo"}, /* O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_TMPFILE, O_PATH; EROFS with root=ro */
    [SYS_close] = {sys_close, "close", "d:d"},
    [SYS_stat] = {sys_stat, "stat", "d:sx"},
    [SYS_fstat] = {sys_fstat, "fstat", "d:dx"},
    [SYS_lstat] = {sys_lstat, "lstat", "d:sx"},
    [SYS_poll] = {sys_poll, "poll", "d:xud"}, /* any descriptor; other threads run while it waits */
    [SYS_lseek] = {sys_lseek, "lseek", "d:dld"}, /* ESPIPE on pipes and the console */
    [SYS_mmap] = {sys_mmap, "mmap", "x:xuxxdx"}, /* anonymous; files shared or copy-on-write; W+X EACCES */
    [SYS_mprotect] = {sys_mprotect, "mprotect", "d:xux"}, /* W+X is EACCES; PROT_NONE is no access */
    [SYS_munmap] = {sys_munmap, "munmap", "d:xu"},
    [SYS_brk] = {sys_brk, "brk", "x:x"},
    [SYS_rt_sigaction] = {sys_rt_sigaction, "rt_sigaction", "d:dxxu"}, /* handlers need SA_RESTORER */
    [SYS_rt_sigprocmask] = {sys_rt_sigprocmask, "rt_sigprocmask", "d:dxxu"}, /* per thread; unblocked: delivered */
    [SYS_rt_sigreturn] = {sys_rt_sigreturn, "rt_sigreturn", "d:"}, /* restores all registers */
    [SYS_ioctl] = {sys_ioctl, "ioctl", "d:dxx"}, /* console: TCGETS/TCSETS*, TIOCGWINSZ; any fd: FIONREAD, FIONBIO, FIOCLEX */
    [SYS_pread64] = {sys_pread64, "pread64", "d:drul"},
    [SYS_pwrite64] = {sys_pwrite64, "pwrite64", "d:dwul"},
    [SYS_readv] = {sys_readv, "readv", "d:dxd"},
    [SYS_writev] = {sys_writev, "writev", "d:dxd"},
    [SYS_access] = {sys_access, "access", "d:so"}, /* root: W_OK is EROFS only on a read-only tree */
    [SYS_pipe] = {sys_pipe, "pipe", "d:x"}, /* 64 KiB; readers and writers wait as on Linux */
    [SYS_select] = {sys_select, "select", "d:dxxxx"}, /* as poll */
    [SYS_sched_yield] = {sys_sched_yield, "sched_yield", "d:"}, /* runs the next runnable thread */
    [SYS_mremap] = {sys_mremap, "mremap", "x:xuuxx"}, /* MAYMOVE, FIXED; moves frames, never copies */
    [SYS_msync] = {sys_msync, "msync", "d:xux"}, /* nothing to write back */
    [SYS_madvise] = {sys_madvise, "madvise", "d:xud"}, /* DONTNEED frees at once; FREE lazily (reclaimed when memory runs short); rest ignored */
    [SYS_dup] = {sys_dup, "dup", "d:d"},
    [SYS_dup2] = {sys_dup2, "dup2", "d:dd"},
    [SYS_pause] = {sys_pause, "pause", "d:"}, /* until a signal */
    [SYS_nanosleep] = {sys_nanosleep, "nanosleep", "d:xx"}, /* other threads run, else hlt; EINTR with time left */
    [SYS_getitimer] = {sys_getitimer, "getitimer", "d:dx"}, /* ITIMER_REAL */
    [SYS_alarm] = {sys_alarm, "alarm", "d:u"}, /* SIGALRM */
    [SYS_setitimer] = {sys_setitimer, "setitimer", "d:dxx"}, /* ITIMER_REAL only (EINVAL for the CPU-time ones) */
    [SYS_getpid] = {sys_getpid, "getpid", "d:"}, /* 1 */
    [SYS_sendfile] = {sys_sendfile, "sendfile", "d:ddxu"}, /* any file with offsets to any writable file, sockets too */
    [SYS_socket] = {sys_socket, "socket", "d:ddd"}, /* AF_INET, AF_INET6 (dual stack): TCP, UDP; SOCK_NONBLOCK, SOCK_CLOEXEC */
    [SYS_connect] = {sys_connect, "connect", "d:dxd"}, /* waits (SO_SNDTIMEO: EINPROGRESS); non-blocking EINPROGRESS, then SO_ERROR */
    [SYS_accept] = {sys_accept, "accept", "d:dxx"}, /* waits (SO_RCVTIMEO); the new socket inherits the options */
    [SYS_sendto] = {sys_sendto, "sendto", "d:dwudxd"}, /* waits for room; EPIPE + SIGPIPE unless MSG_NOSIGNAL */
    [SYS_recvfrom] = {sys_recvfrom, "recvfrom", "d:drudxx"}, /* MSG_PEEK, MSG_WAITALL, MSG_TRUNC, MSG_DONTWAIT */
    [SYS_sendmsg] = {sys_sendmsg, "sendmsg", "d:dxd"}, /* as sendto, with iovecs */
    [SYS_recvmsg] = {sys_recvmsg, "recvmsg", "d:dxd"}, /* as recvfrom; msg_flags MSG_TRUNC; no ancillary data from TCP/UDP */
    [SYS_shutdown] = {sys_shutdown, "shutdown", "d:dd"}, /* SHUT_WR sends the FIN */
    [SYS_bind] = {sys_bind, "bind", "d:dxd"}, /* port 0 picks one; EADDRINUSE, EADDRNOTAVAIL */
    [SYS_listen] = {sys_listen, "listen", "d:dd"}, /* a real backlog (at most 255 pending) */
    [SYS_getsockname] = {sys_getsockname, "getsockname", "d:dxx"},
    [SYS_getpeername] = {sys_getpeername, "getpeername", "d:dxx"},
    [SYS_socketpair] = {sys_socketpair, "socketpair", "d:dddx"}, /* families with pairs (EOPNOTSUPP for AF_INET) */
    [SYS_setsockopt] = {sys_setsockopt, "setsockopt", "d:dddxd"}, /* SOL_SOCKET, TCP_NODELAY/KEEP*, IPV6_V6ONLY, IP_TTL/TOS; ENOPROTOOPT */
    [SYS_getsockopt] = {sys_getsockopt, "getsockopt", "d:dddxx"}, /* SO_ERROR read and cleared, buffer sizes doubled */
    [SYS_clone] = {sys_clone, "clone", "d:xxxxx"}, /* threads only (CLONE_VM|CLONE_THREAD); fork, vfork ENOSYS */
    [SYS_exit] = {sys_exit, "exit", "d:d"}, /* the calling thread; the last one ends the app */
    [SYS_wait4] = {sys_wait4, "wait4", "d:dxxx"}, /* ECHILD: no children */
    [SYS_kill] = {sys_kill, "kill", "d:dd"}, /* the app only: pid 1, 0, -1 */
    [SYS_uname] = {sys_uname, "uname", "d:x"}, /* Solo solo 0.1 x86_64 */
    [SYS_fcntl] = {sys_fcntl, "fcntl", "d:ddx"}, /* F_DUPFD*, F_GETFD/SETFD, F_GETFL/SETFL, record locks (one process: granted) */
    [SYS_flock] = {sys_flock, "flock", "d:dx"}, /* per open file, as on Linux; waits for a conflicting lock */
    [SYS_fsync] = {sys_fsync, "fsync", "d:d"}, /* files are in RAM: at once */
    [SYS_fdatasync] = {sys_fdatasync, "fdatasync", "d:d"},
    [SYS_truncate] = {sys_truncate, "truncate", "d:sl"},
    [SYS_ftruncate] = {sys_ftruncate, "ftruncate", "d:dl"},
    [SYS_getcwd] = {sys_getcwd, "getcwd", "d:ru"},
    [SYS_chdir] = {sys_chdir, "chdir", "d:s"},
    [SYS_fchdir] = {sys_fchdir, "fchdir", "d:d"},
    [SYS_rename] = {sys_rename, "rename", "d:ss"},
    [SYS_mkdir] = {sys_mkdir, "mkdir", "d:so"},
    [SYS_rmdir] = {sys_rmdir, "rmdir", "d:s"}, /* ENOTEMPTY */
    [SYS_creat] = {sys_creat, "creat", "d:so"},
    [SYS_link] = {sys_link, "link", "d:ss"},
    [SYS_unlink] = {sys_unlink, "unlink", "d:s"}, /* open descriptors keep the file until the last close */
    [SYS_symlink] = {sys_symlink, "symlink", "d:ss"},
    [SYS_readlink] = {sys_readlink, "readlink", "d:sru"},
    [SYS_chmod] = {sys_chmod, "chmod", "d:so"},
    [SYS_fchmod] = {sys_fchmod, "fchmod", "d:do"},
    [SYS_chown] = {sys_chown, "chown", "d:sdd"}, /* owners are stored */
    [SYS_fchown] = {sys_fchown, "fchown", "d:ddd"},
    [SYS_lchown] = {sys_lchown, "lchown", "d:sdd"},
    [SYS_umask] = {sys_umask, "umask", "d:o"},
    [SYS_gettimeofday] = {sys_gettimeofday, "gettimeofday", "d:xx"}, /* RTC at boot + TSC; UTC */
    [SYS_getrlimit] = {sys_getrlimit, "getrlimit", "d:dx"}, /* STACK, NOFILE; others infinite */
    [SYS_getrusage] = {sys_getrusage, "getrusage", "d:dx"}, /* CPU time since the app started */
    [SYS_sysinfo] = {sys_sysinfo, "sysinfo", "d:x"},
    [SYS_times] = {sys_times, "times", "d:x"},
    [SYS_getuid] = {sys_getuid, "getuid", "d:"}, /* 0 */
    [SYS_getgid] = {sys_getgid, "getgid", "d:"}, /* 0 */
    [SYS_geteuid] = {sys_geteuid, "geteuid", "d:"}, /* 0 */
    [SYS_getegid] = {sys_getegid, "getegid", "d:"}, /* 0 */
    [SYS_setpgid] = {sys_setpgid, "setpgid", "d:dd"},
    [SYS_getppid] = {sys_getppid, "getppid", "d:"}, /* 0 */
    [SYS_getpgrp] = {sys_getpgrp, "getpgrp", "d:"}, /* 1 */
    [SYS_setsid] = {sys_setsid, "setsid", "d:"}, /* EPERM: already a session leader */
    [SYS_getgroups] = {sys_getgroups, "getgroups", "d:dx"}, /* none */
    [SYS_getresuid] = {sys_getresuid, "getresuid", "d:xxx"}, /* 0 */
    [SYS_getresgid] = {sys_getresgid, "getresgid", "d:xxx"}, /* 0 */
    [SYS_getpgid] = {sys_getpgid, "getpgid", "d:d"}, /* 1 */
    [SYS_getsid] = {sys_getsid, "getsid", "d:d"}, /* 1 */
    [SYS_rt_sigpending] = {sys_rt_sigpending, "rt_sigpending", "d:xu"},
    [SYS_rt_sigtimedwait] = {sys_rt_sigtimedwait, "rt_sigtimedwait", "d:xxxu"}, /* sigwaitinfo, sigtimedwait */
    [SYS_rt_sigsuspend] = {sys_rt_sigsuspend, "rt_sigsuspend", "d:xu"},
    [SYS_sigaltstack] = {sys_sigaltstack, "sigaltstack", "d:xx"}, /* per thread */
    [SYS_utime] = {sys_utime, "utime", "d:sx"},
    [SYS_mknod] = {sys_mknod, "mknod", "d:sox"}, /* regular files only; EPERM for devices and FIFOs */
    [SYS_personality] = {sys_personality, "personality", "d:x"}, /* PER_LINUX only */
    [SYS_statfs] = {sys_statfs, "statfs", "d:sx"}, /* the file system's real size and free space */
    [SYS_fstatfs] = {sys_fstatfs, "fstatfs", "d:dx"},
    [SYS_getpriority] = {sys_getpriority, "getpriority", "d:dd"}, /* nice 0 */
    [SYS_setpriority] = {sys_setpriority, "setpriority", "d:ddd"}, /* accepted, no effect */
    [SYS_sched_getparam] = {sys_sched_getparam, "sched_getparam", "d:dx"},
    [SYS_sched_getscheduler] = {sys_sched_getscheduler, "sched_getscheduler", "d:d"}, /* SCHED_OTHER */
    [SYS_sched_get_priority_max] = {sys_sched_get_priority_max, "sched_get_priority_max", "d:d"}, /* 0 */
    [SYS_sched_get_priority_min] = {sys_sched_get_priority_min, "sched_get_priority_min", "d:d"}, /* 0 */
    [SYS_mlock] = {sys_mlock, "mlock", "d:xu"}, /* never paged out */
    [SYS_munlock] = {sys_munlock, "munlock", "d:xu"},
    [SYS_mlockall] = {sys_mlockall, "mlockall", "d:x"},
    [SYS_munlockall] = {sys_munlockall, "munlockall", "d:"},
    [SYS_prctl] = {sys_prctl, "prctl", "d:dxxxx"}, /* NAME, DUMPABLE, NO_NEW_PRIVS, PDEATHSIG, KEEPCAPS, SECCOMP, CAPBSET_READ, CAP_AMBIENT, TIMERSLACK, CHILD_SUBREAPER, THP_DISABLE; others EINVAL */
    [SYS_arch_prctl] = {sys_arch_prctl, "arch_prctl", "d:xx"}, /* ARCH_SET_FS, ARCH_GET_FS */
    [SYS_setrlimit] = {sys_setrlimit, "setrlimit", "d:dx"}, /* RLIMIT_NOFILE enforced; the rest accepted, not enforced */
    [SYS_sync] = {sys_sync, "sync", "d:"},
    [SYS_gettid] = {sys_gettid, "gettid", "d:"}, /* main thread 1, then 2, 3, ... */
    [SYS_readahead] = {sys_readahead, "readahead", "d:dlu"},
    [SYS_tkill] = {sys_tkill, "tkill", "d:dd"}, /* to that thread */
    [SYS_time] = {sys_time, "time", "d:x"},
    [SYS_futex] = {sys_futex, "futex", "d:xdxxxx"}, /* WAIT, WAKE, (CMP_)REQUEUE, BITSET; deadlock ends the app */
    [SYS_sched_setaffinity] = {sys_sched_setaffinity, "sched_setaffinity", "d:dux"}, /* pins to the CPUs given (those online) */
    [SYS_sched_getaffinity] = {sys_sched_getaffinity, "sched_getaffinity", "d:dux"}, /* the online CPUs the thread may use */
    [SYS_epoll_create] = {sys_epoll_create, "epoll_create", "d:d"},
    [SYS_getdents64] = {sys_getdents64, "getdents64", "d:dxu"},
    [SYS_set_tid_address] = {sys_set_tid_address, "set_tid_address", "d:x"}, /* cleared and woken at thread exit */
    [SYS_fadvise64] = {sys_fadvise64, "fadvise64", "d:dlud"},
    [SYS_timer_create] = {sys_timer_create, "timer_create", "d:dxx"}, /* SIGEV_SIGNAL, SIGEV_THREAD_ID, SIGEV_NONE */
    [SYS_timer_settime] = {sys_timer_settime, "timer_settime", "d:dxxx"},
    [SYS_timer_gettime] = {sys_timer_gettime, "timer_gettime", "d:dx"},
    [SYS_timer_getoverrun] = {sys_timer_getoverrun, "timer_getoverrun", "d:d"},
    [SYS_timer_delete] = {sys_timer_delete, "timer_delete", "d:d"},
    [SYS_clock_gettime] = {sys_clock_gettime, "clock_gettime", "d:dx"}, /* TSC; REALTIME from RTC */
    [SYS_clock_getres] = {sys_clock_getres, "clock_getres", "d:dx"},
    [SYS_clock_nanosleep] = {sys_clock_nanosleep, "clock_nanosleep", "d:dxxx"}, /* as nanosleep; TIMER_ABSTIME */
    [SYS_exit_group] = {sys_exit_group, "exit_group", "d:d"}, /* every thread */
    [SYS_epoll_wait] = {sys_epoll_wait, "epoll_wait", "d:dxdd"}, /* level, edge, oneshot; EINTR */
    [SYS_epoll_ctl] = {sys_epoll_ctl, "epoll_ctl", "d:dddx"}, /* EPERM for regular files and directories */
    [SYS_tgkill] = {sys_tgkill, "tgkill", "d:ddd"}, /* tgid 1, any live tid */
    [SYS_utimes] = {sys_utimes, "utimes", "d:sx"},
    [SYS_waitid] = {sys_waitid, "waitid", "d:ddxdx"}, /* ECHILD */
    [SYS_openat] = {sys_openat, "openat", "d:Dsxo"}, /* as open, from a directory fd */
    [SYS_mkdirat] = {sys_mkdirat, "mkdirat", "d:Dso"},
    [SYS_mknodat] = {sys_mknodat, "mknodat", "d:Dsox"}, /* as mknod */
    [SYS_fchownat] = {sys_fchownat, "fchownat", "d:Dsddx"},
    [SYS_futimesat] = {sys_futimesat, "futimesat", "d:Dsx"},
    [SYS_newfstatat] = {sys_newfstatat, "newfstatat", "d:Dsxx"}, /* AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW */
    [SYS_unlinkat] = {sys_unlinkat, "unlinkat", "d:Dsx"}, /* AT_REMOVEDIR */
    [SYS_renameat] = {sys_renameat, "renameat", "d:DsDs"},
    [SYS_linkat] = {sys_linkat, "linkat", "d:DsDsx"}, /* AT_SYMLINK_FOLLOW, AT_EMPTY_PATH */
    [SYS_symlinkat] = {sys_symlinkat, "symlinkat", "d:sDs"},
    [SYS_readlinkat] = {sys_readlinkat, "readlinkat", "d:Dsru"},
    [SYS_fchmodat] = {sys_fchmodat, "fchmodat", "d:Dso"},
    [SYS_faccessat] = {sys_faccessat, "faccessat", "d:Dso"},
    [SYS_pselect6] = {sys_pselect6, "pselect6", "d:dxxxxx"}, /* as select, with a signal mask */
    [SYS_ppoll] = {sys_ppoll, "ppoll", "d:xuxxu"}, /* as poll, with a signal mask */
    [SYS_set_robust_list] = {sys_set_robust_list, "set_robust_list", "d:xu"}, /* accepted */
    [SYS_epoll_pwait] = {sys_epoll_pwait, "epoll_pwait", "d:dxddxu"}, /* as epoll_wait, with a signal mask */
    [SYS_utimensat] = {sys_utimensat, "utimensat", "d:Dsxx"}, /* UTIME_NOW, UTIME_OMIT; NULL path: the fd */
    [SYS_timerfd_create] = {sys_timerfd_create, "timerfd_create", "d:dx"}, /* MONOTONIC, BOOTTIME, REALTIME */
    [SYS_eventfd] = {sys_eventfd, "eventfd", "d:u"},
    [SYS_fallocate] = {sys_fallocate, "fallocate", "d:ddll"}, /* mode 0 */
    [SYS_timerfd_settime] = {sys_timerfd_settime, "timerfd_settime", "d:dxxx"},
    [SYS_timerfd_gettime] = {sys_timerfd_gettime, "timerfd_gettime", "d:dx"},
    [SYS_accept4] = {sys_accept4, "accept4", "d:dxxx"}, /* SOCK_NONBLOCK, SOCK_CLOEXEC */
    [SYS_eventfd2] = {sys_eventfd2, "eventfd2", "d:ux"}, /* EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC */
    [SYS_epoll_create1] = {sys_epoll_create1, "epoll_create1", "d:x"},
    [SYS_dup3] = {sys_dup3, "dup3", "d:ddx"},
    [SYS_pipe2] = {sys_pipe2, "pipe2", "d:xx"}, /* O_CLOEXEC, O_NONBLOCK */
    [SYS_preadv] = {sys_preadv, "preadv", "d:dxdl"},
    [SYS_pwritev] = {sys_pwritev, "pwritev", "d:dxdl"},
    [SYS_recvmmsg] = {sys_recvmmsg, "recvmmsg", "d:dxuxx"}, /* each waits until the timeout; MSG_WAITFORONE */
    [SYS_prlimit64] = {sys_prlimit64, "prlimit64", "d:ddxx"}, /* as getrlimit/setrlimit */
    [SYS_syncfs] = {sys_syncfs, "syncfs", "d:d"},
    [SYS_sendmmsg] = {sys_sendmmsg, "sendmmsg", "d:dxux"}, /* the first may wait; later ones as far as they fit */
    [SYS_getcpu] = {sys_getcpu, "getcpu", "d:xxx"}, /* the caller's CPU and its NUMA node (from the SRAT, numbered as Linux does) */
    [SYS_renameat2] = {sys_renameat2, "renameat2", "d:DsDsx"}, /* RENAME_NOREPLACE, RENAME_EXCHANGE */
    [SYS_getrandom] = {sys_getrandom, "getrandom", "d:rux"}, /* RDRAND; never blocks */
    [SYS_preadv2] = {sys_preadv2, "preadv2", "d:dxdlx"}, /* flags are hints */
    [SYS_pwritev2] = {sys_pwritev2, "pwritev2", "d:dxdlx"},
    [SYS_statx] = {sys_statx, "statx", "d:Dsxxx"}, /* basic fields */
    [SYS_membarrier] = {sys_membarrier, "membarrier", "d:dxd"}, /* GLOBAL, PRIVATE_EXPEDITED: an IPI to every other CPU */
    [SYS_rseq] = {sys_rseq, "rseq", "d:xuxx"}, /* ENOSYS as without CONFIG_RSEQ; glibc carries on */
    [SYS_clone3] = {sys_clone3, "clone3", "d:xu"}, /* as clone: threads only */
    [SYS_close_range] = {sys_close_range, "close_range", "d:uux"}, /* CLOSE_RANGE_CLOEXEC */
    [SYS_faccessat2] = {sys_faccessat2, "faccessat2", "d:Dsox"},
    [SYS_epoll_pwait2] = {sys_epoll_pwait2, "epoll_pwait2", "d:dxdxxu"}, /* a timespec timeout */
    /* END syscall table */
};
// clang-format on

static const struct syscall_entry *lookup(uint64_t nr)
{
	if (nr < ARRAY_SIZE(syscalls) && syscalls[nr].fn)
		return &syscalls[nr];
	if (nr - SOLO_SYS_BASE < ARRAY_SIZE(solo_syscalls) && solo_syscalls[nr - SOLO_SYS_BASE].fn)
		return &solo_syscalls[nr - SOLO_SYS_BASE];
	return NULL;
}

static void log_unsupported(uint64_t nr)
{
	if (nr < LOGGED_WORDS * 64) {
		uint64_t bit = 1ull << (nr % 64);
		if (logged_unsupported[nr / 64] & bit)
			return;
		logged_unsupported[nr / 64] |= bit;
	} else if (logged_large_number++) {
		return;
	}
	if (nr < syscall_names_count && syscall_names[nr])
		kprintf("solo: unsupported syscall %lu (%s)\n", nr, syscall_names[nr]);
	else
		kprintf("solo: unsupported syscall %lu\n", nr);
}

/* The call with its strace=1 line (kernel/strace.h); off the fast path. A
 * call that waits is printed when it completes, after its last retry. */
static __attribute__((noinline)) long traced_call(const struct syscall_entry *entry, uint64_t nr,
						  const struct syscall_args *args)
{
	char unnamed[32];
	long ret;

	if (!entry) {
		const char *name = nr < syscall_names_count ? syscall_names[nr] : NULL;
		if (!name) {
			ksnprintf(unnamed, sizeof(unnamed), "syscall_%lu", nr);
			name = unnamed;
		}
		log_unsupported(nr);
		strace_print(name, NULL, args->a, -ENOSYS);
		return -ENOSYS;
	}
	if (entry->fn == sys_exit_group)
		strace_print_noreturn(entry->name, entry->fmt, args->a);
	ret = entry->fn(args);
	if (ret != -EWAITING)
		strace_print(entry->name, entry->fmt, args->a, ret);
	return ret;
}

long syscall_rerun(uint64_t nr, const struct syscall_args *args)
{
	const struct syscall_entry *entry = lookup(nr);

	if (__builtin_expect(strace_enabled, 0))
		return traced_call(entry, nr, args);
	return entry ? entry->fn(args) : -ENOSYS;
}

/*
 * The calls that run first on the kernel lock's shared side (syscall.h),
 * each read for what it touches: the ids and clocks, which only read;
 * futex, whose waiters change under thread_shared_lock, and sched_yield
 * (the switches both cause: thread_switch_shared); read and pread of
 * files whose kind reads there what it safely can (file_ops.shared_read:
 * tmpfs files, pipes, eventfds, connected AF_UNIX streams); write and
 * pwrite of files whose kind writes there what it safely can
 * (file_ops.shared_write: tmpfs over bytes the file has, a pipe, eventfd
 * or AF_UNIX stream that need not wait, the console up to 1 KiB); and
 * their vector forms, with up to IOV_ON_STACK iovecs (fs/read_write.c);
 * send and recv of those sockets (sendto, recvfrom without an address,
 * net/socket.c's transfer_shared); the
 * epoll_wait calls that find nothing ready and must not wait; nanosleep
 * and clock_nanosleep, whose wait is a deadline's alone (thread_sleep).
 * Everything else about them asks for the lock.
 */
static const uint8_t shared_calls[] = {
    [SYS_write] = 1,	     [SYS_pwrite64] = 1,
    [SYS_read] = 1,	     [SYS_pread64] = 1,
    [SYS_futex] = 1,	     [SYS_getpid] = 1,
    [SYS_gettid] = 1,	     [SYS_getppid] = 1,
    [SYS_getuid] = 1,	     [SYS_geteuid] = 1,
    [SYS_getgid] = 1,	     [SYS_getegid] = 1,
    [SYS_getcpu] = 1,	     [SYS_sched_getaffinity] = 1,
    [SYS_clock_gettime] = 1, [SYS_clock_getres] = 1,
    [SYS_gettimeofday] = 1,  [SYS_time] = 1,
    [SYS_sched_yield] = 1,   [SYS_readv] = 1,
    [SYS_writev] = 1,	     [SYS_preadv] = 1,
    [SYS_pwritev] = 1,	     [SYS_preadv2] = 1,
    [SYS_pwritev2] = 1,	     [SYS_epoll_wait] = 1,
    [SYS_epoll_pwait] = 1,   [SYS_epoll_pwait2] = 1,
    [SYS_nanosleep] = 1,     [SYS_clock_nanosleep] = 1,
    [SYS_sendto] = 1,	     [SYS_recvfrom] = 1,
};

int syscall_shared(void)
{
	return this_cpu()->shared_section;
}

long syscall_needs_lock(void)
{
	this_cpu()->shared_needs_lock = 1;
	return -EAGAIN;
}

int syscall_shared_dropped(void)
{
	return this_cpu()->shared_needs_lock;
}

/* The shared attempt at the call: 1 with its result in f->rax when it
 * completed there, 0 when it must run (again) under the kernel lock. A
 * call that left its thread waiting, or yielded, switches to the next one
 * there too when it can: *switched is then 1 (f holds that thread). */
static int run_shared(struct cpu *cpu, const struct syscall_entry *entry, uint64_t nr,
		      struct syscall_frame *f, int *switched)
{
	if (nr >= ARRAY_SIZE(shared_calls) || !shared_calls[nr] || strace_enabled)
		return 0;
	if (!kernel_lock_share_begin())
		return 0;
	cpu->shared_needs_lock = 0;
	long ret = entry->fn(&f->args);
	if (!cpu->shared_needs_lock) {
		f->rax = (uint64_t)ret;
		if (ret == -EWAITING || cpu->yield_requested)
			*switched = thread_switch_shared(f);
	}
	kernel_lock_share_end();
	/* The caller waits, saved, and this CPU has nothing else to run. */
	if (*switched == THREAD_SWITCH_IDLE)
		smp_idle_restart();
	return !cpu->shared_needs_lock;
}

/* After the call, under the kernel lock: the thread switch, signals.
 * full_restore: f already holds another thread (a shared switch). */
static int exit_work(struct cpu *cpu, struct syscall_frame *f, int full_restore)
{
	/* The thread switch first: signals go to the thread that returns. */
	full_restore |= thread_syscall_exit(f);

	if (signal_exit_work(cpu->signals, f->rax))
		full_restore |= signal_syscall_exit_slow(f, full_restore);
	/* sysret to a non-canonical rip would fault in ring 0 on Intel CPUs. */
	if (f->rip >= VM_USER_TOP)
		app_kill(SIGSEGV, "return to a non-canonical address", f->rip, f->rip);
	return full_restore;
}

int syscall_dispatch(struct syscall_frame *f)
{
	struct cpu *cpu = this_cpu();
	uint64_t nr = f->rax;
	const struct syscall_entry *entry = lookup(nr);
	int switched = 0;

	cpu->frame = f;
	cpu->syscall_nr = nr;
	cpu->syscall_seq =
	    (((cpu->syscall_seq >> SYSCALL_SEQ_CPU_BITS) + 1) << SYSCALL_SEQ_CPU_BITS) | cpu->index;
	/* Interrupts are off (FMASK) from entry to sysret: the lock's exits
	 * keep no flags. */
	if (entry && run_shared(cpu, entry, nr, f, &switched)) {
		/* A switch, a signal or deferred work that came up meanwhile
		 * is noticed here, or by the IPI that raised it once the
		 * caller is back in ring 3. */
		if (!thread_switch_pending() && !signal_exit_work(cpu->signals, f->rax) &&
		    f->rip < VM_USER_TOP)
			return switched;
		cpu->lock_reason = LOCKSTAT_AFTER;
		(void)kernel_lock_enter();
	} else {
		cpu->lock_reason = lockstat_syscall(nr);
		(void)kernel_lock_enter();
		if (__builtin_expect(strace_enabled, 0)) {
			f->rax = (uint64_t)traced_call(entry, nr, &f->args);
		} else if (entry) {
			f->rax = (uint64_t)entry->fn(&f->args);
		} else {
			log_unsupported(nr);
			f->rax = (uint64_t)-ENOSYS;
		}
	}
	int full_restore = exit_work(cpu, f, switched);
	kernel_lock_exit(0);
	return full_restore;
}
