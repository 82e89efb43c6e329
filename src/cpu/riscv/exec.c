/* SPDX-License-Identifier: MIT */
/*
 * The interpreter: runs decoded blocks (decode.c) for one hart until its
 * budget of instructions is spent, it waits for an interrupt, or something
 * asks the CPU loop to look around (a kick). Interrupts are checked between
 * blocks; every block ends at an instruction that can change privilege,
 * translation or interrupt enables, so they are taken promptly.
 *
 * Loads and stores try the TLB inline and fall back to mmu.c. This file is
 * the piece a dynamic translator replaces: it consumes the same blocks.
 */
#include <string.h>

#include "core/log.h"
#include "cpu/riscv/fpu.h"
#include "cpu/riscv/hart.h"
#include "cpu/riscv/ops.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline bool ld(struct rv_hart *h, uint64_t va, unsigned size,
                      uint64_t *v, uint64_t pc)
{
    const struct rv_tlb_entry *e =
        &h->tlb[RV_ACC_READ][(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];
    if (likely(e->tag == rv_tlb_tag(va, h->data_priv) && !(va & (size - 1)))) {
        const void *p = (const void *)(e->addend + (uintptr_t)va);
        switch (size) {
        case 1:
            *v = *(const uint8_t *)p;
            break;
        case 2:
            *v = *(const uint16_t *)p;
            break;
        case 4:
            *v = *(const uint32_t *)p;
            break;
        default:
            *v = *(const uint64_t *)p;
            break;
        }
        return true;
    }
    h->pc = pc;
    return rv_load_slow(h, va, size, v);
}

static inline bool st(struct rv_hart *h, uint64_t va, unsigned size, uint64_t v,
                      uint64_t pc)
{
    const struct rv_tlb_entry *e =
        &h->tlb[RV_ACC_WRITE][(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];
    if (likely(e->tag == rv_tlb_tag(va, h->data_priv) && !(va & (size - 1)))) {
        void *p = (void *)(e->addend + (uintptr_t)va);
        switch (size) {
        case 1:
            *(uint8_t *)p = (uint8_t)v;
            break;
        case 2:
            *(uint16_t *)p = (uint16_t)v;
            break;
        case 4:
            *(uint32_t *)p = (uint32_t)v;
            break;
        default:
            *(uint64_t *)p = v;
            break;
        }
        return true;
    }
    h->pc = pc;
    return rv_store_slow(h, va, size, v);
}

static inline uint64_t sext32(uint64_t v)
{
    return (uint64_t)(int64_t)(int32_t)v;
}

static inline uint64_t mulh(int64_t a, int64_t b)
{
    return (uint64_t)(((__int128)a * b) >> 64);
}

static inline uint64_t mulhu(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

static inline uint64_t mulhsu(int64_t a, uint64_t b)
{
    return (uint64_t)(((__int128)a * (unsigned __int128)b) >> 64);
}

static inline uint64_t rdiv(int64_t a, int64_t b)
{
    if (b == 0) {
        return UINT64_MAX;
    }
    if (a == INT64_MIN && b == -1) {
        return (uint64_t)a;
    }
    return (uint64_t)(a / b);
}

static inline uint64_t rrem(int64_t a, int64_t b)
{
    if (b == 0) {
        return (uint64_t)a;
    }
    if (a == INT64_MIN && b == -1) {
        return 0;
    }
    return (uint64_t)(a % b);
}

static inline uint64_t rdivw(int32_t a, int32_t b)
{
    if (b == 0) {
        return UINT64_MAX;
    }
    if (a == INT32_MIN && b == -1) {
        return sext32((uint32_t)a);
    }
    return sext32((uint32_t)(a / b));
}

static inline uint64_t rremw(int32_t a, int32_t b)
{
    if (b == 0) {
        return sext32((uint32_t)a);
    }
    if (a == INT32_MIN && b == -1) {
        return 0;
    }
    return sext32((uint32_t)(a % b));
}

static inline uint64_t rol64(uint64_t v, unsigned s)
{
    s &= 63;
    return s ? (v << s) | (v >> (64 - s)) : v;
}

static inline uint64_t ror64(uint64_t v, unsigned s)
{
    s &= 63;
    return s ? (v >> s) | (v << (64 - s)) : v;
}

static inline uint64_t rol32(uint64_t v, unsigned s)
{
    uint32_t w = (uint32_t)v;
    s &= 31;
    return sext32(s ? (w << s) | (w >> (32 - s)) : w);
}

static inline uint64_t ror32(uint64_t v, unsigned s)
{
    uint32_t w = (uint32_t)v;
    s &= 31;
    return sext32(s ? (w >> s) | (w << (32 - s)) : w);
}

static inline uint64_t orc_b(uint64_t v)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 8; i++) {
        if ((v >> (8 * i)) & 0xff) {
            r |= 0xffull << (8 * i);
        }
    }
    return r;
}

static uint64_t amo(unsigned op, uint64_t old, uint64_t src, bool dw)
{
    if (!dw) {
        old = sext32(old);
        src = sext32(src);
    }
    switch (op) {
    case OP_AMOSWAP:
        return src;
    case OP_AMOADD:
        return old + src;
    case OP_AMOXOR:
        return old ^ src;
    case OP_AMOAND:
        return old & src;
    case OP_AMOOR:
        return old | src;
    case OP_AMOMIN:
        return (int64_t)old < (int64_t)src ? old : src;
    case OP_AMOMAX:
        return (int64_t)old > (int64_t)src ? old : src;
    case OP_AMOMINU:
        return (dw ? old : (uint32_t)old) < (dw ? src : (uint32_t)src) ? old
                                                                       : src;
    default: /* OP_AMOMAXU */
        return (dw ? old : (uint32_t)old) > (dw ? src : (uint32_t)src) ? old
                                                                       : src;
    }
}

/* Resolve an instruction's rounding mode; false if reserved. */
static inline bool fp_rm(const struct rv_hart *h, unsigned rm, unsigned *out)
{
    if (rm == RV_RM_DYN) {
        rm = h->frm;
    }
    *out = rm;
    return rm <= RV_RM_RMM;
}

static inline bool cbo_allowed(const struct rv_hart *h, uint64_t mbits)
{
    if (h->priv < RV_PRIV_M && !(h->menvcfg & mbits)) {
        return false;
    }
    if (h->priv < RV_PRIV_S && !(h->senvcfg & mbits)) {
        return false;
    }
    return true;
}

/*
 * Execute block b starting at h->pc. Returns the number of instructions
 * retired. On a trap, h->pc already points at the handler.
 */
static unsigned exec_block(struct rv_hart *h, const struct rv_block *b)
{
    uint64_t *x = h->x;
    uint64_t *f = h->f;
    uint64_t pc = h->pc;
    unsigned i;

    for (i = 0; i < b->n; i++) {
        const struct rv_insn *in = &b->insn[i];
        uint64_t v;
        unsigned rm;

        switch ((enum rv_op)in->op) {
        case OP_LUI:
            x[in->rd] = (uint64_t)in->imm;
            break;
        case OP_AUIPC:
            x[in->rd] = pc + (uint64_t)in->imm;
            break;
        case OP_JAL:
            x[in->rd] = pc + in->len;
            x[0] = 0;
            h->pc = pc + (uint64_t)in->imm;
            return i + 1;
        case OP_JALR:
            v = (x[in->rs1] + (uint64_t)in->imm) & ~1ull;
            x[in->rd] = pc + in->len;
            x[0] = 0;
            h->pc = v;
            return i + 1;
#define BRANCH(cond)                                        \
    h->pc = (cond) ? pc + (uint64_t)in->imm : pc + in->len; \
    return i + 1
        case OP_BEQ:
            BRANCH(x[in->rs1] == x[in->rs2]);
        case OP_BNE:
            BRANCH(x[in->rs1] != x[in->rs2]);
        case OP_BLT:
            BRANCH((int64_t)x[in->rs1] < (int64_t)x[in->rs2]);
        case OP_BGE:
            BRANCH((int64_t)x[in->rs1] >= (int64_t)x[in->rs2]);
        case OP_BLTU:
            BRANCH(x[in->rs1] < x[in->rs2]);
        case OP_BGEU:
            BRANCH(x[in->rs1] >= x[in->rs2]);
#undef BRANCH
#define LOAD(size, conv)                                        \
    if (!ld(h, x[in->rs1] + (uint64_t)in->imm, size, &v, pc)) { \
        return i;                                               \
    }                                                           \
    x[in->rd] = conv;                                           \
    break
        case OP_LB:
            LOAD(1, (uint64_t)(int64_t)(int8_t)v);
        case OP_LH:
            LOAD(2, (uint64_t)(int64_t)(int16_t)v);
        case OP_LW:
            LOAD(4, sext32(v));
        case OP_LD:
            LOAD(8, v);
        case OP_LBU:
            LOAD(1, v);
        case OP_LHU:
            LOAD(2, v);
        case OP_LWU:
            LOAD(4, v);
#undef LOAD
#define STORE(size)                                                     \
    if (!st(h, x[in->rs1] + (uint64_t)in->imm, size, x[in->rs2], pc)) { \
        return i;                                                       \
    }                                                                   \
    break
        case OP_SB:
            STORE(1);
        case OP_SH:
            STORE(2);
        case OP_SW:
            STORE(4);
        case OP_SD:
            STORE(8);
#undef STORE
        case OP_ADDI:
            x[in->rd] = x[in->rs1] + (uint64_t)in->imm;
            break;
        case OP_SLTI:
            x[in->rd] = (int64_t)x[in->rs1] < in->imm;
            break;
        case OP_SLTIU:
            x[in->rd] = x[in->rs1] < (uint64_t)in->imm;
            break;
        case OP_XORI:
            x[in->rd] = x[in->rs1] ^ (uint64_t)in->imm;
            break;
        case OP_ORI:
            x[in->rd] = x[in->rs1] | (uint64_t)in->imm;
            break;
        case OP_ANDI:
            x[in->rd] = x[in->rs1] & (uint64_t)in->imm;
            break;
        case OP_SLLI:
            x[in->rd] = x[in->rs1] << in->imm;
            break;
        case OP_SRLI:
            x[in->rd] = x[in->rs1] >> in->imm;
            break;
        case OP_SRAI:
            x[in->rd] = (uint64_t)((int64_t)x[in->rs1] >> in->imm);
            break;
        case OP_ADD:
            x[in->rd] = x[in->rs1] + x[in->rs2];
            break;
        case OP_SUB:
            x[in->rd] = x[in->rs1] - x[in->rs2];
            break;
        case OP_SLL:
            x[in->rd] = x[in->rs1] << (x[in->rs2] & 63);
            break;
        case OP_SLT:
            x[in->rd] = (int64_t)x[in->rs1] < (int64_t)x[in->rs2];
            break;
        case OP_SLTU:
            x[in->rd] = x[in->rs1] < x[in->rs2];
            break;
        case OP_XOR:
            x[in->rd] = x[in->rs1] ^ x[in->rs2];
            break;
        case OP_SRL:
            x[in->rd] = x[in->rs1] >> (x[in->rs2] & 63);
            break;
        case OP_SRA:
            x[in->rd] = (uint64_t)((int64_t)x[in->rs1] >> (x[in->rs2] & 63));
            break;
        case OP_OR:
            x[in->rd] = x[in->rs1] | x[in->rs2];
            break;
        case OP_AND:
            x[in->rd] = x[in->rs1] & x[in->rs2];
            break;
        case OP_ADDIW:
            x[in->rd] = sext32(x[in->rs1] + (uint64_t)in->imm);
            break;
        case OP_SLLIW:
            x[in->rd] = sext32((uint32_t)x[in->rs1] << in->imm);
            break;
        case OP_SRLIW:
            x[in->rd] = sext32((uint32_t)x[in->rs1] >> in->imm);
            break;
        case OP_SRAIW:
            x[in->rd] = (uint64_t)(int64_t)((int32_t)x[in->rs1] >> in->imm);
            break;
        case OP_ADDW:
            x[in->rd] = sext32(x[in->rs1] + x[in->rs2]);
            break;
        case OP_SUBW:
            x[in->rd] = sext32(x[in->rs1] - x[in->rs2]);
            break;
        case OP_SLLW:
            x[in->rd] = sext32((uint32_t)x[in->rs1] << (x[in->rs2] & 31));
            break;
        case OP_SRLW:
            x[in->rd] = sext32((uint32_t)x[in->rs1] >> (x[in->rs2] & 31));
            break;
        case OP_SRAW:
            x[in->rd] =
                (uint64_t)(int64_t)((int32_t)x[in->rs1] >> (x[in->rs2] & 31));
            break;
        case OP_FENCE:
            break;
        case OP_FENCE_I:
            rv_block_invalidate(h->cpu);
            h->pc = pc + in->len;
            return i + 1;
        case OP_ECALL:
            h->pc = pc;
            rv_raise(h,
                     h->priv == RV_PRIV_M   ? RV_EXC_ECALL_M
                     : h->priv == RV_PRIV_S ? RV_EXC_ECALL_S
                                            : RV_EXC_ECALL_U,
                     0);
            return i;
        case OP_EBREAK:
            h->pc = pc;
            rv_raise(h, RV_EXC_BREAKPOINT, pc);
            return i;
        case OP_MRET:
            if (h->priv < RV_PRIV_M) {
                goto illegal;
            }
            rv_mret(h);
            return i + 1;
        case OP_SRET:
            if (h->priv < RV_PRIV_S ||
                (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TSR))) {
                goto illegal;
            }
            rv_sret(h);
            return i + 1;
        case OP_WFI:
            if (h->priv == RV_PRIV_U ||
                (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TW))) {
                goto illegal;
            }
            h->pc = pc + in->len;
            if (!rv_pending_irqs(h)) {
                h->wfi = true;
            }
            return i + 1;
        case OP_SFENCE_VMA:
            if (h->priv == RV_PRIV_U ||
                (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM))) {
                goto illegal;
            }
            rv_tlb_flush(h);
            h->pc = pc + in->len;
            return i + 1;
        case OP_CSRRW:
        case OP_CSRRS:
        case OP_CSRRC:
        case OP_CSRRWI:
        case OP_CSRRSI:
        case OP_CSRRCI: {
            unsigned kind = (in->op - OP_CSRRW) % 3 + 1;
            bool imm = in->op >= OP_CSRRWI;
            uint64_t src = imm ? in->rs1 : x[in->rs1];
            bool wr = kind == 1 || in->rs1 != 0;
            h->pc = pc;
            h->instret += i; /* counters read here see earlier retirements */
            if (!rv_csr_op(h, (unsigned)in->imm, kind, src, wr, in->rd != 0, &v,
                           in->raw)) {
                h->instret -= i;
                return i;
            }
            h->instret -= i;
            x[in->rd] = v;
            x[0] = 0;
            h->pc = pc + in->len;
            return i + 1;
        }
        case OP_MUL:
            x[in->rd] = x[in->rs1] * x[in->rs2];
            break;
        case OP_MULH:
            x[in->rd] = mulh((int64_t)x[in->rs1], (int64_t)x[in->rs2]);
            break;
        case OP_MULHSU:
            x[in->rd] = mulhsu((int64_t)x[in->rs1], x[in->rs2]);
            break;
        case OP_MULHU:
            x[in->rd] = mulhu(x[in->rs1], x[in->rs2]);
            break;
        case OP_DIV:
            x[in->rd] = rdiv((int64_t)x[in->rs1], (int64_t)x[in->rs2]);
            break;
        case OP_DIVU:
            x[in->rd] = x[in->rs2] ? x[in->rs1] / x[in->rs2] : UINT64_MAX;
            break;
        case OP_REM:
            x[in->rd] = rrem((int64_t)x[in->rs1], (int64_t)x[in->rs2]);
            break;
        case OP_REMU:
            x[in->rd] = x[in->rs2] ? x[in->rs1] % x[in->rs2] : x[in->rs1];
            break;
        case OP_MULW:
            x[in->rd] = sext32(x[in->rs1] * x[in->rs2]);
            break;
        case OP_DIVW:
            x[in->rd] = rdivw((int32_t)x[in->rs1], (int32_t)x[in->rs2]);
            break;
        case OP_DIVUW:
            x[in->rd] =
                (uint32_t)x[in->rs2]
                    ? sext32((uint32_t)x[in->rs1] / (uint32_t)x[in->rs2])
                    : UINT64_MAX;
            break;
        case OP_REMW:
            x[in->rd] = rremw((int32_t)x[in->rs1], (int32_t)x[in->rs2]);
            break;
        case OP_REMUW:
            x[in->rd] =
                (uint32_t)x[in->rs2]
                    ? sext32((uint32_t)x[in->rs1] % (uint32_t)x[in->rs2])
                    : sext32(x[in->rs1]);
            break;
        case OP_LR: {
            unsigned size = in->fmt ? 8 : 4;
            h->pc = pc;
            void *p = rv_amo_ptr(h, x[in->rs1], size, true);
            if (!p) {
                return i;
            }
            v = size == 8 ? *(uint64_t *)p : sext32(*(uint32_t *)p);
            h->res_addr = (uint64_t)(uintptr_t)p;
            h->res_valid = true;
            x[in->rd] = v;
            break;
        }
        case OP_SC: {
            unsigned size = in->fmt ? 8 : 4;
            h->pc = pc;
            void *p = rv_amo_ptr(h, x[in->rs1], size, false);
            if (!p) {
                return i;
            }
            if (h->res_valid && h->res_addr == (uint64_t)(uintptr_t)p) {
                if (size == 8) {
                    *(uint64_t *)p = x[in->rs2];
                } else {
                    *(uint32_t *)p = (uint32_t)x[in->rs2];
                }
                x[in->rd] = 0;
            } else {
                x[in->rd] = 1;
            }
            h->res_valid = false;
            break;
        }
        case OP_AMOSWAP:
        case OP_AMOADD:
        case OP_AMOXOR:
        case OP_AMOAND:
        case OP_AMOOR:
        case OP_AMOMIN:
        case OP_AMOMAX:
        case OP_AMOMINU:
        case OP_AMOMAXU: {
            unsigned size = in->fmt ? 8 : 4;
            h->pc = pc;
            void *p = rv_amo_ptr(h, x[in->rs1], size, false);
            if (!p) {
                return i;
            }
            if (size == 8) {
                uint64_t old = *(uint64_t *)p;
                *(uint64_t *)p = amo(in->op, old, x[in->rs2], true);
                x[in->rd] = old;
            } else {
                uint64_t old = *(uint32_t *)p;
                *(uint32_t *)p = (uint32_t)amo(in->op, old, x[in->rs2], false);
                x[in->rd] = sext32(old);
            }
            break;
        }
#define FP_ON()                                 \
    if (unlikely(!(h->mstatus & MSTATUS_FS))) { \
        goto illegal;                           \
    }
#define FP_RM()                   \
    if (!fp_rm(h, in->rm, &rm)) { \
        goto illegal;             \
    }
#define FP_DIRTY() h->mstatus |= MSTATUS_FS
        case OP_FLW:
        case OP_FLD: {
            unsigned size = in->op == OP_FLD ? 8 : 4;
            FP_ON();
            if (!ld(h, x[in->rs1] + (uint64_t)in->imm, size, &v, pc)) {
                return i;
            }
            f[in->rd] = size == 8 ? v : RV_NANBOX(v);
            FP_DIRTY();
            break;
        }
        case OP_FSW:
        case OP_FSD: {
            unsigned size = in->op == OP_FSD ? 8 : 4;
            FP_ON();
            if (!st(h, x[in->rs1] + (uint64_t)in->imm, size, f[in->rs2], pc)) {
                return i;
            }
            break;
        }
        case OP_FOP:
            FP_ON();
            rm = 0;
            if (in->sub <= RV_FDIV) {
                FP_RM();
            }
            f[in->rd] = rv_fpu_op(in->fmt, in->sub, f[in->rs1], f[in->rs2], rm,
                                  &h->fflags);
            FP_DIRTY();
            break;
        case OP_FMA:
            FP_ON();
            FP_RM();
            f[in->rd] = rv_fpu_fma(in->fmt, in->sub, f[in->rs1], f[in->rs2],
                                   f[in->rs3], rm, &h->fflags);
            FP_DIRTY();
            break;
        case OP_FSQRT:
            FP_ON();
            FP_RM();
            f[in->rd] = rv_fpu_sqrt(in->fmt, f[in->rs1], rm, &h->fflags);
            FP_DIRTY();
            break;
        case OP_FCMP:
            FP_ON();
            x[in->rd] = rv_fpu_cmp(in->fmt, in->sub, f[in->rs1], f[in->rs2],
                                   &h->fflags);
            FP_DIRTY();
            break;
        case OP_FCLASS:
            FP_ON();
            x[in->rd] = rv_fpu_class(in->fmt, f[in->rs1]);
            break;
        case OP_FCVT_I_F:
            FP_ON();
            FP_RM();
            x[in->rd] =
                rv_fpu_to_int(in->fmt, in->sub, f[in->rs1], rm, &h->fflags);
            FP_DIRTY();
            break;
        case OP_FCVT_F_I:
            FP_ON();
            FP_RM();
            f[in->rd] =
                rv_fpu_from_int(in->fmt, in->sub, x[in->rs1], rm, &h->fflags);
            FP_DIRTY();
            break;
        case OP_FCVT_F_F:
            FP_ON();
            FP_RM();
            f[in->rd] = rv_fpu_cvt_fmt(in->fmt, f[in->rs1], rm, &h->fflags);
            FP_DIRTY();
            break;
        case OP_FMV_X_W:
            FP_ON();
            x[in->rd] = sext32(f[in->rs1]);
            break;
        case OP_FMV_W_X:
            FP_ON();
            f[in->rd] = RV_NANBOX(x[in->rs1]);
            FP_DIRTY();
            break;
        case OP_FMV_X_D:
            FP_ON();
            x[in->rd] = f[in->rs1];
            break;
        case OP_FMV_D_X:
            FP_ON();
            f[in->rd] = x[in->rs1];
            FP_DIRTY();
            break;
#undef FP_ON
#undef FP_RM
#undef FP_DIRTY
        case OP_SH1ADD:
            x[in->rd] = (x[in->rs1] << 1) + x[in->rs2];
            break;
        case OP_SH2ADD:
            x[in->rd] = (x[in->rs1] << 2) + x[in->rs2];
            break;
        case OP_SH3ADD:
            x[in->rd] = (x[in->rs1] << 3) + x[in->rs2];
            break;
        case OP_ADD_UW:
            x[in->rd] = (uint32_t)x[in->rs1] + x[in->rs2];
            break;
        case OP_SH1ADD_UW:
            x[in->rd] = ((uint64_t)(uint32_t)x[in->rs1] << 1) + x[in->rs2];
            break;
        case OP_SH2ADD_UW:
            x[in->rd] = ((uint64_t)(uint32_t)x[in->rs1] << 2) + x[in->rs2];
            break;
        case OP_SH3ADD_UW:
            x[in->rd] = ((uint64_t)(uint32_t)x[in->rs1] << 3) + x[in->rs2];
            break;
        case OP_SLLI_UW:
            x[in->rd] = (uint64_t)(uint32_t)x[in->rs1] << in->imm;
            break;
        case OP_ANDN:
            x[in->rd] = x[in->rs1] & ~x[in->rs2];
            break;
        case OP_ORN:
            x[in->rd] = x[in->rs1] | ~x[in->rs2];
            break;
        case OP_XNOR:
            x[in->rd] = ~(x[in->rs1] ^ x[in->rs2]);
            break;
        case OP_CLZ:
            v = x[in->rs1];
            x[in->rd] = v ? (uint64_t)__builtin_clzll(v) : 64;
            break;
        case OP_CLZW:
            v = (uint32_t)x[in->rs1];
            x[in->rd] = v ? (uint64_t)__builtin_clz((uint32_t)v) : 32;
            break;
        case OP_CTZ:
            v = x[in->rs1];
            x[in->rd] = v ? (uint64_t)__builtin_ctzll(v) : 64;
            break;
        case OP_CTZW:
            v = (uint32_t)x[in->rs1];
            x[in->rd] = v ? (uint64_t)__builtin_ctz((uint32_t)v) : 32;
            break;
        case OP_CPOP:
            x[in->rd] = (uint64_t)__builtin_popcountll(x[in->rs1]);
            break;
        case OP_CPOPW:
            x[in->rd] = (uint64_t)__builtin_popcount((uint32_t)x[in->rs1]);
            break;
        case OP_MAX:
            x[in->rd] = (int64_t)x[in->rs1] > (int64_t)x[in->rs2] ? x[in->rs1]
                                                                  : x[in->rs2];
            break;
        case OP_MAXU:
            x[in->rd] = x[in->rs1] > x[in->rs2] ? x[in->rs1] : x[in->rs2];
            break;
        case OP_MIN:
            x[in->rd] = (int64_t)x[in->rs1] < (int64_t)x[in->rs2] ? x[in->rs1]
                                                                  : x[in->rs2];
            break;
        case OP_MINU:
            x[in->rd] = x[in->rs1] < x[in->rs2] ? x[in->rs1] : x[in->rs2];
            break;
        case OP_SEXT_B:
            x[in->rd] = (uint64_t)(int64_t)(int8_t)x[in->rs1];
            break;
        case OP_SEXT_H:
            x[in->rd] = (uint64_t)(int64_t)(int16_t)x[in->rs1];
            break;
        case OP_ZEXT_H:
            x[in->rd] = (uint16_t)x[in->rs1];
            break;
        case OP_ROL:
            x[in->rd] = rol64(x[in->rs1], (unsigned)x[in->rs2]);
            break;
        case OP_ROLW:
            x[in->rd] = rol32(x[in->rs1], (unsigned)x[in->rs2]);
            break;
        case OP_ROR:
            x[in->rd] = ror64(x[in->rs1], (unsigned)x[in->rs2]);
            break;
        case OP_RORI:
            x[in->rd] = ror64(x[in->rs1], (unsigned)in->imm);
            break;
        case OP_RORIW:
            x[in->rd] = ror32(x[in->rs1], (unsigned)in->imm);
            break;
        case OP_RORW:
            x[in->rd] = ror32(x[in->rs1], (unsigned)x[in->rs2]);
            break;
        case OP_ORC_B:
            x[in->rd] = orc_b(x[in->rs1]);
            break;
        case OP_REV8:
            x[in->rd] = __builtin_bswap64(x[in->rs1]);
            break;
        case OP_BCLR:
            x[in->rd] = x[in->rs1] & ~(1ull << (x[in->rs2] & 63));
            break;
        case OP_BCLRI:
            x[in->rd] = x[in->rs1] & ~(1ull << in->imm);
            break;
        case OP_BEXT:
            x[in->rd] = (x[in->rs1] >> (x[in->rs2] & 63)) & 1;
            break;
        case OP_BEXTI:
            x[in->rd] = (x[in->rs1] >> in->imm) & 1;
            break;
        case OP_BINV:
            x[in->rd] = x[in->rs1] ^ (1ull << (x[in->rs2] & 63));
            break;
        case OP_BINVI:
            x[in->rd] = x[in->rs1] ^ (1ull << in->imm);
            break;
        case OP_BSET:
            x[in->rd] = x[in->rs1] | (1ull << (x[in->rs2] & 63));
            break;
        case OP_BSETI:
            x[in->rd] = x[in->rs1] | (1ull << in->imm);
            break;
        case OP_CBO_CLEAN:
        case OP_CBO_FLUSH:
            if (!cbo_allowed(h, MENVCFG_CBCFE)) {
                goto illegal;
            }
            h->pc = pc;
            if (!rv_cbo_probe(h, x[in->rs1])) {
                return i;
            }
            break;
        case OP_CBO_INVAL:
            if (!cbo_allowed(h, MENVCFG_CBIE)) {
                goto illegal;
            }
            h->pc = pc;
            if (!rv_cbo_probe(h, x[in->rs1])) {
                return i;
            }
            break;
        case OP_CBO_ZERO:
            if (!cbo_allowed(h, MENVCFG_CBZE)) {
                goto illegal;
            }
            h->pc = pc;
            if (!rv_cbo_zero(h, x[in->rs1])) {
                return i;
            }
            break;
        case OP_ILLEGAL:
        case OP_NUM:
        default:
            goto illegal;
        }
        x[0] = 0;
        pc += in->len;
        continue;
illegal:
        h->pc = pc;
        rv_raise(h, RV_EXC_ILLEGAL, in->raw);
        return i;
    }
    h->pc = pc;
    return i;
}

/*
 * Run the single instruction at h->pc alone, without the block cache: one
 * whose 32 bits straddle a page boundary (each half fetched through its
 * own translation), or every instruction when -d cpu traces execution.
 */
static unsigned exec_single(struct rv_hart *h, const uint8_t *lo_host,
                            uint64_t room)
{
    _Alignas(16) uint8_t buf[sizeof(struct rv_block) + sizeof(struct rv_insn)];
    struct rv_block *b = (struct rv_block *)buf;
    uint64_t pc = h->pc;
    uint32_t raw = (uint32_t)lo_host[0] | ((uint32_t)lo_host[1] << 8);
    unsigned n;

    if ((raw & 3) == 3) {
        const uint8_t *hi_host = lo_host + 2;
        if (room < 4) {
            uint64_t pa, hi_room;
            /* a fault here reports the second half's address in tval */
            if (!rv_translate_fetch(h, pc + 2, &pa, &hi_host, &hi_room)) {
                return 0;
            }
        }
        raw |= ((uint32_t)hi_host[0] << 16) | ((uint32_t)hi_host[1] << 24);
    }
    rv_decode(raw, &b->insn[0]);
    b->n = 1;
    b->bytes = b->insn[0].len;
    b->key = 0;
    n = exec_block(h, b);
    if (log_mask & LOG_CPU) {
        unsigned rd = b->insn[0].rd;
        log_msg("cpu: hart %u priv %u pc 0x%016llx insn 0x%08x x%u=0x%llx%s",
                (unsigned)h->hartid, h->priv, (unsigned long long)pc, raw, rd,
                (unsigned long long)h->x[rd], n ? "" : " (trap)");
    }
    return n;
}

/*
 * Run blocks until the budget is spent, the hart waits for an interrupt or
 * the CPU is kicked. Two shortcuts keep the per-block cost low:
 *  - interrupts are only looked at on entry and after a block that trapped
 *    or ended in a system instruction, the only things on this thread that
 *    change what is pending and enabled (devices kick, which ends the
 *    slice; timers are updated between slices);
 *  - a block that ran to its end without a system instruction has not
 *    changed translation or privilege, so a successor in the same virtual
 *    page lies in the same host page, and is found through the block's
 *    successor links instead of the TLB and the block-cache table.
 */
void rv_exec_slice(struct rv_hart *h, uint64_t budget)
{
    struct rv_cpu *cpu = h->cpu;
    uint64_t done = 0;
    bool check_irq = true;
    struct rv_block *prev = NULL;
    uint64_t prev_pc = 0, prev_epoch = 0;

    while (done < budget && !h->wfi) {
        if (unlikely(check_irq)) {
            check_irq = false;
            if (rv_pending_irqs(h) && rv_check_interrupts(h)) {
                prev = NULL;
                check_irq = true;
                continue;
            }
        }
        uint64_t pc = h->pc;
        struct rv_block *b = NULL;
        unsigned n;

        if (prev && ((pc ^ prev_pc) & RV_PAGE_MASK) == 0 &&
            prev_epoch == cpu->arena_epoch) {
            uint64_t key = prev->key - (prev_pc & (RV_PAGE_SIZE - 1)) +
                           (pc & (RV_PAGE_SIZE - 1));
            unsigned slot = pc != prev_pc + prev->bytes;
            b = prev->succ[slot];
            if (unlikely(!b || b->key != key || b->gen != cpu->code_gen)) {
                b = rv_block_get(cpu, key, (const uint8_t *)(uintptr_t)key,
                                 RV_PAGE_SIZE - (pc & (RV_PAGE_SIZE - 1)));
                if (b && prev_epoch == cpu->arena_epoch) {
                    prev->succ[slot] = b;
                }
            }
        }
        if (!b) {
            const struct rv_tlb_entry *e =
                &h->tlb[RV_ACC_FETCH]
                       [(pc >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];
            const uint8_t *host;
            uint64_t room;
            if (likely(e->tag == rv_tlb_tag(pc, h->priv))) {
                host = (const uint8_t *)(e->addend + (uintptr_t)pc);
                room = RV_PAGE_SIZE - (pc & (RV_PAGE_SIZE - 1));
            } else {
                uint64_t pa;
                if (!rv_translate_fetch(h, pc, &pa, &host, &room)) {
                    prev = NULL;
                    check_irq = true;
                    continue;
                }
            }
            if (unlikely(log_mask & (LOG_EXEC | LOG_CPU))) {
                log_msg("exec: hart %u pc 0x%llx priv %u", (unsigned)h->hartid,
                        (unsigned long long)pc, h->priv);
            }
            if (likely(!(log_mask & LOG_CPU))) {
                b = rv_block_get(cpu, (uint64_t)(uintptr_t)host, host, room);
            }
            if (unlikely(!b)) {
                n = exec_single(h, host, room);
                h->instret += n;
                done += n + 1;
                prev = NULL;
                check_irq = true;
                continue;
            }
        }
        n = exec_block(h, b);
        h->instret += n;
        done += n + 1;
        if (likely(n == b->n && !b->ends_system)) {
            prev = b;
            prev_pc = pc;
            prev_epoch = cpu->arena_epoch;
        } else {
            prev = NULL;
            check_irq = true;
        }
        if (unlikely(
                atomic_load_explicit(&cpu->kicked, memory_order_relaxed))) {
            break;
        }
    }
}
