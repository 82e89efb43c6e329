/* SPDX-License-Identifier: MIT */
/*
 * Signals in linux-user mode (docs/user.md "Signals"). Signal numbers,
 * siginfo and the default actions are the same on riscv64 and x86_64, so
 * the host kernel does most of the work: the guest's blocked mask is each
 * host thread's mask, SIG_DFL and SIG_IGN are installed on the host as
 * they are, and only signals with a guest handler are caught; the host
 * handler records them and kicks the thread's CPU, which delivers them
 * between instructions by building the riscv64 rt_sigframe (siginfo,
 * ucontext with the sigcontext of arch/riscv/kernel/signal.c) on the guest
 * stack and returning through a trampoline to rt_sigreturn. Guest faults
 * (page faults, illegal instructions, EBREAK) become SIGSEGV, SIGILL and
 * SIGTRAP. A signal the guest takes also stops a blocking system call
 * from starting (safe_syscall.h). Not done: restart_syscall.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "user/user.h"

struct target_sigaction {
    uint64_t handler, flags, mask;
};

#define T_SA_ONSTACK   0x08000000u
#define T_SA_RESTART   0x10000000u
#define T_SA_NODEFER   0x40000000u
#define T_SA_RESETHAND 0x80000000u
#define T_SA_SIGINFO   4u

/* rt_sigframe layout (arch/riscv/include/uapi/asm/ucontext.h). */
#define FRAME_INFO  0
#define FRAME_UC    128
#define UC_STACK    16
#define UC_SIGMASK  40
#define UC_MCONTEXT 176
#define MC_REGS     0
#define MC_FPREGS   256
#define MC_FCSR     (256 + 256)
#define FRAME_SIZE  (128 + 176 + 256 + 528)

static struct target_sigaction acts[TARGET_NSIG + 1];

static bool sync_sig(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
           sig == SIGTRAP;
}

static void host_handler(int sig, siginfo_t *si, void *uc)
{
    struct uthread *t = ut_self;

    if (!t) {
        return;
    }
    if (sync_sig(sig) && si->si_code > 0 && si->si_code != SI_KERNEL) {
        if (t->in_guest) {
            /* A stale TLB entry hit a page that just went away. */
            t->in_guest = false;
            t->info[sig] = *si;
            siglongjmp(t->fault_jmp, sig);
        }
        /* swede itself faulted: die the ordinary way. */
        signal(sig, SIG_DFL);
        return;
    }
    t->info[sig] = *si;
    atomic_fetch_or(&t->pending, 1ull << (sig - 1));
    if (!((t->sigmask >> (sig - 1)) & 1)) {
        /* The guest takes it: a blocking call about to start must not. */
        t->sig_flag = 1;
        user_safe_syscall_interrupted(uc);
    }
    rv_user_kick(t->cpu);
}

static void host_install(int sig)
{
    struct sigaction sa;
    uint64_t h = acts[sig].handler;

    if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33) {
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sigfillset(&sa.sa_mask);
    if ((h == (uint64_t)(uintptr_t)SIG_DFL ||
         h == (uint64_t)(uintptr_t)SIG_IGN) &&
        !sync_sig(sig)) {
        sa.sa_handler = h ? SIG_IGN : SIG_DFL;
    } else {
        sa.sa_sigaction = host_handler;
        sa.sa_flags = SA_SIGINFO;
    }
    sigaction(sig, &sa, NULL);
}

void sig_init(void)
{
    struct sigaction old;

    for (int sig = 1; sig <= TARGET_NSIG; sig++) {
        /* Inherit ignored signals across execve, as Linux does. */
        if (sig != SIGKILL && sig != SIGSTOP && sig != 32 && sig != 33 &&
            sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN) {
            acts[sig].handler = (uint64_t)(uintptr_t)SIG_IGN;
        }
        host_install(sig);
    }
}

bool sig_restarts(int sig)
{
    return (acts[sig].flags & T_SA_RESTART) != 0;
}

int64_t sig_action(int sig, uint64_t act, uint64_t oact)
{
    if (sig < 1 || sig > TARGET_NSIG) {
        return -EINVAL;
    }
    if (act && (sig == SIGKILL || sig == SIGSTOP)) {
        return -EINVAL;
    }
    /* As Linux: a bad act fails before anything changes, a bad oact after
     * the new action is in place. */
    struct target_sigaction old = acts[sig];
    if (act && !user_access_ok(act, sizeof(acts[sig]), false)) {
        return -EFAULT;
    }
    if (act) {
        memcpy(&acts[sig], (void *)(uintptr_t)act, sizeof(acts[sig]));
        host_install(sig);
    }
    if (oact) {
        if (!user_access_ok(oact, sizeof(old), true)) {
            return -EFAULT;
        }
        memcpy((void *)(uintptr_t)oact, &old, sizeof(old));
    }
    return 0;
}

void sig_set_host_mask(uint64_t mask)
{
    sigset_t s;

    sigemptyset(&s);
    for (int sig = 1; sig <= TARGET_NSIG; sig++) {
        if ((mask >> (sig - 1)) & 1 && !sync_sig(sig)) {
            sigaddset(&s, sig);
        }
    }
    pthread_sigmask(SIG_SETMASK, &s, NULL);
}

static uint64_t clean_mask(uint64_t m)
{
    return m & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
}

int64_t sig_procmask(int how, uint64_t set, uint64_t oset)
{
    struct uthread *t = ut_self;
    uint64_t old = t->sigmask, n = old;

    if (set && !user_access_ok(set, 8, false)) {
        return -EFAULT;
    }
    if (oset && !user_access_ok(oset, 8, true)) {
        return -EFAULT;
    }
    if (set) {
        uint64_t s = *(uint64_t *)(uintptr_t)set;
        switch (how) {
        case SIG_BLOCK:
            n = old | s;
            break;
        case SIG_UNBLOCK:
            n = old & ~s;
            break;
        case SIG_SETMASK:
            n = s;
            break;
        default:
            return -EINVAL;
        }
    }
    if (oset) {
        *(uint64_t *)(uintptr_t)oset = old;
    }
    t->sigmask = clean_mask(n);
    sig_set_host_mask(t->sigmask);
    return 0;
}

int64_t sig_altstack(struct uthread *t, uint64_t ss, uint64_t oss)
{
    uint64_t sp = t->r.x[2];
    bool on = t->ss_size && sp > t->ss_sp && sp <= t->ss_sp + t->ss_size;

    if ((ss && !user_access_ok(ss, 24, false)) ||
        (oss && !user_access_ok(oss, 24, true))) {
        return -EFAULT;
    }
    if (oss) {
        uint64_t *o = (uint64_t *)(uintptr_t)oss;
        o[0] = t->ss_sp;
        o[1] = t->ss_size ? (on ? SS_ONSTACK : 0) : SS_DISABLE;
        o[2] = t->ss_size;
    }
    if (ss) {
        const uint64_t *n = (const uint64_t *)(uintptr_t)ss;
        uint32_t fl = (uint32_t)n[1];
        if (on) {
            return -EPERM;
        }
        if (fl & SS_DISABLE) {
            t->ss_sp = t->ss_size = 0;
        } else if (fl & ~(uint32_t)(1u << 31) /* SS_AUTODISARM */) {
            return -EINVAL;
        } else {
            if (n[2] < 2048) {
                return -ENOMEM;
            }
            t->ss_sp = n[0];
            t->ss_size = n[2];
        }
    }
    return 0;
}

_Noreturn void sig_die(int sig)
{
    struct sigaction sa;
    sigset_t s;
    bool core = sync_sig(sig) || sig == SIGQUIT || sig == SIGABRT ||
                sig == SIGSYS || sig == SIGXCPU || sig == SIGXFSZ;

    if (core) {
        struct rlimit rl = { 0, 0 };
        setrlimit(RLIMIT_CORE, &rl);
        fprintf(stderr,
                "swede-riscv64: uncaught target signal %d (%s) - core "
                "dumped\n",
                sig, strsignal(sig));
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    sigemptyset(&s);
    sigaddset(&s, sig);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    kill(getpid(), sig);
    raise(sig);
    _exit(128 + sig);
}

/* Build the frame and enter the handler; saved is the mask sigreturn
 * restores. */
static void setup_frame(struct uthread *t, int sig, const siginfo_t *si,
                        uint64_t saved)
{
    const struct target_sigaction *a = &acts[sig];
    uint64_t *x = t->r.x;
    uint64_t sp = x[2];
    bool on = t->ss_size && sp > t->ss_sp && sp <= t->ss_sp + t->ss_size;
    uint8_t *f;

    if ((a->flags & T_SA_ONSTACK) && t->ss_size && !on) {
        sp = t->ss_sp + t->ss_size;
    }
    sp = (sp - FRAME_SIZE) & ~15ull;
    if (!mem_range_ok(sp, FRAME_SIZE, PAGE_W)) {
        sig_die(SIGSEGV);
    }
    f = (uint8_t *)(uintptr_t)sp;
    memset(f, 0, FRAME_SIZE);
    memcpy(f + FRAME_INFO, si, sizeof(*si));
    {
        uint64_t *st = (uint64_t *)(f + FRAME_UC + UC_STACK);
        st[0] = t->ss_sp;
        st[1] = t->ss_size ? (on ? SS_ONSTACK : 0) : SS_DISABLE;
        st[2] = t->ss_size;
    }
    memcpy(f + FRAME_UC + UC_SIGMASK, &saved, 8);
    {
        uint64_t *regs = (uint64_t *)(f + FRAME_UC + UC_MCONTEXT + MC_REGS);
        regs[0] = *t->r.pc;
        for (int i = 1; i < 32; i++) {
            regs[i] = x[i];
        }
        memcpy(f + FRAME_UC + UC_MCONTEXT + MC_FPREGS, t->r.f, 256);
        uint32_t fcsr = rv_user_fcsr(t->hart);
        memcpy(f + FRAME_UC + UC_MCONTEXT + MC_FCSR, &fcsr, 4);
    }
    x[10] = (uint64_t)sig;
    x[11] = sp + FRAME_INFO;
    x[12] = sp + FRAME_UC;
    x[2] = sp;
    x[1] = uproc.sigtramp;
    *t->r.pc = a->handler;
    t->sigmask |= a->mask;
    if (!(a->flags & T_SA_NODEFER)) {
        t->sigmask |= 1ull << (sig - 1);
    }
    t->sigmask = clean_mask(t->sigmask);
    sig_set_host_mask(t->sigmask);
    if (a->flags & T_SA_RESETHAND) {
        acts[sig].handler = 0;
        acts[sig].flags &= ~T_SA_SIGINFO;
        host_install(sig);
    }
}

int64_t sig_return(struct uthread *t)
{
    uint64_t sp = t->r.x[2];
    const uint8_t *f = (const uint8_t *)(uintptr_t)sp;
    const uint64_t *regs;
    uint32_t fcsr;
    uint64_t mask;

    if (!mem_range_ok(sp, FRAME_SIZE, PAGE_R)) {
        sig_die(SIGSEGV);
    }
    regs = (const uint64_t *)(f + FRAME_UC + UC_MCONTEXT + MC_REGS);
    *t->r.pc = regs[0];
    for (int i = 1; i < 32; i++) {
        t->r.x[i] = regs[i];
    }
    memcpy(t->r.f, f + FRAME_UC + UC_MCONTEXT + MC_FPREGS, 256);
    memcpy(&fcsr, f + FRAME_UC + UC_MCONTEXT + MC_FCSR, 4);
    rv_user_set_fcsr(t->hart, fcsr);
    memcpy(&mask, f + FRAME_UC + UC_SIGMASK, 8);
    t->sigmask = clean_mask(mask);
    sig_set_host_mask(t->sigmask);
    return (int64_t)t->r.x[10];
}

/* Deliver sig now; returns true when a guest handler was entered. */
static bool deliver(struct uthread *t, int sig, const siginfo_t *si,
                    uint64_t saved, bool forced)
{
    uint64_t h = acts[sig].handler;

    if (forced && (h == 1 || ((t->sigmask >> (sig - 1)) & 1))) {
        h = 0;
    }
    if (h == 1) {
        return false;
    }
    if (h == 0) {
        switch (sig) {
        case SIGCHLD:
        case SIGURG:
        case SIGWINCH:
        case SIGCONT:
            return false;
        case SIGTSTP:
        case SIGTTIN:
        case SIGTTOU:
            kill(getpid(), SIGSTOP);
            return false;
        default:
            sig_die(sig);
        }
    }
    setup_frame(t, sig, si, saved);
    return true;
}

int sig_next_pending(struct uthread *t)
{
    uint64_t p = atomic_load(&t->pending) & ~t->sigmask;
    return p ? __builtin_ctzll(p) + 1 : 0;
}

void sig_deliver_pending(struct uthread *t)
{
    int sig;

    while ((sig = sig_next_pending(t)) != 0) {
        atomic_fetch_and(&t->pending, ~(1ull << (sig - 1)));
        deliver(t, sig, &t->info[sig], t->sigmask, false);
    }
}

int64_t sig_suspend(struct uthread *t, uint64_t mask)
{
    uint64_t old = t->sigmask;
    sigset_t s;
    int sig;

    t->sigmask = clean_mask(mask);
    sigemptyset(&s);
    for (int i = 1; i <= TARGET_NSIG; i++) {
        if ((t->sigmask >> (i - 1)) & 1 && !sync_sig(i)) {
            sigaddset(&s, i);
        }
    }
    while (!sig_next_pending(t)) {
        sigsuspend(&s);
    }
    sig = sig_next_pending(t);
    atomic_fetch_and(&t->pending, ~(1ull << (sig - 1)));
    t->r.x[10] = (uint64_t)(int64_t)-EINTR;
    if (!deliver(t, sig, &t->info[sig], old, false)) {
        t->sigmask = old;
        sig_set_host_mask(old);
    }
    return -EINTR;
}

void sig_fault(struct uthread *t, int cause, uint64_t tval)
{
    siginfo_t si;
    int sig;

    memset(&si, 0, sizeof(si));
    switch (cause) {
    case 12:
    case 13:
    case 15:
    case 1:
    case 5:
    case 7:
        sig = SIGSEGV;
        si.si_code = (mem_flags(tval) & PAGE_VALID) ? SEGV_ACCERR : SEGV_MAPERR;
        si.si_addr = (void *)(uintptr_t)tval;
        break;
    case 0:
    case 4:
    case 6:
        sig = SIGBUS;
        si.si_code = BUS_ADRALN;
        si.si_addr = (void *)(uintptr_t)tval;
        break;
    case 3:
        sig = SIGTRAP;
        si.si_code = TRAP_BRKPT;
        si.si_addr = (void *)(uintptr_t)*t->r.pc;
        break;
    case -SIGSEGV:
    case -SIGBUS:
        sig = -cause;
        si = t->info[sig];
        break;
    default:
        sig = SIGILL;
        si.si_code = ILL_ILLOPC;
        si.si_addr = (void *)(uintptr_t)*t->r.pc;
        break;
    }
    si.si_signo = sig;
    if (log_enabled(LOG_INT) || uproc.opt.strace) {
        strace_log("--- guest fault cause %d at pc 0x%llx tval 0x%llx: "
                   "signal %d ---",
                   cause, (unsigned long long)*t->r.pc,
                   (unsigned long long)tval, sig);
    }
    deliver(t, sig, &si, t->sigmask, true);
}
