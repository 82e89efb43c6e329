/* SPDX-License-Identifier: MIT */
/*
 * QEMU-style option strings ("value,key=val,...", ",," for a literal
 * comma), sizes with binary suffixes and on/off booleans. Parsing only:
 * which keys an option takes and what they mean is the caller's business
 * (it checks them with opts_check_known). A bare "key" after the first
 * element means key=on, as older QEMU command lines use it ("server,nowait").
 */
#include "core/options.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void opts_free(struct opts *o)
{
    if (!o) {
        return;
    }
    for (unsigned i = 0; i < o->n; i++) {
        free(o->kv[i].key);
        free(o->kv[i].val);
    }
    free(o->kv);
    o->kv = NULL;
    o->n = 0;
}

/* Takes ownership of key and val. */
static int opts_put(struct opts *o, char *key, char *val)
{
    for (unsigned i = 0; i < o->n; i++) {
        if (strcmp(o->kv[i].key, key) == 0) {
            free(o->kv[i].val);
            o->kv[i].val = val;
            free(key);
            return 0;
        }
    }
    struct opt_kv *kv = realloc(o->kv, (o->n + 1) * sizeof(*kv));
    if (!kv) {
        free(key);
        free(val);
        return -ENOMEM;
    }
    o->kv = kv;
    o->kv[o->n].key = key;
    o->kv[o->n].val = val;
    o->n++;
    return 0;
}

int opts_parse(struct opts *out, const char *str, const char *implied_key,
               const char *optname, struct error *err)
{
    out->kv = NULL;
    out->n = 0;
    size_t len = strlen(str);
    /* One element at a time, unescaped into elem (never longer than str). */
    char *elem = malloc(len + 1);
    if (!elem) {
        return err_set(err, -ENOMEM, "%s: out of memory", optname);
    }
    const char *p = str;
    bool first = true;
    int ret = 0;
    while (*p || first) {
        size_t n = 0;
        while (*p) {
            if (*p == ',') {
                if (p[1] == ',') {
                    elem[n++] = ',';
                    p += 2;
                    continue;
                }
                break;
            }
            elem[n++] = *p++;
        }
        elem[n] = '\0';
        bool had_comma = *p == ',';
        if (had_comma) {
            p++;
        }

        char *eq = strchr(elem, '=');
        char *key, *val;
        if (n == 0 && !had_comma && !first) {
            break; /* trailing comma */
        }
        if (n == 0 && first && !had_comma) {
            break; /* empty string: no options */
        }
        if (eq) {
            *eq = '\0';
            if (eq == elem) {
                ret = err_set(err, -EINVAL, "%s: empty parameter name in '%s'",
                              optname, str);
                goto fail;
            }
            key = strdup(elem);
            val = strdup(eq + 1);
        } else if (first) {
            if (!implied_key) {
                ret = err_set(err, -EINVAL, "%s: expected key=value, got '%s'",
                              optname, elem);
                goto fail;
            }
            key = strdup(implied_key);
            val = strdup(elem);
        } else {
            if (n == 0) {
                ret = err_set(err, -EINVAL, "%s: empty parameter in '%s'",
                              optname, str);
                goto fail;
            }
            key = strdup(elem);
            val = strdup("on");
        }
        if (!key || !val || opts_put(out, key, val) < 0) {
            if (!key || !val) {
                free(key);
                free(val);
            }
            ret = err_set(err, -ENOMEM, "%s: out of memory", optname);
            goto fail;
        }
        first = false;
    }
    free(elem);
    return 0;

fail:
    free(elem);
    opts_free(out);
    return ret;
}

const char *opts_get(const struct opts *o, const char *key)
{
    for (unsigned i = 0; i < o->n; i++) {
        if (strcmp(o->kv[i].key, key) == 0) {
            return o->kv[i].val;
        }
    }
    return NULL;
}

int opts_check_known(const struct opts *o, const char *const known[],
                     const char *optname, struct error *err)
{
    for (unsigned i = 0; i < o->n; i++) {
        bool ok = false;
        for (unsigned k = 0; known[k]; k++) {
            if (strcmp(o->kv[i].key, known[k]) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            return err_set(err, -EINVAL, "%s: invalid parameter '%s'", optname,
                           o->kv[i].key);
        }
    }
    return 0;
}

int opts_get_bool(const struct opts *o, const char *key, bool dflt, bool *out,
                  const char *optname, struct error *err)
{
    const char *v = opts_get(o, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    for (unsigned i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return err_set(err, -EINVAL,
                   "%s: parameter '%s' expects 'on' or 'off', got '%s'",
                   optname, key, v);
}

int opts_get_size(const struct opts *o, const char *key, uint64_t dflt,
                  uint64_t *out, const char *optname, struct error *err)
{
    const char *v = opts_get(o, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!parse_size(v, 1, out)) {
        return err_set(err, -EINVAL,
                       "%s: parameter '%s' expects a size (e.g. 512M), got "
                       "'%s'",
                       optname, key, v);
    }
    return 0;
}

/* Decimal or 0x-hex, no sign, no trailing junk, no overflow. */
static bool opts_parse_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0])) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || end == s) {
        return false;
    }
    *out = v;
    return true;
}

int opts_get_uint(const struct opts *o, const char *key, uint64_t dflt,
                  uint64_t *out, const char *optname, struct error *err)
{
    const char *v = opts_get(o, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!opts_parse_u64(v, out)) {
        return err_set(err, -EINVAL,
                       "%s: parameter '%s' expects a non-negative number, "
                       "got '%s'",
                       optname, key, v);
    }
    return 0;
}

static bool parse_size_suffix(char c, uint64_t *mult)
{
    switch (toupper((unsigned char)c)) {
    case 'B':
        *mult = 1;
        return true;
    case 'K':
        *mult = 1ull << 10;
        return true;
    case 'M':
        *mult = 1ull << 20;
        return true;
    case 'G':
        *mult = 1ull << 30;
        return true;
    case 'T':
        *mult = 1ull << 40;
        return true;
    case 'P':
        *mult = 1ull << 50;
        return true;
    case 'E':
        *mult = 1ull << 60;
        return true;
    default:
        return false;
    }
}

bool parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0])) {
        return false;
    }
    const char *p = s;
    uint64_t whole = 0;
    bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (hex) {
        /* Hex takes no suffix: 'B' and 'E' would be ambiguous. */
        if (!opts_parse_u64(s, &whole)) {
            return false;
        }
        if (__builtin_mul_overflow(whole, default_unit, out)) {
            return false;
        }
        return true;
    }
    for (; isdigit((unsigned char)*p); p++) {
        if (__builtin_mul_overflow(whole, 10, &whole) ||
            __builtin_add_overflow(whole, (uint64_t)(*p - '0'), &whole)) {
            return false;
        }
    }
    /* A fraction ("1.5G") counts in units of 10^-frac_digits. */
    uint64_t frac = 0, frac_div = 1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        for (; isdigit((unsigned char)*p); p++) {
            if (frac_div >= 1000000000u) {
                return false; /* more precision than any size needs */
            }
            frac = frac * 10 + (uint64_t)(*p - '0');
            frac_div *= 10;
        }
    }
    uint64_t mult = default_unit;
    if (*p) {
        if (!parse_size_suffix(*p, &mult) || p[1]) {
            return false;
        }
    }
    uint64_t v;
    if (__builtin_mul_overflow(whole, mult, &v)) {
        return false;
    }
    if (frac) {
        unsigned __int128 f = (unsigned __int128)frac * mult;
        if (f % frac_div) {
            return false; /* not a whole number of bytes */
        }
        f /= frac_div;
        if (f > UINT64_MAX || __builtin_add_overflow(v, (uint64_t)f, &v)) {
            return false;
        }
    }
    *out = v;
    return true;
}
