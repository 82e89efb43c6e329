/* SPDX-License-Identifier: MIT */
/*
 * Logging as QEMU's -d ITEMS and -D FILE: a mask of trace items and one
 * line-buffered destination (stderr unless -D). Guest misbehaviour and
 * unimplemented features go through a token bucket each (a burst of
 * LOG_GUEST_BURST lines, then LOG_GUEST_RATE per second) and report how
 * many lines were dropped once the bucket refills, so a hostile guest can't
 * flood the host. One mutex serialises lines from all threads. This module
 * does not decide what is logged where in the emulator; callers do.
 */
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"

unsigned log_mask;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file; /* NULL means stderr */

struct log_item_desc {
    const char *name;
    unsigned bit;
    const char *help;
};

static const struct log_item_desc log_items[] = {
    { "guest_errors", LOG_GUEST_ERROR,
      "log when the guest OS does something invalid (eg accessing a non-existent register)" },
    { "unimp", LOG_UNIMP, "log unimplemented functionality" },
    { "int", LOG_INT, "show interrupts/exceptions in short format" },
    { "mmu", LOG_MMU, "log MMU-related activities" },
    { "cpu", LOG_CPU, "show CPU registers before entering a TB" },
    { "in_asm", LOG_IN_ASM, "show target assembly code for each compiled TB" },
    { "exec", LOG_EXEC, "show trace before each executed TB (lots of logs)" },
};

/* Token bucket in units of 1/LOG_GUEST_RATE seconds. */
struct log_limiter {
    const char *what;
    uint64_t last_ns;
    uint64_t tokens_ns; /* credit, capped at burst * interval */
    uint64_t suppressed;
    uint64_t count;
};

static struct log_limiter log_guest_limiter = { .what = "guest error" };
static struct log_limiter log_unimp_limiter = { .what = "unimplemented" };

static uint64_t log_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static FILE *log_dest(void)
{
    return log_file ? log_file : stderr;
}

int log_set_items(const char *items, bool *help, struct error *err)
{
    unsigned mask = 0;
    if (help) {
        *help = false;
    }
    const char *p = items ? items : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 4 && strncmp(p, "help", 4) == 0) {
            /* The header's contract: -d help lists the items on stdout. */
            printf("Log items (comma separated):\n");
            for (size_t i = 0; i < sizeof(log_items) / sizeof(log_items[0]);
                 i++) {
                printf("%-15s %s\n", log_items[i].name, log_items[i].help);
            }
            fflush(stdout);
            if (help) {
                *help = true;
            }
            return 0;
        }
        bool found = n == 0; /* tolerate "a,,b" and a trailing comma */
        for (size_t i = 0; i < sizeof(log_items) / sizeof(log_items[0]); i++) {
            if (strlen(log_items[i].name) == n &&
                strncmp(p, log_items[i].name, n) == 0) {
                mask |= log_items[i].bit;
                found = true;
            }
        }
        if (!found) {
            return err_set(err, -EINVAL,
                           "-d: unknown log item '%.*s' (try -d help)", (int)n,
                           p);
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    __atomic_store_n(&log_mask, mask, __ATOMIC_RELAXED);
    return 0;
}

int log_set_file(const char *path, struct error *err)
{
    FILE *f = fopen(path, "we");
    if (!f) {
        return err_set(err, -errno, "-D: cannot open '%s': %s", path,
                       strerror(errno));
    }
    /* Line-buffered so a crash loses at most the line being written. */
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&log_lock);
    FILE *old = log_file;
    log_file = f;
    pthread_mutex_unlock(&log_lock);
    if (old) {
        fclose(old);
    }
    return 0;
}

/* Caller holds log_lock. */
static void log_vline(const char *prefix, const char *fmt, va_list ap)
{
    FILE *f = log_dest();
    if (prefix) {
        fputs(prefix, f);
    }
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&log_lock);
    log_vline(NULL, fmt, ap);
    pthread_mutex_unlock(&log_lock);
    va_end(ap);
}

/* Caller holds log_lock. True if a line may be written now. */
static bool log_limiter_take(struct log_limiter *l)
{
    const uint64_t interval = 1000000000u / LOG_GUEST_RATE;
    const uint64_t cap = (uint64_t)LOG_GUEST_BURST * interval;
    uint64_t now = log_now_ns();

    l->count++;
    if (l->last_ns == 0) {
        l->tokens_ns = cap; /* the first burst is free */
    } else {
        uint64_t add = now - l->last_ns;
        l->tokens_ns = add >= cap - l->tokens_ns ? cap : l->tokens_ns + add;
    }
    l->last_ns = now;
    if (l->tokens_ns < interval) {
        l->suppressed++;
        return false;
    }
    l->tokens_ns -= interval;
    if (l->suppressed) {
        fprintf(log_dest(), "swede: %llu %s messages suppressed\n",
                (unsigned long long)l->suppressed, l->what);
        l->suppressed = 0;
    }
    return true;
}

static void log_limited(struct log_limiter *l, const char *prefix,
                        const char *fmt, va_list ap)
{
    pthread_mutex_lock(&log_lock);
    if (log_limiter_take(l)) {
        log_vline(prefix, fmt, ap);
    }
    pthread_mutex_unlock(&log_lock);
}

void log_guest(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_limited(&log_guest_limiter, "guest error: ", fmt, ap);
    va_end(ap);
}

void log_unimp(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_limited(&log_unimp_limiter, "unimplemented: ", fmt, ap);
    va_end(ap);
}

uint64_t log_guest_count(void)
{
    pthread_mutex_lock(&log_lock);
    uint64_t n = log_guest_limiter.count;
    pthread_mutex_unlock(&log_lock);
    return n;
}
