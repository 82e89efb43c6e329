/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for swede-riscv64's signal-safe system call
 * (src/user/safe_syscall.h): results and errors come back as the kernel
 * gives them; a set flag returns -USER_ERESTART without entering the
 * kernel (a read that would block forever returns at once); a handler
 * stopping the thread between the flag test and the kernel entry moves it
 * to the early return, and anywhere else leaves it alone; and a storm of
 * real signals against reads that would block never leaves one blocked.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "harness.h"
#include "user/safe_syscall.h"

static int fds[2];

static long rd(volatile int *flag, void *buf)
{
    return user_safe_syscall(flag, SYS_read, fds[0], (long)(uintptr_t)buf, 1, 0,
                             0, 0);
}

TEST(results_and_errors)
{
    volatile int flag = 0;
    char c = 0;
    CHECK_EQ(write(fds[1], "z", 1), 1);
    CHECK_EQ(rd(&flag, &c), 1);
    CHECK_EQ(c, 'z');
    CHECK_EQ(
        user_safe_syscall(&flag, SYS_read, -1, (long)(uintptr_t)&c, 1, 0, 0, 0),
        -EBADF);
    CHECK_EQ(user_safe_syscall(&flag, SYS_getpid, 0, 0, 0, 0, 0, 0),
             (long)getpid());
    /* Six arguments reach the kernel: pselect6 with a zero timeout. */
    struct timespec zero = { 0, 0 };
    CHECK_EQ(user_safe_syscall(&flag, SYS_pselect6, 0, 0, 0, 0,
                               (long)(uintptr_t)&zero, 0),
             0);
}

TEST(flag_set_does_not_enter)
{
    volatile int flag = 1;
    char c;
    /* The pipe is empty: entering the kernel would block for ever. */
    CHECK_EQ(rd(&flag, &c), -USER_ERESTART);
}

#ifdef USER_SAFE_SYSCALL_ASM
TEST(pc_in_window_moves_to_bail)
{
    ucontext_t uc;
    memset(&uc, 0, sizeof(uc));
    greg_t start = (greg_t)(uintptr_t)user_safe_syscall_start;
    greg_t end = (greg_t)(uintptr_t)user_safe_syscall_end;
    greg_t bail = (greg_t)(uintptr_t)user_safe_syscall_bail;
    CHECK(start < end);
    for (greg_t ip = start; ip < end; ip++) {
        uc.uc_mcontext.gregs[REG_RIP] = ip;
        user_safe_syscall_interrupted(&uc);
        CHECK_EQ(uc.uc_mcontext.gregs[REG_RIP], bail);
    }
    /* After the syscall instruction (the kernel was entered: it returns
     * -EINTR itself) and before the window: untouched. */
    const greg_t outside[] = { end, end + 1, start - 1,
                               (greg_t)(uintptr_t)&user_safe_syscall };
    for (unsigned i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        uc.uc_mcontext.gregs[REG_RIP] = outside[i];
        user_safe_syscall_interrupted(&uc);
        CHECK_EQ(uc.uc_mcontext.gregs[REG_RIP], outside[i]);
    }
}
#endif

static volatile int storm_flag;
static volatile sig_atomic_t storm_signals;

static void on_storm(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    storm_flag = 1;
    storm_signals++;
    user_safe_syscall_interrupted(uc);
}

struct storm {
    pthread_t target;
    volatile int stop;
};

static void *storm_thread(void *opaque)
{
    struct storm *s = opaque;
    unsigned x = 12345;
    while (!s->stop) {
        x = x * 1103515245u + 12345u;
        struct timespec ts = { 0, (long)(x >> 16) % 20000 };
        nanosleep(&ts, NULL);
        pthread_kill(s->target, SIGUSR1);
    }
    return NULL;
}

/* Real signals from another thread at random moments against reads that
 * would block for ever: each call ends with EINTR from the kernel or the
 * early return, with the registers and stack intact (the loop goes on),
 * whichever instruction the signal lands on. */
TEST(signal_storm_never_blocks)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_storm;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: the read ends with EINTR */
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    struct storm s = { .target = pthread_self() };
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, storm_thread, &s), 0);
    unsigned eintr = 0, early = 0;
    for (int i = 0; i < 3000; i++) {
        char c;
        storm_flag = 0;
        long r = rd(&storm_flag, &c);
        if (r == -EINTR) {
            eintr++;
        } else if (r == -USER_ERESTART) {
            early++;
        } else {
            CHECK(!"unexpected result");
        }
    }
    s.stop = 1;
    pthread_join(th, NULL);
    signal(SIGUSR1, SIG_IGN);
    printf("  %u interrupted in the kernel, %u before it, %d signals\n", eintr,
           early, (int)storm_signals);
    CHECK_EQ(eintr + early, 3000);
    CHECK(storm_signals >= 3000);
}

int main(void)
{
    if (pipe(fds) < 0) {
        return 1;
    }
    RUN(results_and_errors);
    RUN(flag_set_does_not_enter);
#ifdef USER_SAFE_SYSCALL_ASM
    RUN(pc_in_window_moves_to_bail);
#endif
    RUN(signal_storm_never_blocks);
    HARNESS_END();
}
