/* SPDX-License-Identifier: MIT */
/*
 * Error recording (design.md "Errors"): fills a caller-owned struct error
 * with a negative errno and a one-line message. The first error set wins so
 * that the root cause is what gets reported; callers add context with
 * err_prefix(). Nothing here prints: the consumer of an error reports it.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct error *err, int code, const char *fmt, ...)
{
    if (!err || err->code != 0) {
        return code;
    }
    /* A zero code would read as "no error"; callers mean failure. */
    err->code = code ? code : -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    /* Keep the message one line even if a caller passed a newline. */
    for (char *p = err->msg; *p; p++) {
        if (*p == '\n') {
            *p = ' ';
        }
    }
    return code;
}

void err_prefix(struct error *err, const char *fmt, ...)
{
    if (!err || err->code == 0) {
        return;
    }
    char buf[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > sizeof(buf) - 1) {
        len = sizeof(buf) - 1;
    }
    /* Append ": " and the old message, truncating to fit. */
    const char *parts[2] = { ": ", err->msg };
    for (int i = 0; i < 2; i++) {
        size_t add = strlen(parts[i]);
        if (add > sizeof(buf) - 1 - len) {
            add = sizeof(buf) - 1 - len;
        }
        memcpy(buf + len, parts[i], add);
        len += add;
    }
    buf[len] = '\0';
    memcpy(err->msg, buf, len + 1);
}
