/* SPDX-License-Identifier: MIT */
/* Unit tests for the console panic watch (core/panic_watch.c). */
#include <string.h>

#include "core/panic_watch.h"
#include "harness.h"

static bool feed_str(struct panic_watch *w, const char *s)
{
    return panic_watch_feed(w, (const uint8_t *)s, strlen(s));
}

TEST(whole_banner)
{
    struct panic_watch w = { 0 };
    CHECK(feed_str(&w, "[   13.2] Kernel panic - not syncing: VFS\n"));
}

TEST(split_across_writes)
{
    struct panic_watch w = { 0 };
    const char *s = "xxKernel panic - not syncing";
    bool hit = false;
    for (size_t i = 0; s[i]; i++) {
        hit |= panic_watch_feed(&w, (const uint8_t *)&s[i], 1);
    }
    CHECK(hit);
}

TEST(near_misses)
{
    struct panic_watch w = { 0 };
    CHECK(!feed_str(&w, "Kernel panic - not syncin"));
    CHECK(!feed_str(&w, "X\n"));
    CHECK(!feed_str(&w, "reboot: Restarting system\n"));
    CHECK(!feed_str(&w, "kernel panic - not syncing\n"));
}

TEST(restart_on_repeated_first_letter)
{
    struct panic_watch w = { 0 };
    CHECK(feed_str(&w, "KKernel panic - not syncing"));
}

int main(void)
{
    RUN(whole_banner);
    RUN(split_across_writes);
    RUN(near_misses);
    RUN(restart_on_repeated_first_letter);
    HARNESS_END();
}
