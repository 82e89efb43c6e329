/* SPDX-License-Identifier: MIT */
/*
 * System calls in linux-user mode (docs/user.md "System calls"): riscv64's
 * generic numbers (syscall_nr.h) mapped to x86_64 host calls. Most calls
 * pass through unchanged, because guest pointers are host pointers and
 * riscv64 and x86_64 share flag values, errno values, signal numbers,
 * struct layouts for 64-bit ABIs and the terminal ioctls. Translated:
 * the stat family (riscv64 uses the generic struct stat), epoll_event
 * (packed on x86_64), clone's argument order, uname's machine, paths under
 * -L and /proc/self/{exe,maps,auxv}; emulated: memory mapping and brk
 * (mem.c), signals (signal.c), threads, fork and execve (thread.c and
 * below). Anything else returns -ENOSYS and is logged (-strace, -d unimp).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/log.h"
#include "user/syscall_names.h"
#include "user/syscall_nr.h"
#include "user/user.h"

#define TARGET_NR_riscv_hwprobe 258

struct target_stat {
    uint64_t st_dev, st_ino;
    uint32_t st_mode, st_nlink, st_uid, st_gid;
    uint64_t st_rdev, pad1;
    int64_t st_size;
    int32_t st_blksize, pad2;
    int64_t st_blocks;
    int64_t st_atime_, st_atime_nsec;
    int64_t st_mtime_, st_mtime_nsec;
    int64_t st_ctime_, st_ctime_nsec;
    uint32_t unused4, unused5;
};
_Static_assert(sizeof(struct target_stat) == 128, "riscv64 struct stat");

struct target_epoll_event {
    uint32_t events, pad;
    uint64_t data;
};

void strace_log(const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_msg("%d %s", (int)gettid(), buf);
}

static int64_t ret_errno(long r)
{
    return r < 0 ? -errno : r;
}

#define HOST(nr, ...) ret_errno(syscall(nr, __VA_ARGS__))

static void stat_out(const struct stat *s, uint64_t gp)
{
    struct target_stat t;

    memset(&t, 0, sizeof(t));
    t.st_dev = s->st_dev;
    t.st_ino = s->st_ino;
    t.st_mode = s->st_mode;
    t.st_nlink = (uint32_t)s->st_nlink;
    t.st_uid = s->st_uid;
    t.st_gid = s->st_gid;
    t.st_rdev = s->st_rdev;
    t.st_size = s->st_size;
    t.st_blksize = (int32_t)s->st_blksize;
    t.st_blocks = s->st_blocks;
    t.st_atime_ = s->st_atim.tv_sec;
    t.st_atime_nsec = s->st_atim.tv_nsec;
    t.st_mtime_ = s->st_mtim.tv_sec;
    t.st_mtime_nsec = s->st_mtim.tv_nsec;
    t.st_ctime_ = s->st_ctim.tv_sec;
    t.st_ctime_nsec = s->st_ctim.tv_nsec;
    memcpy((void *)(uintptr_t)gp, &t, sizeof(t));
}

static const char *gpath(uint64_t p, char *buf, size_t len)
{
    if (!p) {
        return NULL;
    }
    return user_path((const char *)(uintptr_t)p, buf, len);
}

/* /proc/self files the guest must see as its own. */
static int proc_open(const char *p)
{
    char self[64];
    const char *rest = NULL;

    snprintf(self, sizeof(self), "/proc/%d/", (int)getpid());
    if (!strncmp(p, "/proc/self/", 11)) {
        rest = p + 11;
    } else if (!strncmp(p, self, strlen(self))) {
        rest = p + strlen(self);
    }
    if (!rest) {
        return -ENOENT;
    }
    if (!strcmp(rest, "maps")) {
        return mem_maps_fd();
    }
    if (!strcmp(rest, "auxv")) {
        int fd = memfd_create("auxv", MFD_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, (void *)(uintptr_t)uproc.auxv, uproc.auxv_len) < 0) {
                close(fd);
                return -EIO;
            }
            lseek(fd, 0, SEEK_SET);
        }
        return fd < 0 ? -errno : fd;
    }
    return -ENOENT;
}

static int64_t do_openat(int dirfd, uint64_t path, int flags, int mode)
{
    char buf[PATH_MAX];
    const char *p = (const char *)(uintptr_t)path;
    int r;

    if (!p) {
        return -EFAULT;
    }
    r = proc_open(p);
    if (r != -ENOENT) {
        return r;
    }
    p = user_path(p, buf, sizeof(buf));
    return HOST(SYS_openat, dirfd, p, flags, mode);
}

static int64_t do_readlinkat(int dirfd, uint64_t path, uint64_t buf,
                             uint64_t len)
{
    char b[PATH_MAX];
    const char *p = (const char *)(uintptr_t)path;
    char self[64];

    snprintf(self, sizeof(self), "/proc/%d/exe", (int)getpid());
    if (p && (!strcmp(p, "/proc/self/exe") || !strcmp(p, self))) {
        size_t n = strlen(uproc.exe);
        if (n > len) {
            n = len;
        }
        memcpy((void *)(uintptr_t)buf, uproc.exe, n);
        return (int64_t)n;
    }
    return HOST(SYS_readlinkat, dirfd, gpath(path, b, sizeof(b)), buf, len);
}

static int64_t do_fstatat(int dirfd, uint64_t path, uint64_t st, int flags)
{
    char b[PATH_MAX];
    struct stat s;
    int64_t r =
        HOST(SYS_newfstatat, dirfd, gpath(path, b, sizeof(b)), &s, flags);
    if (r == 0) {
        stat_out(&s, st);
    }
    return r;
}

static int64_t do_epoll_ctl(int ep, int op, int fd, uint64_t ev)
{
    struct epoll_event e;

    if (ev) {
        const struct target_epoll_event *g = (void *)(uintptr_t)ev;
        e.events = g->events;
        e.data.u64 = g->data;
    }
    return HOST(SYS_epoll_ctl, ep, op, fd, ev ? &e : NULL);
}

static int64_t do_epoll_pwait(int ep, uint64_t evs, int max, int timeout,
                              uint64_t mask, uint64_t masksz)
{
    struct epoll_event *e;
    int64_t r;

    if (max <= 0 || max > 65536) {
        return -EINVAL;
    }
    e = calloc((size_t)max, sizeof(*e));
    if (!e) {
        return -ENOMEM;
    }
    r = HOST(SYS_epoll_pwait, ep, e, max, timeout, mask, masksz);
    for (int64_t i = 0; i < r; i++) {
        struct target_epoll_event *g = (void *)(uintptr_t)evs;
        g[i].events = e[i].events;
        g[i].pad = 0;
        g[i].data = e[i].data.u64;
    }
    free(e);
    return r;
}

/* execve: a riscv64 program (or a #! script whose interpreter is one)
 * runs under a new swede-riscv64; anything else runs on the host. */
static int64_t do_execve(uint64_t path, uint64_t argv, uint64_t envp)
{
    char b[PATH_MAX], ib[PATH_MAX], line[PATH_MAX];
    const char *p = gpath(path, b, sizeof(b));
    char *const *gargv = (char *const *)(uintptr_t)argv;
    const char *interp = NULL, *iarg = NULL, *argv0;
    const char **nargv;
    size_t n = 0, k = 0;
    int fd;

    if (!p) {
        return -EFAULT;
    }
    if (access(p, X_OK) < 0) {
        return -errno;
    }
    fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r = read(fd, line, sizeof(line) - 1);
        close(fd);
        if (r > 2 && line[0] == '#' && line[1] == '!') {
            char *s = line + 2, *e;
            line[r] = 0;
            e = strchr(s, '\n');
            if (e) {
                *e = 0;
            }
            while (*s == ' ' || *s == '\t') {
                s++;
            }
            interp = s;
            while (*s && *s != ' ' && *s != '\t') {
                s++;
            }
            if (*s) {
                *s++ = 0;
                while (*s == ' ' || *s == '\t') {
                    s++;
                }
                if (*s) {
                    iarg = s;
                }
            }
        }
    }
    if (interp) {
        const char *ip = user_path(interp, ib, sizeof(ib));
        if (!elf_is_riscv(ip)) {
            return HOST(SYS_execve, p, argv, envp);
        }
    } else if (!elf_is_riscv(p)) {
        return HOST(SYS_execve, p, argv, envp);
    }
    while (gargv && gargv[n]) {
        n++;
    }
    nargv = calloc(n + 16, sizeof(*nargv));
    if (!nargv) {
        return -ENOMEM;
    }
    nargv[k++] = uproc.self_exe;
    if (uproc.opt.sysroot) {
        nargv[k++] = "-L";
        nargv[k++] = uproc.opt.sysroot;
    }
    if (uproc.opt.strace) {
        nargv[k++] = "-strace";
    }
    if (uproc.opt.log_items) {
        nargv[k++] = "-d";
        nargv[k++] = uproc.opt.log_items;
    }
    if (uproc.opt.log_file) {
        nargv[k++] = "-D";
        nargv[k++] = uproc.opt.log_file;
    }
    argv0 = n ? gargv[0] : (const char *)(uintptr_t)path;
    nargv[k++] = "-0";
    if (interp) {
        nargv[k++] = interp;
        nargv[k++] = "--";
        nargv[k++] = user_path(interp, ib, sizeof(ib));
        if (iarg) {
            nargv[k++] = iarg;
        }
        nargv[k++] = (const char *)(uintptr_t)path;
    } else {
        nargv[k++] = argv0;
        nargv[k++] = "--";
        nargv[k++] = p;
    }
    for (size_t i = 1; i < n; i++) {
        nargv[k++] = gargv[i];
    }
    nargv[k] = NULL;
    execve(uproc.self_exe, (char *const *)nargv,
           (char *const *)(uintptr_t)envp);
    free(nargv);
    return -errno;
}

static int64_t do_uname(uint64_t buf)
{
    struct utsname *u = (struct utsname *)(uintptr_t)buf;
    if (uname(u) < 0) {
        return -errno;
    }
    snprintf(u->machine, sizeof(u->machine), "riscv64");
    return 0;
}

/* Calls that are not restarted after a handler ran (Linux returns
 * -EINTR or uses restart_syscall for them). */
static bool restartable(uint64_t nr)
{
    switch (nr) {
    case TARGET_NR_rt_sigsuspend:
    case TARGET_NR_ppoll:
    case TARGET_NR_pselect6:
    case TARGET_NR_epoll_pwait:
    case TARGET_NR_nanosleep:
    case TARGET_NR_clock_nanosleep:
    case TARGET_NR_rt_sigtimedwait:
    case TARGET_NR_io_getevents:
        return false;
    default:
        return true;
    }
}

static int64_t dispatch(struct uthread *t, uint64_t nr, const uint64_t *a)
{
    char b1[PATH_MAX];

    switch (nr) {
    /* Files and directories. */
    case TARGET_NR_openat:
        return do_openat((int)a[0], a[1], (int)a[2], (int)a[3]);
    case TARGET_NR_openat2:
        return -ENOSYS;
    case TARGET_NR_close:
        return HOST(SYS_close, a[0]);
    case TARGET_NR_close_range:
        return HOST(SYS_close_range, a[0], a[1], a[2]);
    case TARGET_NR_read:
        return HOST(SYS_read, a[0], a[1], a[2]);
    case TARGET_NR_write:
        return HOST(SYS_write, a[0], a[1], a[2]);
    case TARGET_NR_readv:
        return HOST(SYS_readv, a[0], a[1], a[2]);
    case TARGET_NR_writev:
        return HOST(SYS_writev, a[0], a[1], a[2]);
    case TARGET_NR_pread64:
        return HOST(SYS_pread64, a[0], a[1], a[2], a[3]);
    case TARGET_NR_pwrite64:
        return HOST(SYS_pwrite64, a[0], a[1], a[2], a[3]);
    case TARGET_NR_preadv:
        return HOST(SYS_preadv, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_pwritev:
        return HOST(SYS_pwritev, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_preadv2:
        return HOST(SYS_preadv2, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_pwritev2:
        return HOST(SYS_pwritev2, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_lseek:
        return HOST(SYS_lseek, a[0], a[1], a[2]);
    case TARGET_NR_getdents64:
        return HOST(SYS_getdents64, a[0], a[1], a[2]);
    case TARGET_NR_newfstatat:
        return do_fstatat((int)a[0], a[1], a[2], (int)a[3]);
    case TARGET_NR_fstat: {
        struct stat s;
        int64_t r = HOST(SYS_fstat, a[0], &s);
        if (r == 0) {
            stat_out(&s, a[1]);
        }
        return r;
    }
    case TARGET_NR_statx:
        return HOST(SYS_statx, a[0], gpath(a[1], b1, sizeof(b1)), a[2], a[3],
                    a[4]);
    case TARGET_NR_faccessat:
        return HOST(SYS_faccessat, a[0], gpath(a[1], b1, sizeof(b1)), a[2]);
    case TARGET_NR_faccessat2:
        return HOST(SYS_faccessat2, a[0], gpath(a[1], b1, sizeof(b1)), a[2],
                    a[3]);
    case TARGET_NR_readlinkat:
        return do_readlinkat((int)a[0], a[1], a[2], a[3]);
    case TARGET_NR_getcwd:
        return HOST(SYS_getcwd, a[0], a[1]);
    case TARGET_NR_chdir:
        return HOST(SYS_chdir, a[0]);
    case TARGET_NR_fchdir:
        return HOST(SYS_fchdir, a[0]);
    case TARGET_NR_chroot:
        return HOST(SYS_chroot, a[0]);
    case TARGET_NR_mkdirat:
        return HOST(SYS_mkdirat, a[0], a[1], a[2]);
    case TARGET_NR_mknodat:
        return HOST(SYS_mknodat, a[0], a[1], a[2], a[3]);
    case TARGET_NR_unlinkat:
        return HOST(SYS_unlinkat, a[0], a[1], a[2]);
    case TARGET_NR_symlinkat:
        return HOST(SYS_symlinkat, a[0], a[1], a[2]);
    case TARGET_NR_linkat:
        return HOST(SYS_linkat, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_renameat2:
        return HOST(SYS_renameat2, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_fchmod:
        return HOST(SYS_fchmod, a[0], a[1]);
    case TARGET_NR_fchmodat:
        return HOST(SYS_fchmodat, a[0], a[1], a[2]);
    case TARGET_NR_fchown:
        return HOST(SYS_fchown, a[0], a[1], a[2]);
    case TARGET_NR_fchownat:
        return HOST(SYS_fchownat, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_utimensat:
        return HOST(SYS_utimensat, a[0], a[1], a[2], a[3]);
    case TARGET_NR_truncate:
        return HOST(SYS_truncate, a[0], a[1]);
    case TARGET_NR_ftruncate:
        return HOST(SYS_ftruncate, a[0], a[1]);
    case TARGET_NR_fallocate:
        return HOST(SYS_fallocate, a[0], a[1], a[2], a[3]);
    case TARGET_NR_fsync:
        return HOST(SYS_fsync, a[0]);
    case TARGET_NR_fdatasync:
        return HOST(SYS_fdatasync, a[0]);
    case TARGET_NR_sync:
        sync();
        return 0;
    case TARGET_NR_syncfs:
        return HOST(SYS_syncfs, a[0]);
    case TARGET_NR_statfs:
        return HOST(SYS_statfs, gpath(a[0], b1, sizeof(b1)), a[1]);
    case TARGET_NR_fstatfs:
        return HOST(SYS_fstatfs, a[0], a[1]);
    case TARGET_NR_dup:
        return HOST(SYS_dup, a[0]);
    case TARGET_NR_dup3:
        return HOST(SYS_dup3, a[0], a[1], a[2]);
    case TARGET_NR_fcntl:
        return HOST(SYS_fcntl, a[0], a[1], a[2]);
    case TARGET_NR_flock:
        return HOST(SYS_flock, a[0], a[1]);
    case TARGET_NR_ioctl:
        return HOST(SYS_ioctl, a[0], a[1], a[2]);
    case TARGET_NR_pipe2:
        return HOST(SYS_pipe2, a[0], a[1]);
    case TARGET_NR_umask:
        return HOST(SYS_umask, a[0]);
    case TARGET_NR_sendfile:
        return HOST(SYS_sendfile, a[0], a[1], a[2], a[3]);
    case TARGET_NR_copy_file_range:
        return HOST(SYS_copy_file_range, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_splice:
        return HOST(SYS_splice, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_fadvise64:
        return HOST(SYS_fadvise64, a[0], a[1], a[2], a[3]);
    case TARGET_NR_memfd_create:
        return HOST(SYS_memfd_create, a[0], a[1]);
    case TARGET_NR_eventfd2:
        return HOST(SYS_eventfd2, a[0], a[1]);
    case TARGET_NR_timerfd_create:
        return HOST(SYS_timerfd_create, a[0], a[1]);
    case TARGET_NR_timerfd_settime:
        return HOST(SYS_timerfd_settime, a[0], a[1], a[2], a[3]);
    case TARGET_NR_timerfd_gettime:
        return HOST(SYS_timerfd_gettime, a[0], a[1]);
    case TARGET_NR_inotify_init1:
        return HOST(SYS_inotify_init1, a[0]);
    case TARGET_NR_inotify_add_watch:
        return HOST(SYS_inotify_add_watch, a[0], gpath(a[1], b1, sizeof(b1)),
                    a[2]);
    case TARGET_NR_inotify_rm_watch:
        return HOST(SYS_inotify_rm_watch, a[0], a[1]);
    /* Polling. */
    case TARGET_NR_ppoll:
        return HOST(SYS_ppoll, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_pselect6:
        return HOST(SYS_pselect6, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_epoll_create1:
        return HOST(SYS_epoll_create1, a[0]);
    case TARGET_NR_epoll_ctl:
        return do_epoll_ctl((int)a[0], (int)a[1], (int)a[2], a[3]);
    case TARGET_NR_epoll_pwait:
        return do_epoll_pwait((int)a[0], a[1], (int)a[2], (int)a[3], a[4],
                              a[5]);
    /* Memory. */
    case TARGET_NR_mmap:
        return mem_mmap(a[0], a[1], (int)a[2], (int)a[3], (int)a[4], a[5]);
    case TARGET_NR_munmap:
        return mem_munmap(a[0], a[1]);
    case TARGET_NR_mprotect:
        return mem_mprotect(a[0], a[1], (int)a[2]);
    case TARGET_NR_mremap:
        return mem_mremap(a[0], a[1], a[2], (int)a[3], a[4]);
    case TARGET_NR_brk:
        return mem_brk(a[0]);
    case TARGET_NR_madvise:
        return HOST(SYS_madvise, a[0], a[1], a[2]);
    case TARGET_NR_msync:
        return HOST(SYS_msync, a[0], a[1], a[2]);
    case TARGET_NR_mincore:
        return HOST(SYS_mincore, a[0], a[1], a[2]);
    case TARGET_NR_mlock:
        return HOST(SYS_mlock, a[0], a[1]);
    case TARGET_NR_munlock:
        return HOST(SYS_munlock, a[0], a[1]);
    case TARGET_NR_membarrier:
        return HOST(SYS_membarrier, a[0], a[1], a[2]);
    case TARGET_NR_riscv_flush_icache:
        mem_changed();
        return 0;
    /* Time. */
    case TARGET_NR_clock_gettime:
        return HOST(SYS_clock_gettime, a[0], a[1]);
    case TARGET_NR_clock_getres:
        return HOST(SYS_clock_getres, a[0], a[1]);
    case TARGET_NR_clock_nanosleep:
        return HOST(SYS_clock_nanosleep, a[0], a[1], a[2], a[3]);
    case TARGET_NR_nanosleep:
        return HOST(SYS_nanosleep, a[0], a[1]);
    case TARGET_NR_gettimeofday:
        return HOST(SYS_gettimeofday, a[0], a[1]);
    case TARGET_NR_times:
        return HOST(SYS_times, a[0]);
    case TARGET_NR_getitimer:
        return HOST(SYS_getitimer, a[0], a[1]);
    case TARGET_NR_setitimer:
        return HOST(SYS_setitimer, a[0], a[1], a[2]);
    case TARGET_NR_timer_create:
        return HOST(SYS_timer_create, a[0], a[1], a[2]);
    case TARGET_NR_timer_settime:
        return HOST(SYS_timer_settime, a[0], a[1], a[2], a[3]);
    case TARGET_NR_timer_gettime:
        return HOST(SYS_timer_gettime, a[0], a[1]);
    case TARGET_NR_timer_delete:
        return HOST(SYS_timer_delete, a[0]);
    /* Process. */
    case TARGET_NR_getpid:
        return getpid();
    case TARGET_NR_getppid:
        return getppid();
    case TARGET_NR_gettid:
        return t->tid;
    case TARGET_NR_getuid:
        return getuid();
    case TARGET_NR_geteuid:
        return geteuid();
    case TARGET_NR_getgid:
        return getgid();
    case TARGET_NR_getegid:
        return getegid();
    case TARGET_NR_getresuid:
        return HOST(SYS_getresuid, a[0], a[1], a[2]);
    case TARGET_NR_getresgid:
        return HOST(SYS_getresgid, a[0], a[1], a[2]);
    case TARGET_NR_getgroups:
        return HOST(SYS_getgroups, a[0], a[1]);
    case TARGET_NR_setuid:
        return HOST(SYS_setuid, a[0]);
    case TARGET_NR_setgid:
        return HOST(SYS_setgid, a[0]);
    case TARGET_NR_setpgid:
        return HOST(SYS_setpgid, a[0], a[1]);
    case TARGET_NR_getpgid:
        return HOST(SYS_getpgid, a[0]);
    case TARGET_NR_getsid:
        return HOST(SYS_getsid, a[0]);
    case TARGET_NR_setsid:
        return HOST(SYS_setsid, 0);
    case TARGET_NR_uname:
        return do_uname(a[0]);
    case TARGET_NR_sethostname:
        return HOST(SYS_sethostname, a[0], a[1]);
    case TARGET_NR_getrlimit:
        return HOST(SYS_getrlimit, a[0], a[1]);
    case TARGET_NR_setrlimit:
        return HOST(SYS_setrlimit, a[0], a[1]);
    case TARGET_NR_prlimit64:
        return HOST(SYS_prlimit64, a[0], a[1], a[2], a[3]);
    case TARGET_NR_getrusage:
        return HOST(SYS_getrusage, a[0], a[1]);
    case TARGET_NR_sysinfo:
        return HOST(SYS_sysinfo, a[0]);
    case TARGET_NR_prctl:
        return HOST(SYS_prctl, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_getpriority:
        return HOST(SYS_getpriority, a[0], a[1]);
    case TARGET_NR_setpriority:
        return HOST(SYS_setpriority, a[0], a[1], a[2]);
    case TARGET_NR_sched_yield:
        return HOST(SYS_sched_yield, 0);
    case TARGET_NR_sched_getaffinity:
        return HOST(SYS_sched_getaffinity, a[0], a[1], a[2]);
    case TARGET_NR_sched_setaffinity:
        return HOST(SYS_sched_setaffinity, a[0], a[1], a[2]);
    case TARGET_NR_sched_getparam:
        return HOST(SYS_sched_getparam, a[0], a[1]);
    case TARGET_NR_sched_getscheduler:
        return HOST(SYS_sched_getscheduler, a[0]);
    case TARGET_NR_getcpu:
        return HOST(SYS_getcpu, a[0], a[1], a[2]);
    case TARGET_NR_getrandom:
        return HOST(SYS_getrandom, a[0], a[1], a[2]);
    case TARGET_NR_wait4:
        return HOST(SYS_wait4, a[0], a[1], a[2], a[3]);
    case TARGET_NR_waitid:
        return HOST(SYS_waitid, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_clone:
        /* riscv64: flags, newsp, parent_tid, tls, child_tid. */
        return thread_clone(t, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_execve:
        return do_execve(a[0], a[1], a[2]);
    case TARGET_NR_exit:
        thread_exit(t, (int)a[0]);
    case TARGET_NR_exit_group:
        log_flush_user();
        _exit((int)a[0]);
    case TARGET_NR_set_tid_address:
        t->clear_child_tid = a[0];
        return t->tid;
    case TARGET_NR_futex:
        return HOST(SYS_futex, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_set_robust_list:
        return HOST(SYS_set_robust_list, a[0], a[1]);
    case TARGET_NR_get_robust_list:
        return HOST(SYS_get_robust_list, a[0], a[1], a[2]);
    /* Signals. */
    case TARGET_NR_rt_sigaction:
        return a[3] != 8 ? -EINVAL : sig_action((int)a[0], a[1], a[2]);
    case TARGET_NR_rt_sigprocmask:
        return a[3] != 8 ? -EINVAL : sig_procmask((int)a[0], a[1], a[2]);
    case TARGET_NR_rt_sigreturn:
        return sig_return(t);
    case TARGET_NR_rt_sigsuspend:
        return sig_suspend(t, *(uint64_t *)(uintptr_t)a[0]);
    case TARGET_NR_rt_sigpending:
        return HOST(SYS_rt_sigpending, a[0], a[1]);
    case TARGET_NR_rt_sigtimedwait:
        return HOST(SYS_rt_sigtimedwait, a[0], a[1], a[2], a[3]);
    case TARGET_NR_rt_sigqueueinfo:
        return HOST(SYS_rt_sigqueueinfo, a[0], a[1], a[2]);
    case TARGET_NR_rt_tgsigqueueinfo:
        return HOST(SYS_rt_tgsigqueueinfo, a[0], a[1], a[2], a[3]);
    case TARGET_NR_sigaltstack:
        return sig_altstack(t, a[0], a[1]);
    case TARGET_NR_kill:
        return HOST(SYS_kill, a[0], a[1]);
    case TARGET_NR_tkill:
        return HOST(SYS_tkill, a[0], a[1]);
    case TARGET_NR_tgkill:
        return HOST(SYS_tgkill, a[0], a[1], a[2]);
    /* Sockets: the same layouts on both 64-bit ABIs. */
    case TARGET_NR_socket:
        return HOST(SYS_socket, a[0], a[1], a[2]);
    case TARGET_NR_socketpair:
        return HOST(SYS_socketpair, a[0], a[1], a[2], a[3]);
    case TARGET_NR_bind:
        return HOST(SYS_bind, a[0], a[1], a[2]);
    case TARGET_NR_listen:
        return HOST(SYS_listen, a[0], a[1]);
    case TARGET_NR_accept:
        return HOST(SYS_accept, a[0], a[1], a[2]);
    case TARGET_NR_accept4:
        return HOST(SYS_accept4, a[0], a[1], a[2], a[3]);
    case TARGET_NR_connect:
        return HOST(SYS_connect, a[0], a[1], a[2]);
    case TARGET_NR_getsockname:
        return HOST(SYS_getsockname, a[0], a[1], a[2]);
    case TARGET_NR_getpeername:
        return HOST(SYS_getpeername, a[0], a[1], a[2]);
    case TARGET_NR_sendto:
        return HOST(SYS_sendto, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_recvfrom:
        return HOST(SYS_recvfrom, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_setsockopt:
        return HOST(SYS_setsockopt, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_getsockopt:
        return HOST(SYS_getsockopt, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_shutdown:
        return HOST(SYS_shutdown, a[0], a[1]);
    case TARGET_NR_sendmsg:
        return HOST(SYS_sendmsg, a[0], a[1], a[2]);
    case TARGET_NR_recvmsg:
        return HOST(SYS_recvmsg, a[0], a[1], a[2]);
    case TARGET_NR_sendmmsg:
        return HOST(SYS_sendmmsg, a[0], a[1], a[2], a[3]);
    case TARGET_NR_recvmmsg:
        return HOST(SYS_recvmmsg, a[0], a[1], a[2], a[3], a[4]);
    default:
        /* rseq, clone3, riscv_hwprobe, seccomp and the rest. */
        if (!uproc.opt.strace && log_enabled(LOG_UNIMP)) {
            log_msg("unimp: unsupported system call %llu (%s)",
                    (unsigned long long)nr,
                    nr < sizeof(syscall_names) / sizeof(syscall_names[0]) &&
                            syscall_names[nr]
                        ? syscall_names[nr]
                        : "?");
        }
        return -ENOSYS;
    }
}

void syscall_do(struct uthread *t)
{
    uint64_t *x = t->r.x;
    uint64_t nr = x[17];
    uint64_t a[6] = { x[10], x[11], x[12], x[13], x[14], x[15] };
    int64_t r;

    *t->r.pc += 4;
    r = dispatch(t, nr, a);
    if (nr == TARGET_NR_rt_sigreturn) {
        if (uproc.opt.strace) {
            strace_log("rt_sigreturn() = <restored>");
        }
        return;
    }
    if (uproc.opt.strace) {
        char nb[32];
        const char *name =
            nr < sizeof(syscall_names) / sizeof(syscall_names[0]) &&
                    syscall_names[nr]
                ? syscall_names[nr]
                : NULL;
        if (!name) {
            snprintf(nb, sizeof(nb), "syscall_%llu", (unsigned long long)nr);
            name = nb;
        }
        strace_log("%s(0x%llx,0x%llx,0x%llx,0x%llx,0x%llx,0x%llx) = %lld%s",
                   name, (unsigned long long)a[0], (unsigned long long)a[1],
                   (unsigned long long)a[2], (unsigned long long)a[3],
                   (unsigned long long)a[4], (unsigned long long)a[5],
                   (long long)r, r == -ENOSYS ? " (unimplemented)" : "");
    }
    if (nr == TARGET_NR_rt_sigsuspend) {
        return; /* a0 is -EINTR in the frame sig_suspend built */
    }
    if (r == -EINTR && restartable(nr)) {
        int sig = sig_next_pending(t);
        if (sig && sig_restarts(sig)) {
            /* Run the handler, then the call again (-ERESTARTSYS). */
            *t->r.pc -= 4;
            return;
        }
    }
    x[10] = (uint64_t)r;
}
