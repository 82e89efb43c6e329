/* SPDX-License-Identifier: MIT */
/*
 * Floating-point core: F and D arithmetic, fused multiply-add, sqrt,
 * min/max, sign injection, compares, classify and conversions over a table
 * of special values (zeros, subnormals, extremes, infinities, quiet and
 * signalling NaNs, inexact fractions) plus pseudo-random values, under
 * each rounding mode (rne rtz rdn rup rmm, set through frm). One hash line
 * per operation and mode folds result bits and fflags; a short explicit
 * table shows 1/3, 2/3 and conversions of 2.5 per mode.
 */
#include "out.h"

static const uint64_t dedge[] = {
    0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000,
    0xbff0000000000000, 0x3fb999999999999a, 0x3fd5555555555555,
    0x7fefffffffffffff, 0xffefffffffffffff, 0x0010000000000000,
    0x000fffffffffffff, 0x0000000000000001, 0x8000000000000001,
    0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
    0x7ff0000000000001, 0x4004000000000000, 0xc00c000000000000,
    0x43e0000000000000, 0xc3e0000000000000, 0x41e0000000000000,
    0x4330000000000001, 0x3ff0000000000001, 0x47efffffe0000000,
};
static const uint32_t sedge[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3dcccccd, 0x3eaaaaab,
    0x7f7fffff, 0xff7fffff, 0x00800000, 0x007fffff, 0x00000001, 0x80000001,
    0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0x40200000, 0xc0600000,
    0x5f000000, 0xdf000000, 0x4f000000, 0x4b000001, 0x3f800001, 0xcf000001,
};
#define NRND 16
#define ND   (sizeof(dedge) / sizeof(dedge[0]) + NRND)
#define NS   (sizeof(sedge) / sizeof(sedge[0]) + NRND)
static uint64_t dv[ND], sv[NS];

/* result in integer register form; f = fflags after the op */
typedef uint64_t (*fop)(uint64_t, uint64_t, uint64_t);

#define D2(name, insn)                                           \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)     \
    {                                                            \
        uint64_t r;                                              \
        (void)c;                                                 \
        asm volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " insn \
                     " ft2, ft0, ft1\n fmv.x.d %0, ft2"          \
                     : "=r"(r)                                   \
                     : "r"(a), "r"(b)                            \
                     : "ft0", "ft1", "ft2");                     \
        return r;                                                \
    }
#define S2(name, insn)                                           \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)     \
    {                                                            \
        uint64_t r;                                              \
        (void)c;                                                 \
        asm volatile("fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n " insn \
                     " ft2, ft0, ft1\n fmv.x.w %0, ft2"          \
                     : "=r"(r)                                   \
                     : "r"(a), "r"(b)                            \
                     : "ft0", "ft1", "ft2");                     \
        return r;                                                \
    }
#define D3(name, insn)                                                    \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)              \
    {                                                                     \
        uint64_t r;                                                       \
        asm volatile(                                                     \
            "fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n fmv.d.x ft2, %3\n " insn \
            " ft3, ft0, ft1, ft2\n fmv.x.d %0, ft3"                       \
            : "=r"(r)                                                     \
            : "r"(a), "r"(b), "r"(c)                                      \
            : "ft0", "ft1", "ft2", "ft3");                                \
        return r;                                                         \
    }
#define S3(name, insn)                                                    \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)              \
    {                                                                     \
        uint64_t r;                                                       \
        asm volatile(                                                     \
            "fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n fmv.w.x ft2, %3\n " insn \
            " ft3, ft0, ft1, ft2\n fmv.x.w %0, ft3"                       \
            : "=r"(r)                                                     \
            : "r"(a), "r"(b), "r"(c)                                      \
            : "ft0", "ft1", "ft2", "ft3");                                \
        return r;                                                         \
    }
/* unary with an arbitrary source move, op and result move */
#define U1(name, mvin, body, mvout)                          \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c) \
    {                                                        \
        uint64_t r;                                          \
        (void)b;                                             \
        (void)c;                                             \
        asm volatile(mvin " ft0, %1\n " body "\n " mvout     \
                     : "=r"(r)                               \
                     : "r"(a)                                \
                     : "ft0", "ft1");                        \
        return r;                                            \
    }
/* compare: integer result */
#define C2(name, mv, insn)                                                  \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                \
    {                                                                       \
        uint64_t r;                                                         \
        (void)c;                                                            \
        asm volatile(mv " ft0, %1\n " mv " ft1, %2\n " insn " %0, ft0, ft1" \
                     : "=r"(r)                                              \
                     : "r"(a), "r"(b)                                       \
                     : "ft0", "ft1");                                       \
        return r;                                                           \
    }

D2(d_add, "fadd.d")
D2(d_sub, "fsub.d") D2(d_mul, "fmul.d") D2(d_div, "fdiv.d") D2(
    d_min, "fmin.d") D2(d_max, "fmax.d") D2(d_sgnj, "fsgnj.d") D2(d_sgnjn,
                                                                  "fsgnjn.d")
    D2(d_sgnjx, "fsgnjx.d") D3(d_madd, "fmadd.d") D3(d_msub, "fmsub.d") D3(
        d_nmadd, "fnmadd.d") D3(d_nmsub, "fnmsub.d") S2(s_add, "fadd.s")
        S2(s_sub, "fsub.s") S2(s_mul, "fmul.s") S2(s_div, "fdiv.s") S2(
            s_min, "fmin.s") S2(s_max, "fmax.s") S2(s_sgnjx,
                                                    "fsgnjx.s") S3(s_madd,
                                                                   "fmadd.s")
            S3(s_nmsub, "fnmsub.s") C2(d_eq, "fmv.d.x", "feq.d") C2(
                d_lt, "fmv.d.x",
                "flt.d") C2(d_le, "fmv.d.x",
                            "fle.d") C2(s_eq, "fmv.w.x",
                                        "feq.s") C2(s_lt, "fmv.w.x",
                                                    "flt.s") C2(s_le, "fmv.w.x",
                                                                "fle.s")
                U1(d_sqrt, "fmv.d.x", "fsqrt.d ft1, ft0", "fmv.x.d %0, ft1") U1(
                    s_sqrt, "fmv.w.x", "fsqrt.s ft1, ft0",
                    "fmv.x.w %0, ft1") U1(d_class, "fmv.d.x", "",
                                          "fclass.d %0, ft0")
                    U1(s_class, "fmv.w.x", "", "fclass.s %0, ft0") U1(
                        d_cvt_w, "fmv.d.x", "",
                        "fcvt.w.d %0, ft0") U1(d_cvt_wu, "fmv.d.x", "",
                                               "fcvt.wu.d %0, ft0")
                        U1(d_cvt_l, "fmv.d.x", "", "fcvt.l.d %0, ft0") U1(
                            d_cvt_lu, "fmv.d.x", "", "fcvt.lu.d %0, ft0")
                            U1(s_cvt_w, "fmv.w.x", "", "fcvt.w.s %0, ft0") U1(
                                s_cvt_lu, "fmv.w.x", "", "fcvt.lu.s %0, ft0")
                                U1(d_cvt_s, "fmv.d.x", "fcvt.s.d ft1, ft0",
                                   "fmv.x.w %0, ft1") U1(s_cvt_d, "fmv.w.x",
                                                         "fcvt.d.s ft1, ft0",
                                                         "fmv.x.d %0, ft1")
                                    U1(l_cvt_d, "mv %0, %1 #", "",
                                       "fcvt.d.l ft1, %1\n fmv.x.d %0, ft1")
                                        U1(lu_cvt_s, "mv %0, %1 #", "",
                                           "fcvt.s.lu ft1, %1\n fmv.x.w %0, ft1")
                                            U1(w_cvt_s, "mv %0, %1 #", "",
                                               "fcvt.s.w ft1, %1\n fmv.x.w %0, ft1")
                                                U1(wu_cvt_d, "mv %0, %1 #", "",
                                                   "fcvt.d.wu ft1, %1\n fmv.x.d %0, ft1")

                                                    enum {
    DBL,
    SGL,
    INT
};
static const struct {
    const char *name;
    fop fn;
    int arity, kind;
} ops[] = {
    { "fadd.d", d_add, 2, DBL },       { "fsub.d", d_sub, 2, DBL },
    { "fmul.d", d_mul, 2, DBL },       { "fdiv.d", d_div, 2, DBL },
    { "fmin.d", d_min, 2, DBL },       { "fmax.d", d_max, 2, DBL },
    { "fsgnj.d", d_sgnj, 2, DBL },     { "fsgnjn.d", d_sgnjn, 2, DBL },
    { "fsgnjx.d", d_sgnjx, 2, DBL },   { "fmadd.d", d_madd, 3, DBL },
    { "fmsub.d", d_msub, 3, DBL },     { "fnmadd.d", d_nmadd, 3, DBL },
    { "fnmsub.d", d_nmsub, 3, DBL },   { "feq.d", d_eq, 2, DBL },
    { "flt.d", d_lt, 2, DBL },         { "fle.d", d_le, 2, DBL },
    { "fsqrt.d", d_sqrt, 1, DBL },     { "fclass.d", d_class, 1, DBL },
    { "fcvt.w.d", d_cvt_w, 1, DBL },   { "fcvt.wu.d", d_cvt_wu, 1, DBL },
    { "fcvt.l.d", d_cvt_l, 1, DBL },   { "fcvt.lu.d", d_cvt_lu, 1, DBL },
    { "fcvt.s.d", d_cvt_s, 1, DBL },   { "fadd.s", s_add, 2, SGL },
    { "fsub.s", s_sub, 2, SGL },       { "fmul.s", s_mul, 2, SGL },
    { "fdiv.s", s_div, 2, SGL },       { "fmin.s", s_min, 2, SGL },
    { "fmax.s", s_max, 2, SGL },       { "fsgnjx.s", s_sgnjx, 2, SGL },
    { "fmadd.s", s_madd, 3, SGL },     { "fnmsub.s", s_nmsub, 3, SGL },
    { "feq.s", s_eq, 2, SGL },         { "flt.s", s_lt, 2, SGL },
    { "fle.s", s_le, 2, SGL },         { "fsqrt.s", s_sqrt, 1, SGL },
    { "fclass.s", s_class, 1, SGL },   { "fcvt.w.s", s_cvt_w, 1, SGL },
    { "fcvt.lu.s", s_cvt_lu, 1, SGL }, { "fcvt.d.s", s_cvt_d, 1, SGL },
    { "fcvt.d.l", l_cvt_d, 1, INT },   { "fcvt.s.lu", lu_cvt_s, 1, INT },
    { "fcvt.s.w", w_cvt_s, 1, INT },   { "fcvt.d.wu", wu_cvt_d, 1, INT },
};

static const char *rmname[] = { "rne", "rtz", "rdn", "rup", "rmm" };

static void set_rm(unsigned rm)
{
    asm volatile("fsrm %0" ::"r"((unsigned long)rm));
}
static void clear_flags(void)
{
    asm volatile("fsflags zero");
}
static uint64_t flags(void)
{
    uint64_t f;
    asm volatile("frflags %0" : "=r"(f));
    return f;
}

static uint64_t run(unsigned k, unsigned rm, uint64_t *accflags)
{
    const uint64_t *v = ops[k].kind == SGL ? sv : dv;
    unsigned n = ops[k].kind == SGL ? NS : ND;
    unsigned n3 = ops[k].arity == 3 ? n : 1, n2 = ops[k].arity >= 2 ? n : 1;
    uint64_t h = 0xcbf29ce484222325UL, acc = 0;
    set_rm(rm);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n2; j++)
            for (unsigned l = 0; l < n3; l += ops[k].arity == 3 ? 3 : 1) {
                uint64_t a = v[i], b = v[j], c = v[l];
                if (ops[k].kind == INT)
                    a = i & 1 ? dv[i] : (uint64_t)(int64_t)(int32_t)dv[i];
                clear_flags();
                uint64_t r = ops[k].fn(a, b, c);
                uint64_t f = flags();
                acc |= f;
                h = mix(mix(h, r), f);
            }
    *accflags = acc;
    return h;
}

int user_main(void)
{
    int fails = 0;
    uint64_t seed = 0x243f6a8885a308d3UL;
    unsigned nd = sizeof(dedge) / sizeof(dedge[0]);
    unsigned ns = sizeof(sedge) / sizeof(sedge[0]);
    for (unsigned i = 0; i < ND; i++)
        dv[i] = i < nd ? dedge[i] : rnd(&seed) >> (i & 3);
    for (unsigned i = 0; i < NS; i++)
        sv[i] = i < ns ? sedge[i] : (uint32_t)(rnd(&seed) >> (i & 7));

    out_str("fpops: explicit\n");
    for (unsigned rm = 0; rm < 5; rm++) {
        uint64_t f1, f2, f3, f4;
        set_rm(rm);
        clear_flags();
        uint64_t third = d_div(0x3ff0000000000000, 0x4008000000000000, 0);
        f1 = flags();
        clear_flags();
        uint64_t sthird = s_div(0xbf800000, 0x40400000, 0);
        f2 = flags();
        clear_flags();
        uint64_t cvt = d_cvt_l(0xc004000000000000, 0, 0); /* -2.5 */
        f3 = flags();
        clear_flags();
        uint64_t cvt2 = d_cvt_w(0x4004000000000000, 0, 0); /* 2.5 */
        f4 = flags();
        out_str(rmname[rm]);
        out_str(": 1/3.d=");
        out_hex(third);
        out_str("/");
        out_hex(f1);
        out_str(" -1/3.s=");
        out_hex(sthird);
        out_str("/");
        out_hex(f2);
        out_str(" cvt.l(-2.5)=");
        out_dec((int64_t)cvt);
        out_str("/");
        out_hex(f3);
        out_str(" cvt.w(2.5)=");
        out_dec((int64_t)cvt2);
        out_str("/");
        out_hex(f4);
        out_str("\n");
        if (f1 != 1 || f2 != 1 || f3 != 1 || f4 != 1)
            fails++;
    }
    /* fflags accumulate; fcsr = frm << 5 | fflags */
    set_rm(3);
    clear_flags();
    d_div(0x3ff0000000000000, 0, 0);  /* DZ */
    d_sqrt(0xbff0000000000000, 0, 0); /* NV */
    uint64_t fcsr;
    asm volatile("frcsr %0" : "=r"(fcsr));
    out_str("fcsr after div-by-zero and sqrt(-1) with rup: ");
    out_hex(fcsr);
    out_str("\n");
    if (fcsr != ((3 << 5) | 0x18))
        fails++;

    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        out_str(ops[k].name);
        for (unsigned rm = 0; rm < 5; rm++) {
            uint64_t acc;
            uint64_t h = run(k, rm, &acc);
            out_str(" ");
            out_str(rmname[rm]);
            out_str("=");
            out_hex(h);
            out_str("/");
            out_hex(acc);
        }
        out_str("\n");
    }
    set_rm(0);
    return fails;
}
