/* SPDX-License-Identifier: MIT */
/*
 * QEMU-style option strings: "value,key=val,key2=val2" with ",," standing
 * for a literal comma, sizes with K/M/G/T suffixes, booleans on/off/yes/no/
 * true/false. Used by the command line and, later, by device_add.
 */
#ifndef SWEDE_CORE_OPTIONS_H
#define SWEDE_CORE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct error;

struct opt_kv {
    char *key;
    char *val;
};

struct opts {
    struct opt_kv *kv;
    unsigned n;
};

/*
 * Parse str into out. If the first element has no '=', it is stored under
 * implied_key (when implied_key is NULL that is an error). optname names
 * the option in error messages ("-drive"). Duplicate keys: the last wins.
 */
int opts_parse(struct opts *out, const char *str, const char *implied_key,
               const char *optname, struct error *err);
void opts_free(struct opts *o);

/* NULL when absent. */
const char *opts_get(const struct opts *o, const char *key);
/* Fails with a message naming optname and key if a key is not in known[]
 * (a NULL-terminated list). */
int opts_check_known(const struct opts *o, const char *const known[],
                     const char *optname, struct error *err);
/* Absent key: *out = dflt. Bad value: error naming optname and key. */
int opts_get_bool(const struct opts *o, const char *key, bool dflt,
                  bool *out, const char *optname, struct error *err);
int opts_get_size(const struct opts *o, const char *key, uint64_t dflt,
                  uint64_t *out, const char *optname, struct error *err);
int opts_get_uint(const struct opts *o, const char *key, uint64_t dflt,
                  uint64_t *out, const char *optname, struct error *err);

/*
 * Parse a size such as "512M", "1G", "4096" (default_unit is the
 * multiplier for a bare number: 1 for bytes, 1 << 20 for -m's megabytes).
 * Returns false on garbage or overflow.
 */
bool parse_size(const char *s, uint64_t default_unit, uint64_t *out);

#endif
