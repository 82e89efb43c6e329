/* SPDX-License-Identifier: MIT */
/* swede-riscv64 test: bad pointers in system call arguments (NULL, a
 * munmapped page, a read-only page written to, a string running into an
 * unmapped page, the top of the address space, a range that wraps) must
 * fail with EFAULT, as on Linux and under qemu-riscv64, instead of letting
 * the host kernel read or write the emulator's memory. Raw syscall() so
 * that libc wrappers do not get in the way. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    int e = errno;

    if (r >= 0) {
        printf("%-40s = %ld\n", what, r);
    } else if (e == EFAULT) {
        printf("%-40s = -EFAULT\n", what);
    } else {
        printf("%-40s = -%d (%s)\n", what, e, strerror(e));
    }
    fflush(stdout);
}

#define T(what, call)             \
    do {                          \
        errno = 0;                \
        show(what, (long)(call)); \
    } while (0)

int main(int argc, char **argv)
{
    const long pg = 4096;
    char tmpl[] = "/tmp/swede-efault-XXXXXX", good[64];
    char *two, *unm, *ro, *edge, *longp;
    void *top = (void *)(uintptr_t)0xfffffffffffff000ull;
    void *wrap = (void *)(uintptr_t)-8ull;
    struct iovec iov[2];
    struct msghdr mh;
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, p[2], sv[2], ep, dfd, us;
    char *bad_argv[] = { NULL };

    (void)argc;
    /* The bad pages: a munmapped one, a read-only one, and a string of
     * 'a's that ends at an unmapped page without a NUL. */
    two = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (two == MAP_FAILED) {
        return 1;
    }
    unm = two + pg;
    ro = two + 2 * pg;
    memset(two, 'a', pg);
    edge = two + pg - 16;
    munmap(unm, pg);
    mprotect(ro, pg, PROT_READ);
    longp = malloc(8192);
    memset(longp, 'b', 8191);
    longp[0] = '/';
    longp[8191] = 0;

    fd = mkstemp(tmpl);
    if (fd < 0 || write(fd, "0123456789abcdef0123456789abcdef", 32) != 32) {
        return 1;
    }
    strcpy(good, "0123456789abcdef");

    /* read/write and friends. */
    T("read(NULL)", syscall(SYS_pread64, fd, NULL, 16, 0));
    T("pread64(unmapped)", syscall(SYS_pread64, fd, unm, 16, 0));
    T("pread64(read-only)", syscall(SYS_pread64, fd, ro, 16, 0));
    T("pread64(top)", syscall(SYS_pread64, fd, top, 16, 0));
    T("pread64(wrapping)", syscall(SYS_pread64, fd, wrap, 16, 0));
    T("pread64(ok page + unmapped)", syscall(SYS_pread64, fd, unm - 8, 16, 0));
    lseek(fd, 0, SEEK_SET);
    T("read(unmapped)", syscall(SYS_read, fd, unm, 16));
    T("pwrite64(unmapped)", syscall(SYS_pwrite64, fd, unm, 16, 64));
    T("pwrite64(read-only, fine)", syscall(SYS_pwrite64, fd, ro, 16, 32));
    T("write(NULL)", syscall(SYS_write, fd, NULL, 16));
    T("write(NULL, 0)", syscall(SYS_write, fd, NULL, 0));
    iov[0].iov_base = good;
    iov[0].iov_len = 4;
    iov[1].iov_base = unm;
    iov[1].iov_len = 4;
    T("preadv(iov array unmapped)", syscall(SYS_preadv, fd, unm, 1, 0, 0));
    T("preadv(iov[1] unmapped, partial)",
      syscall(SYS_preadv, fd, iov, 2, 0, 0));
    iov[1].iov_base = ro;
    T("preadv(iov[1] read-only, partial)",
      syscall(SYS_preadv, fd, iov, 2, 0, 0));
    T("pwritev(iov base read-only, fine)",
      syscall(SYS_pwritev, fd, iov, 2, 40, 0));
    iov[1].iov_base = top;
    T("writev(iov[1] top, partial)", syscall(SYS_writev, fd, iov, 2));
    T("writev(iov array NULL)", syscall(SYS_writev, fd, NULL, 1));

    /* Paths. */
    T("openat(NULL)", syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY));
    T("openat(unmapped)", syscall(SYS_openat, AT_FDCWD, unm, O_RDONLY));
    T("openat(string runs off the page)",
      syscall(SYS_openat, AT_FDCWD, edge, O_RDONLY));
    T("openat(top)", syscall(SYS_openat, AT_FDCWD, top, O_RDONLY));
    T("openat(8191 bytes)", syscall(SYS_openat, AT_FDCWD, longp, O_RDONLY));
    T("faccessat(unmapped)", syscall(SYS_faccessat, AT_FDCWD, unm, F_OK));
    T("mkdirat(edge)", syscall(SYS_mkdirat, AT_FDCWD, edge, 0700));
    T("unlinkat(unmapped)", syscall(SYS_unlinkat, AT_FDCWD, unm, 0));
    T("renameat2(ok, unmapped)",
      syscall(SYS_renameat2, AT_FDCWD, tmpl, AT_FDCWD, unm, 0));
    T("symlinkat(unmapped, ok)",
      syscall(SYS_symlinkat, unm, AT_FDCWD, "/tmp/swede-efault-nolink"));
    T("chdir(unmapped)", syscall(SYS_chdir, unm));
    T("truncate(edge)", syscall(SYS_truncate, edge, 0));
    T("readlinkat(exe, buf unmapped)",
      syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", unm, 64));
    T("readlinkat(unmapped path)",
      syscall(SYS_readlinkat, AT_FDCWD, unm, good, 16));
    T("getcwd(unmapped)", syscall(SYS_getcwd, unm, 64));
    T("getcwd(read-only)", syscall(SYS_getcwd, ro, 64));
    T("memfd_create(unmapped)", syscall(SYS_memfd_create, unm, 0));

    /* The stat family. */
    T("fstat(NULL)", syscall(SYS_fstat, fd, NULL));
    T("fstat(unmapped)", syscall(SYS_fstat, fd, unm));
    T("fstat(read-only)", syscall(SYS_fstat, fd, ro));
    T("newfstatat(buf unmapped)",
      syscall(SYS_newfstatat, AT_FDCWD, tmpl, unm, 0));
    T("newfstatat(path unmapped)",
      syscall(SYS_newfstatat, AT_FDCWD, unm, good, 0));
    T("statx(buf read-only)", syscall(SYS_statx, AT_FDCWD, tmpl, 0, 0x7ff, ro));
    T("statfs(buf read-only)", syscall(SYS_statfs, "/", ro));
    T("fstatfs(buf unmapped)", syscall(SYS_fstatfs, fd, unm));
    dfd = open("/", O_RDONLY | O_DIRECTORY);
    T("getdents64(unmapped)", syscall(SYS_getdents64, dfd, unm, 4096));
    T("fcntl(F_GETLK, read-only)", syscall(SYS_fcntl, fd, F_GETLK, ro));
    T("fcntl(F_SETLK, unmapped)", syscall(SYS_fcntl, fd, F_SETLK, unm));

    /* Process and time. */
    T("uname(NULL)", syscall(SYS_uname, NULL));
    T("uname(read-only)", syscall(SYS_uname, ro));
    T("getrandom(unmapped)", syscall(SYS_getrandom, unm, 16, 0));
    T("getrandom(read-only)", syscall(SYS_getrandom, ro, 16, 0));
    T("clock_gettime(NULL)", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL));
    T("clock_gettime(read-only)",
      syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ro));
    T("clock_getres(NULL, fine)",
      syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
    T("nanosleep(unmapped)", syscall(SYS_nanosleep, unm, NULL));
    T("gettimeofday(read-only)", syscall(SYS_gettimeofday, ro, NULL));
    T("getrlimit(unmapped)", syscall(SYS_getrlimit, RLIMIT_NOFILE, unm));
    T("prlimit64(new unmapped)",
      syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, unm, NULL));
    T("getrusage(read-only)", syscall(SYS_getrusage, RUSAGE_SELF, ro));
    T("sysinfo(unmapped)", syscall(SYS_sysinfo, unm));
    T("times(read-only)", syscall(SYS_times, ro));
    T("sched_getaffinity(unmapped)",
      syscall(SYS_sched_getaffinity, 0, 128, unm));
    T("getresuid(read-only)", syscall(SYS_getresuid, good, ro, good + 8));
    T("execve(path unmapped)", syscall(SYS_execve, unm, bad_argv, NULL));
    T("execve(argv unmapped)", syscall(SYS_execve, argv[0], unm, NULL));
    T("execve(argv[0] unmapped)",
      syscall(SYS_execve, argv[0], (char *[]){ unm, NULL }, NULL));

    /* Signals and futexes. */
    T("rt_sigaction(act unmapped)",
      syscall(SYS_rt_sigaction, SIGUSR1, unm, NULL, 8));
    T("rt_sigaction(oact read-only)",
      syscall(SYS_rt_sigaction, SIGUSR1, NULL, ro, 8));
    T("rt_sigprocmask(set unmapped)",
      syscall(SYS_rt_sigprocmask, SIG_BLOCK, unm, NULL, 8));
    T("rt_sigprocmask(oset read-only)",
      syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, ro, 8));
    T("rt_sigsuspend(unmapped)", syscall(SYS_rt_sigsuspend, unm, 8));
    T("rt_sigpending(read-only)", syscall(SYS_rt_sigpending, ro, 8));
    T("sigaltstack(ss unmapped)", syscall(SYS_sigaltstack, unm, NULL));
    T("sigaltstack(oss read-only)", syscall(SYS_sigaltstack, NULL, ro));
    T("futex(WAIT, unmapped)",
      syscall(SYS_futex, unm, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
    T("futex(WAIT, read-only, other value)",
      syscall(SYS_futex, ro, FUTEX_WAIT_PRIVATE, 12345, NULL, NULL, 0));
    T("futex(WAIT, timeout unmapped)",
      syscall(SYS_futex, good, FUTEX_WAIT_PRIVATE, 0x33323130, unm, NULL, 0));

    /* Pipes, polling, ioctl. */
    T("pipe2(read-only)", syscall(SYS_pipe2, ro, 0));
    T("pipe2(unmapped)", syscall(SYS_pipe2, unm, 0));
    if (pipe(p) < 0 || write(p[1], "x", 1) != 1) {
        return 1;
    }
    T("ioctl(FIONREAD, unmapped)", syscall(SYS_ioctl, p[0], FIONREAD, unm));
    T("ioctl(FIONREAD, read-only)", syscall(SYS_ioctl, p[0], FIONREAD, ro));
    T("ppoll(unmapped)", syscall(SYS_ppoll, unm, 1, NULL, NULL, 8));
    {
        struct timespec zero = { 0, 0 };
        T("ppoll(read-only fds)", syscall(SYS_ppoll, ro, 1, &zero, NULL, 8));
    }
    ep = epoll_create1(0);
    T("epoll_ctl(ADD, event unmapped)",
      syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], unm));
    {
        struct epoll_event ev = { .events = EPOLLIN };
        epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    }
    T("epoll_pwait(events unmapped)",
      syscall(SYS_epoll_pwait, ep, unm, 4, 0, NULL, 8));
    T("epoll_pwait(events read-only)",
      syscall(SYS_epoll_pwait, ep, ro, 4, 0, NULL, 8));

    /* Sockets. */
    T("socketpair(read-only)",
      syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, ro));
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
        return 1;
    }
    T("sendto(buf unmapped)", syscall(SYS_sendto, sv[0], unm, 8, 0, NULL, 0));
    T("sendto(addr unmapped)",
      syscall(SYS_sendto, sv[0], good, 8, 0, unm, sizeof(struct sockaddr)));
    if (send(sv[0], "datagram", 8, 0) != 8) {
        return 1;
    }
    T("recvfrom(buf read-only)",
      syscall(SYS_recvfrom, sv[1], ro, 8, MSG_DONTWAIT, NULL, NULL));
    memset(&mh, 0, sizeof(mh));
    iov[0].iov_base = unm;
    iov[0].iov_len = 8;
    mh.msg_iov = iov;
    mh.msg_iovlen = 1;
    T("sendmsg(msghdr unmapped)", syscall(SYS_sendmsg, sv[0], unm, 0));
    T("sendmsg(iov base unmapped)", syscall(SYS_sendmsg, sv[0], &mh, 0));
    mh.msg_iov = (struct iovec *)unm;
    T("sendmsg(iov array unmapped)", syscall(SYS_sendmsg, sv[0], &mh, 0));
    iov[0].iov_base = good;
    mh.msg_iov = iov;
    mh.msg_control = unm;
    mh.msg_controllen = 64;
    T("sendmsg(control unmapped)", syscall(SYS_sendmsg, sv[0], &mh, 0));
    mh.msg_control = NULL;
    mh.msg_controllen = 0;
    iov[0].iov_base = ro;
    T("recvmsg(iov base read-only)",
      syscall(SYS_recvmsg, sv[1], &mh, MSG_DONTWAIT));
    T("recvmsg(msghdr read-only)",
      syscall(SYS_recvmsg, sv[1], ro, MSG_DONTWAIT));
    us = socket(AF_UNIX, SOCK_STREAM, 0);
    T("bind(addr unmapped)", syscall(SYS_bind, us, unm, 16));
    T("connect(addr edge)", syscall(SYS_connect, us, edge, 32));
    sl = sizeof(ss);
    T("getsockname(addr read-only)", syscall(SYS_getsockname, us, ro, &sl));
    T("getsockname(len unmapped)", syscall(SYS_getsockname, us, &ss, unm));
    sl = 4;
    T("getsockopt(val unmapped)",
      syscall(SYS_getsockopt, us, SOL_SOCKET, SO_TYPE, unm, &sl));
    T("setsockopt(val unmapped)",
      syscall(SYS_setsockopt, us, SOL_SOCKET, SO_KEEPALIVE, unm, 4));

    /* Memory. */
    T("mincore(vec unmapped)", syscall(SYS_mincore, two, pg, unm));
    T("mincore(vec read-only)", syscall(SYS_mincore, two, pg, ro));

    /* Still alive, and a good call still works. */
    T("pread64(good)", syscall(SYS_pread64, fd, good, 16, 0));
    printf("good=%.16s\n", good);
    unlink(tmpl);
    printf("done\n");
    return 0;
}
