/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/options: QEMU option strings (",," escapes, implied
 * keys, duplicates), sizes with suffixes and overflow, booleans, and the
 * error messages naming the option and key.
 */
#include <errno.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "harness.h"

TEST(parse_basic)
{
    struct opts o;
    struct error err = { 0 };
    CHECK_EQ(opts_parse(&o, "disk.img,if=none,id=d0", "file", "-drive", &err),
             0);
    CHECK_EQ(o.n, 3);
    CHECK(opts_get(&o, "file") &&
          strcmp(opts_get(&o, "file"), "disk.img") == 0);
    CHECK(opts_get(&o, "if") && strcmp(opts_get(&o, "if"), "none") == 0);
    CHECK(opts_get(&o, "id") && strcmp(opts_get(&o, "id"), "d0") == 0);
    CHECK(opts_get(&o, "format") == NULL);
    opts_free(&o);
}

TEST(parse_escape)
{
    struct opts o;
    struct error err = { 0 };
    CHECK_EQ(
        opts_parse(&o, "file=a,,b,,,format=raw,x=k=v", NULL, "-drive", &err),
        0);
    CHECK_EQ(o.n, 3);
    CHECK(opts_get(&o, "file") && strcmp(opts_get(&o, "file"), "a,b,") == 0);
    CHECK(opts_get(&o, "format") && strcmp(opts_get(&o, "format"), "raw") == 0);
    CHECK(opts_get(&o, "x") && strcmp(opts_get(&o, "x"), "k=v") == 0);
    opts_free(&o);
}

TEST(parse_duplicates_and_bare)
{
    struct opts o;
    struct error err = { 0 };
    CHECK_EQ(opts_parse(&o, "a=1,b=2,a=3,server", NULL, "-x", &err), 0);
    CHECK_EQ(o.n, 3);
    CHECK(strcmp(opts_get(&o, "a"), "3") == 0);
    CHECK(opts_get(&o, "server") && strcmp(opts_get(&o, "server"), "on") == 0);
    opts_free(&o);

    CHECK_EQ(opts_parse(&o, "", "file", "-x", &err), 0);
    CHECK_EQ(o.n, 0);
    opts_free(&o);
}

TEST(parse_errors)
{
    struct opts o;
    struct error err = { 0 };
    CHECK(opts_parse(&o, "value,a=1", NULL, "-netdev", &err) == -EINVAL);
    CHECK(err_is_set(&err));
    CHECK(strstr(err.msg, "-netdev") != NULL);
    CHECK_EQ(o.n, 0);

    struct error err2 = { 0 };
    CHECK(opts_parse(&o, "a=1,=2", NULL, "-drive", &err2) < 0);
    CHECK(strstr(err2.msg, "-drive") != NULL);
}

TEST(check_known)
{
    struct opts o;
    struct error err = { 0 };
    static const char *const known[] = { "if", "file", NULL };
    CHECK_EQ(opts_parse(&o, "file=x,if=virtio,bogus=1", NULL, "-drive", &err),
             0);
    CHECK(opts_check_known(&o, known, "-drive", &err) == -EINVAL);
    CHECK(strstr(err.msg, "-drive") && strstr(err.msg, "bogus"));
    opts_free(&o);
}

TEST(bools)
{
    struct opts o;
    struct error err = { 0 };
    bool b = false;
    CHECK_EQ(opts_parse(&o, "a=on,b=off,c=yes,d=no,e=true,f=false,g=maybe",
                        NULL, "-x", &err),
             0);
    const char *keys = "abcdef";
    for (int i = 0; i < 6; i++) {
        char k[2] = { keys[i], 0 };
        CHECK_EQ(opts_get_bool(&o, k, false, &b, "-x", &err), 0);
        CHECK_EQ(b, i % 2 == 0);
    }
    CHECK_EQ(opts_get_bool(&o, "missing", true, &b, "-x", &err), 0);
    CHECK_EQ(b, true);
    CHECK(opts_get_bool(&o, "g", false, &b, "-x", &err) < 0);
    CHECK(strstr(err.msg, "'g'") && strstr(err.msg, "maybe"));
    opts_free(&o);
}

TEST(sizes)
{
    uint64_t v = 0;
    CHECK(parse_size("4096", 1, &v));
    CHECK_EQ(v, 4096);
    CHECK(parse_size("512M", 1, &v));
    CHECK_EQ(v, 512ull << 20);
    CHECK(parse_size("1G", 1, &v));
    CHECK_EQ(v, 1ull << 30);
    CHECK(parse_size("2t", 1, &v));
    CHECK_EQ(v, 2ull << 40);
    CHECK(parse_size("4k", 1, &v));
    CHECK_EQ(v, 4096);
    CHECK(parse_size("1.5G", 1, &v));
    CHECK_EQ(v, 3ull << 29);
    CHECK(parse_size("256", 1 << 20, &v)); /* -m 256 */
    CHECK_EQ(v, 256ull << 20);
    CHECK(parse_size("0x1000", 1, &v));
    CHECK_EQ(v, 0x1000);
    CHECK(parse_size("16383P", 1, &v));
    CHECK_EQ(v, 16383ull << 50);

    CHECK(!parse_size("", 1, &v));
    CHECK(!parse_size("-1", 1, &v));
    CHECK(!parse_size("12Q", 1, &v));
    CHECK(!parse_size("1GB", 1, &v));
    CHECK(!parse_size("M", 1, &v));
    CHECK(!parse_size("16384P", 1, &v));               /* 2^64: overflow */
    CHECK(!parse_size("18446744073709551616", 1, &v)); /* 2^64 */
    CHECK(parse_size("18446744073709551615", 1, &v));
    CHECK_EQ(v, UINT64_MAX);
    CHECK(!parse_size("17592186044416", 1 << 20, &v)); /* 2^44 MiB */
    CHECK(!parse_size("16E", 1, &v));
}

TEST(get_size_uint)
{
    struct opts o;
    struct error err = { 0 };
    uint64_t v = 0;
    CHECK_EQ(opts_parse(&o, "size=2M,n=0x10,bad=12X,neg=-3", NULL, "-x", &err),
             0);
    CHECK_EQ(opts_get_size(&o, "size", 0, &v, "-x", &err), 0);
    CHECK_EQ(v, 2 << 20);
    CHECK_EQ(opts_get_size(&o, "nosuch", 77, &v, "-x", &err), 0);
    CHECK_EQ(v, 77);
    CHECK_EQ(opts_get_uint(&o, "n", 0, &v, "-x", &err), 0);
    CHECK_EQ(v, 16);
    CHECK(opts_get_uint(&o, "neg", 0, &v, "-x", &err) < 0);
    struct error err2 = { 0 };
    CHECK(opts_get_size(&o, "bad", 0, &v, "-m", &err2) < 0);
    CHECK(strstr(err2.msg, "-m") && strstr(err2.msg, "bad"));
    opts_free(&o);
}

TEST(error_first_wins_and_prefix)
{
    struct error err = { 0 };
    CHECK_EQ(err_set(&err, -ENOENT, "first %d", 1), -ENOENT);
    CHECK_EQ(err_set(&err, -EINVAL, "second"), -EINVAL);
    CHECK_EQ(err.code, -ENOENT);
    CHECK(strcmp(err.msg, "first 1") == 0);
    err_prefix(&err, "-drive %s", "d0");
    CHECK(strcmp(err.msg, "-drive d0: first 1") == 0);
    CHECK_EQ(err_set(NULL, -EIO, "ignored"), -EIO);
}

int main(void)
{
    RUN(parse_basic);
    RUN(parse_escape);
    RUN(parse_duplicates_and_bare);
    RUN(parse_errors);
    RUN(check_known);
    RUN(bools);
    RUN(sizes);
    RUN(get_size_uint);
    RUN(error_first_wins_and_prefix);
    HARNESS_END();
}
