/* SPDX-License-Identifier: MIT */
/*
 * Error reporting for host, configuration and monitor errors (design.md
 * "Errors"). A function that can fail for a user-visible reason takes a
 * struct error * last and returns err_set(err, -ERRNO, "..."). The caller
 * that consumes the error reports it; the one that returns it does not
 * print it. Guest misbehaviour never goes through here (see log.h).
 */
#ifndef SWEDE_CORE_ERROR_H
#define SWEDE_CORE_ERROR_H

#include <stdbool.h>

struct error {
    int code;      /* negative errno, 0 when no error is set */
    char msg[512]; /* one line, no trailing newline */
};

/* Record an error (first one wins) and return code (a negative errno).
 * err may be NULL. Any thread. */
int err_set(struct error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in err with "prefix: ". */
void err_prefix(struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline bool err_is_set(const struct error *err)
{
    return err && err->code != 0;
}

#endif
