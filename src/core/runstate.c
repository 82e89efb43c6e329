/* SPDX-License-Identifier: MIT */
/*
 * Run-state requests: one atomic slot holding the pending request and its
 * exit code. Posting is a compare-and-swap from NONE, so the first request
 * wins until the main loop takes it; it does not wake the main loop (the
 * caller does that, e.g. with loop_wakeup()) and does not act on it.
 */
#include "core/runstate.h"

#include <stdint.h>

/* Request in the low 32 bits, exit code in the high 32: one atomic word so
 * a reader never sees a request paired with another request's code. */
static uint64_t runstate_slot;

void runstate_request(enum runstate_req req, int exit_code)
{
    if (req == RUNSTATE_REQ_NONE) {
        return;
    }
    uint64_t want = (uint64_t)(uint32_t)req | (uint64_t)(uint32_t)exit_code
                                                  << 32;
    uint64_t expected = 0;
    __atomic_compare_exchange_n(&runstate_slot, &expected, want, false,
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

bool runstate_pending(void)
{
    return __atomic_load_n(&runstate_slot, __ATOMIC_RELAXED) != 0;
}

enum runstate_req runstate_take(int *exit_code)
{
    uint64_t v = __atomic_exchange_n(&runstate_slot, 0, __ATOMIC_ACQ_REL);
    if (exit_code) {
        *exit_code = (int)(uint32_t)(v >> 32);
    }
    return (enum runstate_req)(uint32_t)v;
}

static bool runstate_panicked;

void runstate_set_guest_panicked(bool panicked)
{
    __atomic_store_n(&runstate_panicked, panicked, __ATOMIC_RELAXED);
}

bool runstate_guest_panicked(void)
{
    return __atomic_load_n(&runstate_panicked, __ATOMIC_RELAXED);
}
