/* SPDX-License-Identifier: MIT */
/*
 * A streaming match of Linux's panic banner over console output (see
 * panic_watch.h for why). The banner's first letter does not occur again
 * in it, so on a mismatch the match restarts at the current byte.
 */
#include "core/panic_watch.h"

static const char banner[] = "Kernel panic - not syncing";

bool panic_watch_feed(struct panic_watch *w, const uint8_t *buf, size_t n)
{
    bool hit = false;

    for (size_t i = 0; i < n; i++) {
        if (buf[i] == (uint8_t)banner[w->matched]) {
            w->matched++;
        } else {
            w->matched = buf[i] == (uint8_t)banner[0] ? 1 : 0;
        }
        if (w->matched == sizeof(banner) - 1) {
            w->matched = 0;
            hit = true;
        }
    }
    return hit;
}
