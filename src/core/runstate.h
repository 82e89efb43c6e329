/* SPDX-License-Identifier: MIT */
/*
 * Machine run-state requests: devices and the CPU ask for a shutdown,
 * reset or panic stop; the main loop carries it out. Any thread.
 */
#ifndef SWEDE_CORE_RUNSTATE_H
#define SWEDE_CORE_RUNSTATE_H

#include <stdbool.h>

enum runstate_req {
    RUNSTATE_REQ_NONE = 0,
    RUNSTATE_REQ_SHUTDOWN, /* guest poweroff: exit with exit_code */
    RUNSTATE_REQ_RESET,    /* guest reboot */
    RUNSTATE_REQ_QUIT,     /* host asked to quit (Ctrl-A x, signal) */
};

/* Post a request; the first one posted wins until runstate_take(). */
void runstate_request(enum runstate_req req, int exit_code);
/* Cheap check for the vCPU loop. */
bool runstate_pending(void);
/* Main-loop thread: take the pending request. */
enum runstate_req runstate_take(int *exit_code);

/* The guest kernel panicked (core/panic_watch.h); cleared on reset. Any
 * thread. */
void runstate_set_guest_panicked(bool panicked);
bool runstate_guest_panicked(void);

#endif
