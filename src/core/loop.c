/* SPDX-License-Identifier: MIT */
/*
 * The main loop: epoll over registered fds, one eventfd for wakeups from
 * other threads, and one timerfd programmed for the earliest armed timer
 * (nanosecond deadlines, unlike epoll_wait's millisecond timeout). Deferred
 * calls are a mutex-protected FIFO that any thread may append to; the loop
 * swaps it out and runs it without the lock. fd and timer registration is
 * main-loop-thread only, so those structures take no lock. This module does
 * not know what the fds are; signals are main.c's business.
 */
#include "core/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"

struct loop_fd {
    int fd;
    loop_fd_fn fn;
    void *opaque;
    bool dead; /* deleted while its event may still be in the batch */
    struct loop_fd *next_dead;
};

struct loop_timer {
    loop_call_fn fn;
    void *opaque;
    uint64_t deadline;
    /* Doubly linked so cancel can unlink from whichever list holds it:
     * the armed list or the batch being fired. */
    struct loop_timer *next;
    struct loop_timer **pprev; /* NULL when not on a list */
};

struct loop_call {
    loop_call_fn fn;
    void *opaque;
    struct loop_call *next;
};

static int loop_epfd = -1;
static int loop_evfd = -1;
static int loop_tfd = -1;
static uint64_t loop_tfd_armed; /* deadline programmed, 0 = disarmed */

static struct loop_fd **loop_fds; /* indexed by fd */
static int loop_nfds;
static struct loop_fd *loop_dead;

static struct loop_timer *loop_timers; /* armed, sorted by deadline */

static pthread_mutex_t loop_call_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loop_call *loop_calls, **loop_calls_tail = &loop_calls;

static bool loop_quit_flag;

/* Sentinel pointers for the loop's own fds in epoll data. */
static char loop_ev_tag, loop_timer_tag;

uint64_t loop_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int loop_init(struct error *err)
{
    if (loop_epfd >= 0) {
        return 0;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        return err_set(err, -errno, "main loop: epoll_create1: %s",
                       strerror(errno));
    }
    int ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ev < 0) {
        int e = errno;
        close(ep);
        return err_set(err, -e, "main loop: eventfd: %s", strerror(e));
    }
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0) {
        int e = errno;
        close(ev);
        close(ep);
        return err_set(err, -e, "main loop: timerfd_create: %s", strerror(e));
    }
    struct epoll_event e1 = { .events = EPOLLIN, .data.ptr = &loop_ev_tag };
    struct epoll_event e2 = { .events = EPOLLIN, .data.ptr = &loop_timer_tag };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e1) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &e2) < 0) {
        int e = errno;
        close(tfd);
        close(ev);
        close(ep);
        return err_set(err, -e, "main loop: epoll_ctl: %s", strerror(e));
    }
    loop_tfd = tfd;
    __atomic_store_n(&loop_evfd, ev, __ATOMIC_RELEASE);
    loop_epfd = ep;
    return 0;
}

int loop_add_fd(int fd, uint32_t events, loop_fd_fn fn, void *opaque)
{
    if (loop_epfd < 0) {
        return -EBADF;
    }
    if (fd < 0) {
        return -EBADF;
    }
    if (fd >= loop_nfds) {
        int n = loop_nfds ? loop_nfds : 64;
        while (n <= fd) {
            n *= 2;
        }
        struct loop_fd **t = realloc(loop_fds, (size_t)n * sizeof(*t));
        if (!t) {
            return -ENOMEM;
        }
        memset(t + loop_nfds, 0, (size_t)(n - loop_nfds) * sizeof(*t));
        loop_fds = t;
        loop_nfds = n;
    }
    if (loop_fds[fd]) {
        return -EEXIST;
    }
    struct loop_fd *lf = calloc(1, sizeof(*lf));
    if (!lf) {
        return -ENOMEM;
    }
    lf->fd = fd;
    lf->fn = fn;
    lf->opaque = opaque;
    struct epoll_event ev = { .events = events, .data.ptr = lf };
    if (epoll_ctl(loop_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        free(lf);
        return -e;
    }
    loop_fds[fd] = lf;
    return 0;
}

int loop_mod_fd(int fd, uint32_t events)
{
    if (fd < 0 || fd >= loop_nfds || !loop_fds[fd]) {
        return -ENOENT;
    }
    struct epoll_event ev = { .events = events, .data.ptr = loop_fds[fd] };
    if (epoll_ctl(loop_epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
        return -errno;
    }
    return 0;
}

void loop_del_fd(int fd)
{
    if (fd < 0 || fd >= loop_nfds || !loop_fds[fd]) {
        return;
    }
    struct loop_fd *lf = loop_fds[fd];
    loop_fds[fd] = NULL;
    epoll_ctl(loop_epfd, EPOLL_CTL_DEL, fd, NULL);
    /* An event for it may still sit in the current epoll batch: free it
     * after the batch instead of now. */
    lf->dead = true;
    lf->next_dead = loop_dead;
    loop_dead = lf;
}

static void loop_timer_unlink(struct loop_timer *t)
{
    if (!t->pprev) {
        return;
    }
    *t->pprev = t->next;
    if (t->next) {
        t->next->pprev = t->pprev;
    }
    t->next = NULL;
    t->pprev = NULL;
}

struct loop_timer *loop_timer_new(loop_call_fn fn, void *opaque)
{
    struct loop_timer *t = calloc(1, sizeof(*t));
    if (t) {
        t->fn = fn;
        t->opaque = opaque;
    }
    return t;
}

void loop_timer_arm(struct loop_timer *t, uint64_t deadline_ns)
{
    loop_timer_unlink(t);
    t->deadline = deadline_ns;
    /* After any timer with the same deadline: equal deadlines fire in the
     * order they were armed. */
    struct loop_timer **pp = &loop_timers;
    while (*pp && (*pp)->deadline <= deadline_ns) {
        pp = &(*pp)->next;
    }
    t->next = *pp;
    if (t->next) {
        t->next->pprev = &t->next;
    }
    t->pprev = pp;
    *pp = t;
}

void loop_timer_cancel(struct loop_timer *t)
{
    if (t) {
        loop_timer_unlink(t);
    }
}

void loop_timer_free(struct loop_timer *t)
{
    if (t) {
        loop_timer_unlink(t);
        free(t);
    }
}

/* Program the timerfd for the earliest armed timer, if it changed. */
static void loop_timer_program(void)
{
    uint64_t want = loop_timers ? loop_timers->deadline : 0;
    if (want == 0 && loop_timers) {
        want = 1; /* 0 would disarm: fire "now" instead */
    }
    if (want == loop_tfd_armed) {
        return;
    }
    struct itimerspec its = { 0 };
    its.it_value.tv_sec = (time_t)(want / 1000000000u);
    its.it_value.tv_nsec = (long)(want % 1000000000u);
    timerfd_settime(loop_tfd, TFD_TIMER_ABSTIME, &its, NULL);
    loop_tfd_armed = want;
}

static void loop_run_timers(void)
{
    uint64_t now = loop_now_ns();
    /* Move the expired ones to a batch first, so a callback that re-arms
     * its timer for "now" runs again next iteration rather than forever. */
    struct loop_timer *batch = NULL;
    struct loop_timer **tail = &batch;
    while (loop_timers && loop_timers->deadline <= now) {
        struct loop_timer *t = loop_timers;
        loop_timer_unlink(t);
        t->pprev = tail;
        *tail = t;
        tail = &t->next;
    }
    while (batch) {
        struct loop_timer *t = batch;
        loop_timer_unlink(t);
        t->fn(t->opaque);
    }
}

static void loop_run_calls(void)
{
    pthread_mutex_lock(&loop_call_lock);
    struct loop_call *c = loop_calls;
    loop_calls = NULL;
    loop_calls_tail = &loop_calls;
    pthread_mutex_unlock(&loop_call_lock);
    while (c) {
        struct loop_call *next = c->next;
        c->fn(c->opaque);
        free(c);
        c = next;
    }
}

void loop_call(loop_call_fn fn, void *opaque)
{
    struct loop_call *c = malloc(sizeof(*c));
    if (!c) {
        abort(); /* like any allocation failure in a void-returning path */
    }
    c->fn = fn;
    c->opaque = opaque;
    c->next = NULL;
    pthread_mutex_lock(&loop_call_lock);
    *loop_calls_tail = c;
    loop_calls_tail = &c->next;
    pthread_mutex_unlock(&loop_call_lock);
    loop_wakeup();
}

void loop_call_cancel(loop_call_fn fn, void *opaque)
{
    pthread_mutex_lock(&loop_call_lock);
    struct loop_call **pp = &loop_calls;
    while (*pp) {
        struct loop_call *c = *pp;
        if (c->fn == fn && c->opaque == opaque) {
            *pp = c->next;
            free(c);
        } else {
            pp = &c->next;
        }
    }
    loop_calls_tail = pp;
    pthread_mutex_unlock(&loop_call_lock);
}

void loop_wakeup(void)
{
    int fd = __atomic_load_n(&loop_evfd, __ATOMIC_ACQUIRE);
    if (fd >= 0) {
        uint64_t one = 1;
        /* EAGAIN means the counter is already non-zero: still woken. */
        ssize_t r = write(fd, &one, sizeof(one));
        (void)r;
    }
}

void loop_quit(void)
{
    __atomic_store_n(&loop_quit_flag, true, __ATOMIC_RELEASE);
    loop_wakeup();
}

void loop_run(void)
{
    struct epoll_event evs[64];
    while (!__atomic_load_n(&loop_quit_flag, __ATOMIC_ACQUIRE)) {
        loop_run_calls();
        if (__atomic_load_n(&loop_quit_flag, __ATOMIC_ACQUIRE)) {
            break;
        }
        loop_timer_program();
        int n = epoll_wait(loop_epfd, evs, 64, -1);
        if (n < 0) {
            continue; /* EINTR: a signal handler may have asked to quit */
        }
        bool timers = false;
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &loop_ev_tag) {
                uint64_t v;
                ssize_t r = read(loop_evfd, &v, sizeof(v));
                (void)r;
            } else if (p == &loop_timer_tag) {
                uint64_t v;
                ssize_t r = read(loop_tfd, &v, sizeof(v));
                (void)r;
                loop_tfd_armed = 0;
                timers = true;
            } else {
                struct loop_fd *lf = p;
                if (!lf->dead) {
                    lf->fn(lf->opaque, evs[i].events);
                }
            }
        }
        if (timers) {
            loop_run_timers();
        }
        while (loop_dead) {
            struct loop_fd *lf = loop_dead;
            loop_dead = lf->next_dead;
            free(lf);
        }
    }
    /* Leave the flag clear so the loop can be run again (tests, reset). */
    __atomic_store_n(&loop_quit_flag, false, __ATOMIC_RELEASE);
}
