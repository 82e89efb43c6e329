/* SPDX-License-Identifier: MIT */
/*
 * Notices a guest kernel panic on its console. Debian's riscv64 kernel has
 * no pvpanic driver and reboots after a panic through the same SBI/syscon
 * path as an ordinary reboot, so the console's panic banner is the only
 * sign the host gets. The watch looks for Linux's "Kernel panic - not
 * syncing" in the bytes a console chardev carries and records it in the
 * run state; with -no-reboot the following reset then ends swede with a
 * non-zero status (docs/usage.md, "Exit status").
 */
#ifndef SWEDE_CORE_PANIC_WATCH_H
#define SWEDE_CORE_PANIC_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct panic_watch {
    size_t matched; /* bytes of the banner matched so far */
};

/* Feed console output; returns true when the banner has just completed. */
bool panic_watch_feed(struct panic_watch *w, const uint8_t *buf, size_t n);

#endif
