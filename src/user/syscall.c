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
#include <linux/futex.h>
#include <linux/sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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

/* A call that may block: not started while a guest signal is pending
 * (safe_syscall.h); -USER_ERESTART makes syscall_do() restart it. */
static int64_t safe_call(long nr, long a1, long a2, long a3, long a4, long a5,
                         long a6)
{
    struct uthread *t = ut_self;
    t->sig_flag = sig_next_pending(t) != 0;
    return user_safe_syscall(&t->sig_flag, nr, a1, a2, a3, a4, a5, a6);
}
#define SAFE_(nr, a1, a2, a3, a4, a5, a6, ...)                                \
    safe_call(nr, (long)(a1), (long)(a2), (long)(a3), (long)(a4), (long)(a5), \
              (long)(a6))
#define SAFE(nr, ...) SAFE_(nr, __VA_ARGS__, 0, 0, 0, 0, 0, 0)

/*
 * Guest pointers handed to the host kernel (docs/user.md "System calls")
 * must lie in pages the guest owns with the access the kernel needs
 * (mem.c's table), or the call fails with -EFAULT, as QEMU's lock_user
 * does: otherwise the kernel would read or write swede's own memory. NULL
 * goes through to the kernel, which knows which arguments may be NULL and
 * faults on the others (nothing is mapped at 0). Pointers swede itself
 * dereferences are checked with user_access_ok() directly.
 */
#define MAX_RW 0x7ffff000ull /* Linux's MAX_RW_COUNT */
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif
#define SOCKADDR_MAX 128 /* sizeof(struct sockaddr_storage) */
#define NEED(ok)            \
    do {                    \
        if (!(ok)) {        \
            return -EFAULT; \
        }                   \
    } while (0)
#define NEED_PATH(p)             \
    do {                         \
        int64_t e_ = path_ok(p); \
        if (e_) {                \
            return e_;           \
        }                        \
    } while (0)

static bool rd(uint64_t p, uint64_t n)
{
    return !p || user_access_ok(p, n, false);
}

static bool wr(uint64_t p, uint64_t n)
{
    return !p || user_access_ok(p, n, true);
}

static uint64_t rw_len(uint64_t n)
{
    return n > MAX_RW ? MAX_RW : n;
}

/* A path: readable up to its NUL, shorter than PATH_MAX. */
static int64_t path_ok(uint64_t p)
{
    int64_t n;

    if (!p) {
        return 0;
    }
    n = user_strnlen(p, PATH_MAX);
    return n < 0 ? n : n == PATH_MAX ? -ENAMETOOLONG : 0;
}

/* An iovec array and its buffers (the kernel's total is MAX_RW at most;
 * too many or negative lengths are the kernel's -EINVAL, before it
 * touches anything). */
static bool iov_ok(uint64_t iov, uint64_t cnt, bool write)
{
    const struct iovec *v = (const struct iovec *)(uintptr_t)iov;
    uint64_t total = 0;

    if (cnt > UIO_MAXIOV) {
        return true;
    }
    if (!user_access_ok(iov, cnt * sizeof(*v), false)) {
        return false;
    }
    for (uint64_t i = 0; i < cnt; i++) {
        if ((int64_t)v[i].iov_len < 0) {
            return true;
        }
    }
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t n = v[i].iov_len, b = (uint64_t)(uintptr_t)v[i].iov_base;
        if (n > MAX_RW - total) {
            n = MAX_RW - total;
        }
        total += n;
        if (!(write ? wr(b, n) : rd(b, n))) {
            return false;
        }
    }
    return true;
}

/* readv, writev and the p*v variants: the guest's iovecs copied to host
 * (so they cannot change after the check), as QEMU's lock_iovec does: a
 * bad first buffer is -EFAULT, a bad later one ends the transfer there
 * (the kernel's partial read or write). Returns cnt, the host array in
 * *out (NULL with cnt 0 or a count the kernel refuses), or -EFAULT. */
static int64_t iov_copy(uint64_t iov, uint64_t cnt, bool write,
                        struct iovec *out, struct iovec **host)
{
    const struct iovec *v = (const struct iovec *)(uintptr_t)iov;
    uint64_t total = 0;
    bool bad = false;

    *host = (struct iovec *)(uintptr_t)iov;
    if (cnt > UIO_MAXIOV || !cnt) {
        return (int64_t)cnt; /* the kernel's -EINVAL, or nothing */
    }
    if (!user_access_ok(iov, cnt * sizeof(*v), false)) {
        return -EFAULT;
    }
    memcpy(out, v, cnt * sizeof(*v));
    *host = out;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((int64_t)out[i].iov_len < 0) {
            return (int64_t)cnt; /* -EINVAL before any transfer */
        }
    }
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t n = out[i].iov_len, b = (uint64_t)(uintptr_t)out[i].iov_base;
        if (n > MAX_RW - total) {
            n = MAX_RW - total;
        }
        if (!bad && n && !user_access_ok(b, n, write)) {
            if (i == 0) {
                return -EFAULT;
            }
            bad = true;
        }
        if (bad) {
            out[i].iov_base = NULL;
            out[i].iov_len = 0;
        }
        total += n;
    }
    return (int64_t)cnt;
}

#define IOV_CALL(nr, write, ...)                            \
    do {                                                    \
        struct iovec hv_[UIO_MAXIOV], *h_;                  \
        int64_t n_ = iov_copy(a[1], a[2], write, hv_, &h_); \
        if (n_ < 0) {                                       \
            return n_;                                      \
        }                                                   \
        return SAFE(nr, a[0], h_, a[2], __VA_ARGS__);       \
    } while (0)

/* A msghdr and what it points to: name, iovecs, control data. recvmsg
 * writes all of them (and the header's lengths and flags). */
static bool msg_ok(uint64_t m, bool recv)
{
    const struct msghdr *h = (const struct msghdr *)(uintptr_t)m;
    uint64_t name, ctl, nl;

    if (!user_access_ok(m, sizeof(*h), recv)) {
        return false;
    }
    name = (uint64_t)(uintptr_t)h->msg_name;
    ctl = (uint64_t)(uintptr_t)h->msg_control;
    nl = (int)h->msg_namelen < 0 ? 0 : h->msg_namelen;
    if (nl > SOCKADDR_MAX) {
        nl = SOCKADDR_MAX;
    }
    if (!(recv ? wr(name, nl) : rd(name, nl))) {
        return false;
    }
    if (!iov_ok((uint64_t)(uintptr_t)h->msg_iov, h->msg_iovlen, recv)) {
        return false;
    }
    if (h->msg_controllen <= INT_MAX &&
        !(recv ? wr(ctl, h->msg_controllen) : rd(ctl, h->msg_controllen))) {
        return false;
    }
    return true;
}

/* sendmmsg/recvmmsg: the kernel writes each entry's msg_len. */
static bool mmsg_ok(uint64_t vec, uint64_t n, bool recv)
{
    const uint64_t sz = sizeof(struct msghdr) + 8; /* struct mmsghdr */

    if (!user_access_ok(vec, n * sz, true)) {
        return false;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (!msg_ok(vec + i * sz, recv)) {
            return false;
        }
    }
    return true;
}

/* A socket address in (len is the kernel's int; out of range is its
 * -EINVAL). */
static bool addr_in_ok(uint64_t a, uint64_t len)
{
    return (int)len < 0 || (int)len > SOCKADDR_MAX || rd(a, (uint32_t)len);
}

/* A socket address out: *lenp (read and written) bounds what the kernel
 * writes at a. */
static bool addr_out_ok(uint64_t a, uint64_t lenp)
{
    int len;

    if (!lenp) {
        return true;
    }
    if (!user_access_ok(lenp, 4, true)) {
        return false;
    }
    len = *(const int *)(uintptr_t)lenp;
    return len < 0 ||
           wr(a, (uint64_t)(len > SOCKADDR_MAX ? SOCKADDR_MAX : len));
}

/* getsockopt: *lenp bounds what the kernel writes. */
static bool sockopt_out_ok(uint64_t v, uint64_t lenp)
{
    int len;

    if (!user_access_ok(lenp, 4, true)) {
        return false;
    }
    len = *(const int *)(uintptr_t)lenp;
    return len < 0 || wr(v, (uint64_t)len);
}

/* pselect6: three fd_sets of n bits, the timeout (written back), and a
 * {sigset pointer, size} pair. */
static bool pselect_ok(const uint64_t *a)
{
    uint64_t sz = ((uint64_t)(uint32_t)a[0] + 63) / 64 * 8;
    const uint64_t *sm = (const uint64_t *)(uintptr_t)a[5];

    if ((int)a[0] >= 0 && !(wr(a[1], sz) && wr(a[2], sz) && wr(a[3], sz))) {
        return false;
    }
    if (!rd(a[4], 16)) { /* written back, faults ignored (as ppoll) */
        return false;
    }
    if (a[5]) {
        if (!user_access_ok(a[5], 16, false)) {
            return false;
        }
        if (sm[1] == 8 && !rd(sm[0], 8)) {
            return false;
        }
    }
    return true;
}

/* madvise, msync, mlock, mincore: the range must be the guest's (Linux
 * says -ENOMEM for unmapped pages); unaligned starts are the kernel's
 * -EINVAL. */
#define NEED_OWNED(addr, len)                           \
    do {                                                \
        if (!((addr) & (TARGET_PAGE - 1)) &&            \
            !mem_range_ok((addr), (len), PAGE_VALID)) { \
            return -ENOMEM;                             \
        }                                               \
    } while (0)

/* execve's argv and envp: NULL-terminated arrays of strings. */
static int64_t strv_ok(uint64_t v)
{
    for (uint64_t p = v; p; p += 8) {
        uint64_t s;
        int64_t n;
        if (!user_access_ok(p, 8, false)) {
            return -EFAULT;
        }
        s = *(const uint64_t *)(uintptr_t)p;
        if (!s) {
            break;
        }
        n = user_strnlen(s, 32 * TARGET_PAGE); /* MAX_ARG_STRLEN */
        if (n < 0) {
            return n;
        }
        if (n == 32 * TARGET_PAGE) {
            return -E2BIG;
        }
    }
    return 0;
}

/* ioctl: the terminal and socket ioctls with a known argument, then any
 * whose number encodes a direction and size (asm-generic/ioctl.h, on both
 * ABIs). Arguments below 64 KiB go to the kernel: nothing is mapped there
 * but the guest's own pages, and a few encoded ioctls take a value. */
static bool ioctl_ok(uint64_t cmd, uint64_t arg)
{
    uint64_t size;
    unsigned dir;

    if (arg < 0x10000) {
        return true;
    }
    switch ((uint32_t)cmd) {
    case TCGETS:
        return user_access_ok(arg, 36, true); /* kernel struct termios */
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
        return user_access_ok(arg, 36, false);
    case TCGETA:
        return user_access_ok(arg, 18, true); /* struct termio */
    case TCSETA:
    case TCSETAW:
    case TCSETAF:
        return user_access_ok(arg, 18, false);
    case TIOCGWINSZ:
        return user_access_ok(arg, 8, true);
    case TIOCSWINSZ:
        return user_access_ok(arg, 8, false);
    case TIOCGPGRP:
    case TIOCGSID:
    case TIOCOUTQ:
    case TIOCMGET:
    case TIOCGSOFTCAR:
    case TIOCGETD:
    case FIONREAD:
    case SIOCATMARK:
        return user_access_ok(arg, 4, true);
    case TIOCSPGRP:
    case TIOCMBIS:
    case TIOCMBIC:
    case TIOCMSET:
    case TIOCSSOFTCAR:
    case TIOCSETD:
    case FIONBIO:
    case FIOASYNC:
        return user_access_ok(arg, 4, false);
    case TIOCSTI:
        return user_access_ok(arg, 1, false);
    case FIOQSIZE:
        return user_access_ok(arg, 8, true);
    case SIOCGIFNAME:
    case SIOCGIFFLAGS:
    case SIOCSIFFLAGS:
    case SIOCGIFADDR:
    case SIOCGIFMTU:
    case SIOCGIFHWADDR:
    case SIOCGIFINDEX:
        return user_access_ok(arg, 40, true); /* struct ifreq */
    default:
        break;
    }
    dir = (cmd >> _IOC_DIRSHIFT) & _IOC_DIRMASK;
    size = (cmd >> _IOC_SIZESHIFT) & _IOC_SIZEMASK;
    if (dir == _IOC_NONE || !size) {
        return true; /* unknown: not checked (docs/user.md) */
    }
    return user_access_ok(arg, size, (dir & _IOC_READ) != 0);
}

/* fcntl's pointer commands. */
static bool fcntl_ok(uint64_t cmd, uint64_t arg)
{
    switch ((int)cmd) {
    case F_GETLK:
    case F_OFD_GETLK:
        return wr(arg, sizeof(struct flock));
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return rd(arg, sizeof(struct flock));
    case F_GETOWN_EX:
        return wr(arg, 8);
    case F_SETOWN_EX:
        return rd(arg, 8);
    default:
        return true;
    }
}

/* futex: which words the operation reads or writes, and whether a[3] is
 * a timeout. FUTEX_WAKE and FUTEX_REQUEUE only use addresses as keys. */
static bool futex_ok(const uint64_t *a)
{
    int op = (int)a[1] & FUTEX_CMD_MASK;

    switch (op) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
        return user_access_ok(a[0], 4, false) && rd(a[3], 16);
    case FUTEX_CMP_REQUEUE:
        return user_access_ok(a[0], 4, false);
    case FUTEX_WAKE_OP:
        return user_access_ok(a[4], 4, true);
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_WAIT_REQUEUE_PI:
        return user_access_ok(a[0], 4, true) && rd(a[3], 16) &&
               (op != FUTEX_WAIT_REQUEUE_PI || user_access_ok(a[4], 4, true));
    case FUTEX_UNLOCK_PI:
    case FUTEX_TRYLOCK_PI:
        return user_access_ok(a[0], 4, true);
    case FUTEX_CMP_REQUEUE_PI:
        return user_access_ok(a[0], 4, true) && user_access_ok(a[4], 4, true);
    default:
        return true;
    }
}

/* prctl's pointer options (the others are values or not checked). */
static bool prctl_ok(const uint64_t *a)
{
    switch ((int)a[0]) {
    case PR_SET_NAME:
        return user_strnlen(a[1], 15) >= 0;
    case PR_GET_NAME:
        return user_access_ok(a[1], 16, true);
    case PR_GET_PDEATHSIG:
    case PR_GET_CHILD_SUBREAPER:
    case PR_GET_TSC:
    case PR_GET_UNALIGN:
    case PR_GET_FPEMU:
    case PR_GET_FPEXC:
    case PR_GET_ENDIAN:
        return user_access_ok(a[1], 4, true);
    case PR_GET_TID_ADDRESS:
        return user_access_ok(a[1], 8, true);
    default:
        return true;
    }
}

static int64_t stat_out(const struct stat *s, uint64_t gp)
{
    struct target_stat t;

    if (!user_access_ok(gp, sizeof(t), true)) {
        return -EFAULT;
    }
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
    return 0;
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
    NEED_PATH(path);
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

    NEED_PATH(path);
    if ((int)len > 0) {
        NEED(wr(buf, (uint32_t)len));
    }
    snprintf(self, sizeof(self), "/proc/%d/exe", (int)getpid());
    if (p && (!strcmp(p, "/proc/self/exe") || !strcmp(p, self))) {
        size_t n = strlen(uproc.exe);
        if ((int)len <= 0) {
            return -EINVAL;
        }
        if (n > len) {
            n = len;
        }
        NEED(user_access_ok(buf, n, true));
        memcpy((void *)(uintptr_t)buf, uproc.exe, n);
        return (int64_t)n;
    }
    return HOST(SYS_readlinkat, dirfd, gpath(path, b, sizeof(b)), buf, len);
}

static int64_t do_fstatat(int dirfd, uint64_t path, uint64_t st, int flags)
{
    char b[PATH_MAX];
    struct stat s;
    int64_t r;

    NEED_PATH(path);
    r = HOST(SYS_newfstatat, dirfd, gpath(path, b, sizeof(b)), &s, flags);
    return r == 0 ? stat_out(&s, st) : r;
}

static int64_t do_epoll_ctl(int ep, int op, int fd, uint64_t ev)
{
    struct epoll_event e;

    if (op == EPOLL_CTL_DEL) {
        ev = 0; /* not read */
    }
    if (ev) {
        const struct target_epoll_event *g = (void *)(uintptr_t)ev;
        NEED(user_access_ok(ev, sizeof(*g), false));
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
    NEED(user_access_ok(evs, (uint64_t)max * sizeof(struct target_epoll_event),
                        true));
    if (masksz == 8) {
        NEED(rd(mask, 8));
    }
    e = calloc((size_t)max, sizeof(*e));
    if (!e) {
        return -ENOMEM;
    }
    r = SAFE(SYS_epoll_pwait, ep, e, max, timeout, mask, masksz);
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
    const char *p;
    char *const *gargv = (char *const *)(uintptr_t)argv;
    const char *interp = NULL, *iarg = NULL, *argv0;
    const char **nargv;
    size_t n = 0, k = 0;
    int fd;

    int64_t e;

    if (!path) {
        return -EFAULT;
    }
    NEED_PATH(path);
    e = strv_ok(argv);
    if (!e) {
        e = strv_ok(envp);
    }
    if (e) {
        return e;
    }
    p = gpath(path, b, sizeof(b));
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
    NEED(user_access_ok(buf, sizeof(*u), true));
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
        NEED(wr(a[1], rw_len(a[2])));
        return SAFE(SYS_read, a[0], a[1], a[2]);
    case TARGET_NR_write:
        NEED(rd(a[1], rw_len(a[2])));
        return SAFE(SYS_write, a[0], a[1], a[2]);
    case TARGET_NR_readv:
        IOV_CALL(SYS_readv, true, 0);
    case TARGET_NR_writev:
        IOV_CALL(SYS_writev, false, 0);
    case TARGET_NR_pread64:
        NEED(wr(a[1], rw_len(a[2])));
        return SAFE(SYS_pread64, a[0], a[1], a[2], a[3]);
    case TARGET_NR_pwrite64:
        NEED(rd(a[1], rw_len(a[2])));
        return SAFE(SYS_pwrite64, a[0], a[1], a[2], a[3]);
    case TARGET_NR_preadv:
        IOV_CALL(SYS_preadv, true, a[3], a[4]);
    case TARGET_NR_pwritev:
        IOV_CALL(SYS_pwritev, false, a[3], a[4]);
    case TARGET_NR_preadv2:
        IOV_CALL(SYS_preadv2, true, a[3], a[4], a[5]);
    case TARGET_NR_pwritev2:
        IOV_CALL(SYS_pwritev2, false, a[3], a[4], a[5]);
    case TARGET_NR_lseek:
        return HOST(SYS_lseek, a[0], a[1], a[2]);
    case TARGET_NR_getdents64:
        NEED(wr(a[1], rw_len(a[2])));
        return HOST(SYS_getdents64, a[0], a[1], a[2]);
    case TARGET_NR_newfstatat:
        return do_fstatat((int)a[0], a[1], a[2], (int)a[3]);
    case TARGET_NR_fstat: {
        struct stat s;
        int64_t r = HOST(SYS_fstat, a[0], &s);
        return r == 0 ? stat_out(&s, a[1]) : r;
    }
    case TARGET_NR_statx:
        NEED_PATH(a[1]);
        NEED(wr(a[4], 256)); /* struct statx */
        return HOST(SYS_statx, a[0], gpath(a[1], b1, sizeof(b1)), a[2], a[3],
                    a[4]);
    case TARGET_NR_faccessat:
        NEED_PATH(a[1]);
        return HOST(SYS_faccessat, a[0], gpath(a[1], b1, sizeof(b1)), a[2]);
    case TARGET_NR_faccessat2:
        NEED_PATH(a[1]);
        return HOST(SYS_faccessat2, a[0], gpath(a[1], b1, sizeof(b1)), a[2],
                    a[3]);
    case TARGET_NR_readlinkat:
        return do_readlinkat((int)a[0], a[1], a[2], a[3]);
    case TARGET_NR_getcwd:
        NEED(wr(a[0], rw_len(a[1])));
        return HOST(SYS_getcwd, a[0], a[1]);
    case TARGET_NR_chdir:
        NEED_PATH(a[0]);
        return HOST(SYS_chdir, a[0]);
    case TARGET_NR_fchdir:
        return HOST(SYS_fchdir, a[0]);
    case TARGET_NR_chroot:
        NEED_PATH(a[0]);
        return HOST(SYS_chroot, a[0]);
    case TARGET_NR_mkdirat:
        NEED_PATH(a[1]);
        return HOST(SYS_mkdirat, a[0], a[1], a[2]);
    case TARGET_NR_mknodat:
        NEED_PATH(a[1]);
        return HOST(SYS_mknodat, a[0], a[1], a[2], a[3]);
    case TARGET_NR_unlinkat:
        NEED_PATH(a[1]);
        return HOST(SYS_unlinkat, a[0], a[1], a[2]);
    case TARGET_NR_symlinkat:
        NEED_PATH(a[0]);
        NEED_PATH(a[2]);
        return HOST(SYS_symlinkat, a[0], a[1], a[2]);
    case TARGET_NR_linkat:
        NEED_PATH(a[1]);
        NEED_PATH(a[3]);
        return HOST(SYS_linkat, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_renameat2:
        NEED_PATH(a[1]);
        NEED_PATH(a[3]);
        return HOST(SYS_renameat2, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_fchmod:
        return HOST(SYS_fchmod, a[0], a[1]);
    case TARGET_NR_fchmodat:
        NEED_PATH(a[1]);
        return HOST(SYS_fchmodat, a[0], a[1], a[2]);
    case TARGET_NR_fchown:
        return HOST(SYS_fchown, a[0], a[1], a[2]);
    case TARGET_NR_fchownat:
        NEED_PATH(a[1]);
        return HOST(SYS_fchownat, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_utimensat:
        NEED_PATH(a[1]);
        NEED(rd(a[2], 32));
        return HOST(SYS_utimensat, a[0], a[1], a[2], a[3]);
    case TARGET_NR_truncate:
        NEED_PATH(a[0]);
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
        NEED_PATH(a[0]);
        NEED(wr(a[1], sizeof(struct statfs)));
        return HOST(SYS_statfs, gpath(a[0], b1, sizeof(b1)), a[1]);
    case TARGET_NR_fstatfs:
        NEED(wr(a[1], sizeof(struct statfs)));
        return HOST(SYS_fstatfs, a[0], a[1]);
    case TARGET_NR_dup:
        return HOST(SYS_dup, a[0]);
    case TARGET_NR_dup3:
        return HOST(SYS_dup3, a[0], a[1], a[2]);
    case TARGET_NR_fcntl:
        NEED(fcntl_ok(a[1], a[2]));
        return HOST(SYS_fcntl, a[0], a[1], a[2]);
    case TARGET_NR_flock:
        return SAFE(SYS_flock, a[0], a[1]);
    case TARGET_NR_ioctl:
        NEED(ioctl_ok(a[1], a[2]));
        return HOST(SYS_ioctl, a[0], a[1], a[2]);
    case TARGET_NR_pipe2:
        NEED(wr(a[0], 8));
        return HOST(SYS_pipe2, a[0], a[1]);
    case TARGET_NR_umask:
        return HOST(SYS_umask, a[0]);
    case TARGET_NR_sendfile:
        NEED(wr(a[2], 8));
        return HOST(SYS_sendfile, a[0], a[1], a[2], a[3]);
    case TARGET_NR_copy_file_range:
        NEED(wr(a[1], 8) && wr(a[3], 8));
        return HOST(SYS_copy_file_range, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_splice:
        NEED(wr(a[1], 8) && wr(a[3], 8));
        return HOST(SYS_splice, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_fadvise64:
        return HOST(SYS_fadvise64, a[0], a[1], a[2], a[3]);
    case TARGET_NR_memfd_create:
        NEED(!a[0] || user_strnlen(a[0], 250) >= 0);
        return HOST(SYS_memfd_create, a[0], a[1]);
    case TARGET_NR_eventfd2:
        return HOST(SYS_eventfd2, a[0], a[1]);
    case TARGET_NR_timerfd_create:
        return HOST(SYS_timerfd_create, a[0], a[1]);
    case TARGET_NR_timerfd_settime:
        NEED(rd(a[2], 32) && wr(a[3], 32));
        return HOST(SYS_timerfd_settime, a[0], a[1], a[2], a[3]);
    case TARGET_NR_timerfd_gettime:
        NEED(wr(a[1], 32));
        return HOST(SYS_timerfd_gettime, a[0], a[1]);
    case TARGET_NR_inotify_init1:
        return HOST(SYS_inotify_init1, a[0]);
    case TARGET_NR_inotify_add_watch:
        NEED_PATH(a[1]);
        return HOST(SYS_inotify_add_watch, a[0], gpath(a[1], b1, sizeof(b1)),
                    a[2]);
    case TARGET_NR_inotify_rm_watch:
        return HOST(SYS_inotify_rm_watch, a[0], a[1]);
    /* Polling. */
    case TARGET_NR_ppoll:
        /* The remaining time is written back, but Linux ignores a fault
         * there: reading the timeout is what counts. */
        NEED(wr(a[0], (uint64_t)(uint32_t)a[1] * 8) && rd(a[2], 16));
        NEED(a[4] != 8 || rd(a[3], 8));
        return SAFE(SYS_ppoll, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_pselect6:
        NEED(pselect_ok(a));
        return SAFE(SYS_pselect6, a[0], a[1], a[2], a[3], a[4], a[5]);
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
        NEED_OWNED(a[0], a[1]);
        return HOST(SYS_madvise, a[0], a[1], a[2]);
    case TARGET_NR_msync:
        NEED_OWNED(a[0], a[1]);
        return HOST(SYS_msync, a[0], a[1], a[2]);
    case TARGET_NR_mincore:
        NEED_OWNED(a[0], a[1]);
        NEED(wr(a[2], (a[1] + TARGET_PAGE - 1) / TARGET_PAGE));
        return HOST(SYS_mincore, a[0], a[1], a[2]);
    case TARGET_NR_mlock:
        NEED_OWNED(a[0], a[1]);
        return HOST(SYS_mlock, a[0], a[1]);
    case TARGET_NR_munlock:
        NEED_OWNED(a[0], a[1]);
        return HOST(SYS_munlock, a[0], a[1]);
    case TARGET_NR_membarrier:
        return HOST(SYS_membarrier, a[0], a[1], a[2]);
    case TARGET_NR_riscv_flush_icache:
        mem_changed();
        return 0;
    /* Time. */
    case TARGET_NR_clock_gettime:
        NEED(wr(a[1], 16));
        return HOST(SYS_clock_gettime, a[0], a[1]);
    case TARGET_NR_clock_getres:
        NEED(wr(a[1], 16));
        return HOST(SYS_clock_getres, a[0], a[1]);
    case TARGET_NR_clock_nanosleep:
        NEED(rd(a[2], 16) && wr(a[3], 16));
        return SAFE(SYS_clock_nanosleep, a[0], a[1], a[2], a[3]);
    case TARGET_NR_nanosleep:
        NEED(rd(a[0], 16) && wr(a[1], 16));
        return SAFE(SYS_nanosleep, a[0], a[1]);
    case TARGET_NR_gettimeofday:
        NEED(wr(a[0], 16) && wr(a[1], 8));
        return HOST(SYS_gettimeofday, a[0], a[1]);
    case TARGET_NR_times:
        NEED(wr(a[0], 32));
        return HOST(SYS_times, a[0]);
    case TARGET_NR_getitimer:
        NEED(wr(a[1], 32));
        return HOST(SYS_getitimer, a[0], a[1]);
    case TARGET_NR_setitimer:
        NEED(rd(a[1], 32) && wr(a[2], 32));
        return HOST(SYS_setitimer, a[0], a[1], a[2]);
    case TARGET_NR_timer_create:
        NEED(rd(a[1], 64) && wr(a[2], 4));
        return HOST(SYS_timer_create, a[0], a[1], a[2]);
    case TARGET_NR_timer_settime:
        NEED(rd(a[2], 32) && wr(a[3], 32));
        return HOST(SYS_timer_settime, a[0], a[1], a[2], a[3]);
    case TARGET_NR_timer_gettime:
        NEED(wr(a[1], 32));
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
        NEED(wr(a[0], 4) && wr(a[1], 4) && wr(a[2], 4));
        return HOST(SYS_getresuid, a[0], a[1], a[2]);
    case TARGET_NR_getresgid:
        NEED(wr(a[0], 4) && wr(a[1], 4) && wr(a[2], 4));
        return HOST(SYS_getresgid, a[0], a[1], a[2]);
    case TARGET_NR_getgroups:
        NEED((int)a[0] <= 0 ||
             wr(a[1], (uint64_t)((int)a[0] > 65536 ? 65536 : (int)a[0]) * 4));
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
        NEED(a[1] > 64 || rd(a[0], a[1]));
        return HOST(SYS_sethostname, a[0], a[1]);
    case TARGET_NR_getrlimit:
        NEED(wr(a[1], 16));
        return HOST(SYS_getrlimit, a[0], a[1]);
    case TARGET_NR_setrlimit:
        NEED(rd(a[1], 16));
        return HOST(SYS_setrlimit, a[0], a[1]);
    case TARGET_NR_prlimit64:
        NEED(rd(a[2], 16) && wr(a[3], 16));
        return HOST(SYS_prlimit64, a[0], a[1], a[2], a[3]);
    case TARGET_NR_getrusage:
        NEED(wr(a[1], sizeof(struct rusage)));
        return HOST(SYS_getrusage, a[0], a[1]);
    case TARGET_NR_sysinfo:
        NEED(wr(a[0], 112)); /* struct sysinfo */
        return HOST(SYS_sysinfo, a[0]);
    case TARGET_NR_prctl:
        NEED(prctl_ok(a));
        return HOST(SYS_prctl, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_getpriority:
        return HOST(SYS_getpriority, a[0], a[1]);
    case TARGET_NR_setpriority:
        return HOST(SYS_setpriority, a[0], a[1], a[2]);
    case TARGET_NR_sched_yield:
        return HOST(SYS_sched_yield, 0);
    case TARGET_NR_sched_getaffinity:
        NEED(wr(a[2], rw_len(a[1])));
        return HOST(SYS_sched_getaffinity, a[0], a[1], a[2]);
    case TARGET_NR_sched_setaffinity:
        NEED(rd(a[2], rw_len(a[1])));
        return HOST(SYS_sched_setaffinity, a[0], a[1], a[2]);
    case TARGET_NR_sched_getparam:
        NEED(wr(a[1], 4));
        return HOST(SYS_sched_getparam, a[0], a[1]);
    case TARGET_NR_sched_getscheduler:
        return HOST(SYS_sched_getscheduler, a[0]);
    case TARGET_NR_getcpu:
        NEED(wr(a[0], 4) && wr(a[1], 4));
        return HOST(SYS_getcpu, a[0], a[1], a[2]);
    case TARGET_NR_getrandom:
        NEED(wr(a[0], rw_len(a[1])));
        return HOST(SYS_getrandom, a[0], a[1], a[2]);
    case TARGET_NR_wait4:
        NEED(wr(a[1], 4) && wr(a[3], sizeof(struct rusage)));
        return SAFE(SYS_wait4, a[0], a[1], a[2], a[3]);
    case TARGET_NR_waitid:
        NEED(wr(a[2], sizeof(siginfo_t)) && wr(a[4], sizeof(struct rusage)));
        return SAFE(SYS_waitid, a[0], a[1], a[2], a[3], a[4]);
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
        NEED(futex_ok(a));
        return SAFE(SYS_futex, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_set_robust_list:
        return HOST(SYS_set_robust_list, a[0], a[1]);
    case TARGET_NR_get_robust_list:
        NEED(wr(a[1], 8) && wr(a[2], 8));
        return HOST(SYS_get_robust_list, a[0], a[1], a[2]);
    /* Signals. */
    case TARGET_NR_rt_sigaction:
        return a[3] != 8 ? -EINVAL : sig_action((int)a[0], a[1], a[2]);
    case TARGET_NR_rt_sigprocmask:
        return a[3] != 8 ? -EINVAL : sig_procmask((int)a[0], a[1], a[2]);
    case TARGET_NR_rt_sigreturn:
        return sig_return(t);
    case TARGET_NR_rt_sigsuspend:
        if (a[1] != 8) {
            return -EINVAL;
        }
        NEED(user_access_ok(a[0], 8, false));
        return sig_suspend(t, *(uint64_t *)(uintptr_t)a[0]);
    case TARGET_NR_rt_sigpending:
        NEED(a[1] > 8 || wr(a[0], a[1]));
        return HOST(SYS_rt_sigpending, a[0], a[1]);
    case TARGET_NR_rt_sigtimedwait:
        NEED(a[3] != 8 || rd(a[0], 8));
        NEED(wr(a[1], sizeof(siginfo_t)) && rd(a[2], 16));
        return SAFE(SYS_rt_sigtimedwait, a[0], a[1], a[2], a[3]);
    case TARGET_NR_rt_sigqueueinfo:
        NEED(rd(a[2], sizeof(siginfo_t)));
        return HOST(SYS_rt_sigqueueinfo, a[0], a[1], a[2]);
    case TARGET_NR_rt_tgsigqueueinfo:
        NEED(rd(a[3], sizeof(siginfo_t)));
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
        NEED(wr(a[3], 8));
        return HOST(SYS_socketpair, a[0], a[1], a[2], a[3]);
    case TARGET_NR_bind:
        NEED(addr_in_ok(a[1], a[2]));
        return HOST(SYS_bind, a[0], a[1], a[2]);
    case TARGET_NR_listen:
        return HOST(SYS_listen, a[0], a[1]);
    case TARGET_NR_accept:
        NEED(addr_out_ok(a[1], a[2]));
        return SAFE(SYS_accept, a[0], a[1], a[2]);
    case TARGET_NR_accept4:
        NEED(addr_out_ok(a[1], a[2]));
        return SAFE(SYS_accept4, a[0], a[1], a[2], a[3]);
    case TARGET_NR_connect:
        NEED(addr_in_ok(a[1], a[2]));
        return SAFE(SYS_connect, a[0], a[1], a[2]);
    case TARGET_NR_getsockname:
        NEED(addr_out_ok(a[1], a[2]));
        return HOST(SYS_getsockname, a[0], a[1], a[2]);
    case TARGET_NR_getpeername:
        NEED(addr_out_ok(a[1], a[2]));
        return HOST(SYS_getpeername, a[0], a[1], a[2]);
    case TARGET_NR_sendto:
        NEED(rd(a[1], rw_len(a[2])) && addr_in_ok(a[4], a[5]));
        return SAFE(SYS_sendto, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_recvfrom:
        NEED(wr(a[1], rw_len(a[2])) && addr_out_ok(a[4], a[5]));
        return SAFE(SYS_recvfrom, a[0], a[1], a[2], a[3], a[4], a[5]);
    case TARGET_NR_setsockopt:
        NEED((int)a[4] < 0 || rd(a[3], (uint32_t)a[4]));
        return HOST(SYS_setsockopt, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_getsockopt:
        NEED(sockopt_out_ok(a[3], a[4]));
        return HOST(SYS_getsockopt, a[0], a[1], a[2], a[3], a[4]);
    case TARGET_NR_shutdown:
        return HOST(SYS_shutdown, a[0], a[1]);
    case TARGET_NR_sendmsg:
        NEED(msg_ok(a[1], false));
        return SAFE(SYS_sendmsg, a[0], a[1], a[2]);
    case TARGET_NR_recvmsg:
        NEED(msg_ok(a[1], true));
        return SAFE(SYS_recvmsg, a[0], a[1], a[2]);
    case TARGET_NR_sendmmsg: {
        uint64_t n = (uint32_t)a[2] > UIO_MAXIOV ? UIO_MAXIOV : (uint32_t)a[2];
        NEED(mmsg_ok(a[1], n, false));
        return HOST(SYS_sendmmsg, a[0], a[1], n, a[3]);
    }
    case TARGET_NR_recvmmsg: {
        uint64_t n = (uint32_t)a[2] > UIO_MAXIOV ? UIO_MAXIOV : (uint32_t)a[2];
        NEED(mmsg_ok(a[1], n, true) && wr(a[4], 16));
        return HOST(SYS_recvmmsg, a[0], a[1], n, a[3], a[4]);
    }
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
    if (r == -USER_ERESTART) {
        /* A signal came first: deliver it, then make the call afresh. */
        *t->r.pc -= 4;
        return;
    }
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
    if (nr == TARGET_NR_rt_sigsuspend && r == -EINTR) {
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
