/* SPDX-License-Identifier: MIT */
/*
 * Guest threads and processes in linux-user mode. Every guest thread is a
 * host thread with its own user-mode CPU (cpu/riscv "User mode": one hart
 * and its own decoded-block cache), so guest threads run in parallel and
 * futexes, tids and tgkill are the host's. clone with CLONE_VM|
 * CLONE_THREAD makes a pthread; clone without CLONE_VM (fork, and vfork,
 * which is run as a fork as QEMU does) is a host fork. The loop here runs
 * the hart and turns its traps into system calls and signals.
 */
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "user/user.h"

/* Instructions between looks at signals and mapping changes. */
#define USER_SLICE 200000

__thread struct uthread *ut_self;

static const struct rv_user_hooks hooks = { .page_ok = mem_page_ok };

struct uthread *thread_new(void)
{
    struct rv_cpu_config cfg = { .nharts = 1, .user = &hooks };
    struct error err = { 0 };
    struct uthread *t = calloc(1, sizeof(*t));

    if (!t) {
        return NULL;
    }
    t->cpu = rv_cpu_new(&cfg, &err);
    if (!t->cpu) {
        free(t);
        return NULL;
    }
    t->hart = rv_cpu_hart(t->cpu, 0);
    rv_user_regs(t->hart, &t->r);
    t->map_gen = atomic_load(&user_map_gen);
    return t;
}

_Noreturn void thread_loop(struct uthread *t)
{
    int sig;
    uint64_t tval;

    ut_self = t;
    sig = sigsetjmp(t->fault_jmp, 1);
    if (sig) {
        rv_user_flush(t->cpu);
        sig_fault(t, -sig, (uint64_t)(uintptr_t)t->info[sig].si_addr);
    }
    for (;;) {
        unsigned g = atomic_load_explicit(&user_map_gen, memory_order_acquire);
        int cause;
        if (g != t->map_gen) {
            t->map_gen = g;
            rv_user_flush(t->cpu);
        }
        sig_deliver_pending(t);
        t->in_guest = true;
        cause = rv_user_run(t->hart, USER_SLICE, &tval);
        t->in_guest = false;
        if (cause == 8) {
            syscall_do(t);
        } else if (cause >= 0) {
            sig_fault(t, cause, tval);
        }
    }
}

_Noreturn void thread_exit(struct uthread *t, int code)
{
    if (atomic_fetch_sub(&uproc.nthreads, 1) == 1) {
        log_flush_user();
        _exit(code);
    }
    if (t->clear_child_tid && user_access_ok(t->clear_child_tid, 4, true)) {
        __atomic_store_n((uint32_t *)(uintptr_t)t->clear_child_tid, 0,
                         __ATOMIC_SEQ_CST);
        syscall(SYS_futex, (void *)(uintptr_t)t->clear_child_tid, FUTEX_WAKE, 1,
                NULL, NULL, 0);
    }
    ut_self = NULL;
    rv_cpu_free(t->cpu);
    free(t);
    pthread_exit(NULL);
}

struct clone_start {
    struct uthread *child;
    uint64_t flags, ptid, ctid;
    sem_t done;
};

static void *thread_start(void *arg)
{
    struct clone_start *cs = arg;
    struct uthread *t = cs->child;

    ut_self = t;
    t->tid = (pid_t)gettid();
    /* Linux ignores faults on the tid pointers; so does swede, without
     * writing outside the guest's pages. */
    if ((cs->flags & CLONE_CHILD_SETTID) && user_access_ok(cs->ctid, 4, true)) {
        *(uint32_t *)(uintptr_t)cs->ctid = (uint32_t)t->tid;
    }
    if ((cs->flags & CLONE_PARENT_SETTID) &&
        user_access_ok(cs->ptid, 4, true)) {
        *(uint32_t *)(uintptr_t)cs->ptid = (uint32_t)t->tid;
    }
    if (cs->flags & CLONE_CHILD_CLEARTID) {
        t->clear_child_tid = cs->ctid;
    }
    sem_post(&cs->done);
    sig_set_host_mask(t->sigmask);
    thread_loop(t);
}

int64_t thread_clone(struct uthread *t, uint64_t flags, uint64_t newsp,
                     uint64_t ptid, uint64_t tls, uint64_t ctid)
{
    if (flags & CLONE_VM && !(flags & CLONE_VFORK)) {
        struct clone_start cs = { .flags = flags, .ptid = ptid, .ctid = ctid };
        struct uthread *c;
        pthread_attr_t attr;
        pthread_t th;
        sigset_t all, old;
        int r;

        if ((flags & (CLONE_THREAD | CLONE_SIGHAND)) !=
            (CLONE_THREAD | CLONE_SIGHAND)) {
            return -EINVAL;
        }
        c = thread_new();
        if (!c) {
            return -ENOMEM;
        }
        memcpy(c->r.x, t->r.x, 32 * 8);
        memcpy(c->r.f, t->r.f, 32 * 8);
        rv_user_set_fcsr(c->hart, rv_user_fcsr(t->hart));
        *c->r.pc = *t->r.pc;
        c->r.x[10] = 0;
        if (newsp) {
            c->r.x[2] = newsp;
        }
        if (flags & CLONE_SETTLS) {
            c->r.x[4] = tls;
        }
        c->sigmask = t->sigmask;
        c->ss_sp = c->ss_size = 0;
        cs.child = c;
        sem_init(&cs.done, 0, 0);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 1 << 20);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        atomic_fetch_add(&uproc.nthreads, 1);
        r = pthread_create(&th, &attr, thread_start, &cs);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r) {
            atomic_fetch_sub(&uproc.nthreads, 1);
            rv_cpu_free(c->cpu);
            free(c);
            return -r;
        }
        while (sem_wait(&cs.done) < 0) {
        }
        sem_destroy(&cs.done);
        return c->tid;
    }
    /* fork, or vfork run as a fork. */
    {
        pid_t pid = fork();
        if (pid < 0) {
            return -errno;
        }
        if (pid == 0) {
            t->tid = (pid_t)gettid();
            atomic_store(&uproc.nthreads, 1);
            t->r.x[10] = 0;
            if (newsp) {
                t->r.x[2] = newsp;
            }
            if (flags & CLONE_SETTLS) {
                t->r.x[4] = tls;
            }
            if ((flags & CLONE_CHILD_SETTID) && user_access_ok(ctid, 4, true)) {
                *(uint32_t *)(uintptr_t)ctid = (uint32_t)t->tid;
            }
            if (flags & CLONE_CHILD_CLEARTID) {
                t->clear_child_tid = ctid;
            }
            return 0;
        }
        if ((flags & CLONE_PARENT_SETTID) && user_access_ok(ptid, 4, true)) {
            *(uint32_t *)(uintptr_t)ptid = (uint32_t)pid;
        }
        return pid;
    }
}
