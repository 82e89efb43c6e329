/* SPDX-License-Identifier: MIT */
/* swede-riscv64 test: signal handlers, masks, sigsuspend, alarm, SA_SIGINFO,
 * a signal arriving during a blocking read (blocked: the read goes on; a
 * handler without SA_RESTART: EINTR; with it: the read is restarted), a
 * SIGSEGV caught with siglongjmp, SIGILL, and dying from a signal. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static sigjmp_buf jb;
static void *fault_addr;

static void on_usr1(int sig)
{
    got += sig;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got = sig * 100 + (si->si_code == SI_USER || si->si_code == SI_TKILL);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    (void)sig;
    fault_addr = si->si_addr;
    siglongjmp(jb, 1);
}

/* SIGALRM after 1 s while read() waits for a byte a child writes after
 * 2 s. */
static void read_during_alarm(const char *what)
{
    int p[2];
    char c = '-';

    if (pipe(p) < 0) {
        printf("%s: pipe failed\n", what);
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        sleep(2);
        _exit(write(p[1], "x", 1) == 1 ? 0 : 1);
    }
    alarm(1);
    errno = 0;
    ssize_t n = read(p[0], &c, 1);
    printf("%s read=%zd c=%c err=%s got=%d\n", what, n, n == 1 ? c : '-',
           n < 0 ? strerror(errno) : "none", got);
    waitpid(child, NULL, 0);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    struct sigaction sa;
    sigset_t set, old;

    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    printf("usr1 got=%d\n", got);

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    kill(getpid(), SIGUSR2);
    printf("usr2 got=%d\n", got);

    got = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    printf("blocked got=%d\n", got);
    sigpending(&set);
    printf("pending=%d\n", sigismember(&set, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked got=%d\n", got);

    got = 0;
    signal(SIGALRM, on_usr1);
    alarm(1);
    sigemptyset(&set);
    sigsuspend(&set);
    printf("alarm got=%d\n", got);

    fflush(stdout);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigaction(SIGALRM, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, &old);
    got = 0;
    read_during_alarm("blocked");
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("after unblock got=%d\n", got);
    got = 0;
    read_during_alarm("no-restart");
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    got = 0;
    read_during_alarm("restart");

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (!sigsetjmp(jb, 1)) {
        *(volatile int *)16 = 1;
    }
    printf("segv addr=%p\n", fault_addr);
    sigaction(SIGILL, &sa, NULL);
    if (!sigsetjmp(jb, 1)) {
        __asm__ volatile(".word 0");
    }
    printf("sigill caught\n");
    fflush(stdout);
    signal(SIGSEGV, SIG_DFL);
    *(volatile int *)8 = 1;
    printf("not reached\n");
    return 0;
}
