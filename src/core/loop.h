/* SPDX-License-Identifier: MIT */
/*
 * The main loop: one thread waits on epoll for file descriptors (chardevs,
 * sockets, the monitor), timers and deferred calls. Callbacks run on the
 * main-loop thread. Other threads (the vCPU thread) hand work to it with
 * loop_call() and wake it with loop_wakeup().
 */
#ifndef SWEDE_CORE_LOOP_H
#define SWEDE_CORE_LOOP_H

#include <stdint.h>

struct error;

typedef void (*loop_fd_fn)(void *opaque, uint32_t events);
typedef void (*loop_call_fn)(void *opaque);
struct loop_timer;

int loop_init(struct error *err);

/* Main-loop thread only. events are EPOLLIN/EPOLLOUT/... */
int loop_add_fd(int fd, uint32_t events, loop_fd_fn fn, void *opaque);
int loop_mod_fd(int fd, uint32_t events);
void loop_del_fd(int fd);

/* Timers on CLOCK_MONOTONIC, main-loop thread only. */
struct loop_timer *loop_timer_new(loop_call_fn fn, void *opaque);
void loop_timer_arm(struct loop_timer *t, uint64_t deadline_ns);
void loop_timer_cancel(struct loop_timer *t);
void loop_timer_free(struct loop_timer *t);
uint64_t loop_now_ns(void);

/* Any thread: run fn(opaque) on the main-loop thread soon. */
void loop_call(loop_call_fn fn, void *opaque);
/* Drop queued loop_call(fn, opaque)s that have not started yet (before
 * freeing opaque). */
void loop_call_cancel(loop_call_fn fn, void *opaque);
/* Any thread: make loop_run() check loop_quit and deferred calls. */
void loop_wakeup(void);

/* Run until loop_quit() is called (from any thread). */
void loop_run(void);
void loop_quit(void);

#endif
