/* SPDX-License-Identifier: MIT */
/*
 * Logging: the -d ITEMS mask and the -D FILE destination, as in QEMU, and
 * the rate-limited log for guest misbehaviour. Guest errors are always
 * logged, but at most a burst of LOG_GUEST_BURST lines and then a few per
 * second, so a hostile guest cannot flood the host's disk or terminal.
 * All functions may be called from any thread.
 */
#ifndef SWEDE_CORE_LOG_H
#define SWEDE_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

struct error;

enum log_item {
    LOG_GUEST_ERROR = 1u << 0, /* guest_errors: guest did something bad */
    LOG_UNIMP = 1u << 1,       /* unimp: guest used something unimplemented */
    LOG_INT = 1u << 2,         /* int: interrupts and exceptions */
    LOG_MMU = 1u << 3,         /* mmu: page-table walks that fault */
    LOG_CPU = 1u << 4,         /* cpu: trace every instruction (slow) */
    LOG_IN_ASM = 1u << 5,      /* in_asm: decoded blocks */
    LOG_EXEC = 1u << 6,        /* exec: each block executed */
};

/* Guest-error and unimp lines: a burst of this many, then this many per
 * second, then one "N messages suppressed" line when the rate allows. */
#define LOG_GUEST_BURST 20
#define LOG_GUEST_RATE  5

extern unsigned log_mask;

/* Parse "-d item,item" ("help" prints the list to stdout and sets *help). */
int log_set_items(const char *items, bool *help, struct error *err);
/* -D FILE: send log output to FILE instead of stderr. */
int log_set_file(const char *path, struct error *err);

static inline bool log_enabled(unsigned item)
{
    return (log_mask & item) != 0;
}

/* Unconditional line to the log destination (a newline is added). */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Guest misbehaviour: rate-limited, always on (also counted). */
void log_guest(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How many log_guest() calls so far, logged or suppressed (for tests and
 * statistics). */
uint64_t log_guest_count(void);

/* Something the guest used that swede does not implement (rate-limited). */
void log_unimp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
