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

/* User mode (rv.h): the AMO as one host atomic operation, since other
 * guest threads run concurrently. Returns the old value, sign-extended. */
static uint64_t amo_atomic(unsigned op, void *p, uint64_t src, bool dw)
{
    if (dw) {
        uint64_t *q = p;
        switch (op) {
        case OP_AMOSWAP:
            return __atomic_exchange_n(q, src, __ATOMIC_SEQ_CST);
        case OP_AMOADD:
            return __atomic_fetch_add(q, src, __ATOMIC_SEQ_CST);
        case OP_AMOXOR:
            return __atomic_fetch_xor(q, src, __ATOMIC_SEQ_CST);
        case OP_AMOAND:
            return __atomic_fetch_and(q, src, __ATOMIC_SEQ_CST);
        case OP_AMOOR:
            return __atomic_fetch_or(q, src, __ATOMIC_SEQ_CST);
        default: {
            uint64_t old = __atomic_load_n(q, __ATOMIC_RELAXED);
            while (!__atomic_compare_exchange_n(q, &old, amo(op, old, src, dw),
                                                true, __ATOMIC_SEQ_CST,
                                                __ATOMIC_RELAXED)) {
            }
            return old;
        }
        }
    }
    uint32_t *q = p, s = (uint32_t)src, old;
    switch (op) {
    case OP_AMOSWAP:
        return sext32(__atomic_exchange_n(q, s, __ATOMIC_SEQ_CST));
    case OP_AMOADD:
        return sext32(__atomic_fetch_add(q, s, __ATOMIC_SEQ_CST));
    case OP_AMOXOR:
        return sext32(__atomic_fetch_xor(q, s, __ATOMIC_SEQ_CST));
    case OP_AMOAND:
        return sext32(__atomic_fetch_and(q, s, __ATOMIC_SEQ_CST));
    case OP_AMOOR:
        return sext32(__atomic_fetch_or(q, s, __ATOMIC_SEQ_CST));
    default:
        old = __atomic_load_n(q, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(
            q, &old, (uint32_t)amo(op, old, src, dw), true, __ATOMIC_SEQ_CST,
            __ATOMIC_RELAXED)) {
        }
        return sext32(old);
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

/* How exec_run stopped: the last block, its start, and whether it ran to
 * its end without a system instruction (so its successor may be linked). */
struct run_end {
    const struct rv_block *block;
    uint64_t pc;
    bool clean;
};

/*
 * Execute block b starting at h->pc. Returns the number of instructions
 * retired. On a trap, h->pc already points at the handler. Dispatch is
 * threaded (computed goto): each handler jumps straight to the next
 * instruction's, and the block's OP_BLOCK_END sentinel ends the run.
 */
static unsigned exec_run(struct rv_hart *h, const struct rv_block *b,
                         uint64_t budget, struct run_end *end)
{
    static const void *const labels[OP_NUM] = {
        [OP_ILLEGAL] = &&L_OP_ILLEGAL,
        [OP_LUI] = &&L_OP_LUI,
        [OP_AUIPC] = &&L_OP_AUIPC,
        [OP_JAL] = &&L_OP_JAL,
        [OP_JALR] = &&L_OP_JALR,
        [OP_BEQ] = &&L_OP_BEQ,
        [OP_BNE] = &&L_OP_BNE,
        [OP_BLT] = &&L_OP_BLT,
        [OP_BGE] = &&L_OP_BGE,
        [OP_BLTU] = &&L_OP_BLTU,
        [OP_BGEU] = &&L_OP_BGEU,
        [OP_LB] = &&L_OP_LB,
        [OP_LH] = &&L_OP_LH,
        [OP_LW] = &&L_OP_LW,
        [OP_LD] = &&L_OP_LD,
        [OP_LBU] = &&L_OP_LBU,
        [OP_LHU] = &&L_OP_LHU,
        [OP_LWU] = &&L_OP_LWU,
        [OP_SB] = &&L_OP_SB,
        [OP_SH] = &&L_OP_SH,
        [OP_SW] = &&L_OP_SW,
        [OP_SD] = &&L_OP_SD,
        [OP_ADDI] = &&L_OP_ADDI,
        [OP_SLTI] = &&L_OP_SLTI,
        [OP_SLTIU] = &&L_OP_SLTIU,
        [OP_XORI] = &&L_OP_XORI,
        [OP_ORI] = &&L_OP_ORI,
        [OP_ANDI] = &&L_OP_ANDI,
        [OP_SLLI] = &&L_OP_SLLI,
        [OP_SRLI] = &&L_OP_SRLI,
        [OP_SRAI] = &&L_OP_SRAI,
        [OP_ADD] = &&L_OP_ADD,
        [OP_SUB] = &&L_OP_SUB,
        [OP_SLL] = &&L_OP_SLL,
        [OP_SLT] = &&L_OP_SLT,
        [OP_SLTU] = &&L_OP_SLTU,
        [OP_XOR] = &&L_OP_XOR,
        [OP_SRL] = &&L_OP_SRL,
        [OP_SRA] = &&L_OP_SRA,
        [OP_OR] = &&L_OP_OR,
        [OP_AND] = &&L_OP_AND,
        [OP_ADDIW] = &&L_OP_ADDIW,
        [OP_SLLIW] = &&L_OP_SLLIW,
        [OP_SRLIW] = &&L_OP_SRLIW,
        [OP_SRAIW] = &&L_OP_SRAIW,
        [OP_ADDW] = &&L_OP_ADDW,
        [OP_SUBW] = &&L_OP_SUBW,
        [OP_SLLW] = &&L_OP_SLLW,
        [OP_SRLW] = &&L_OP_SRLW,
        [OP_SRAW] = &&L_OP_SRAW,
        [OP_FENCE] = &&L_OP_FENCE,
        [OP_FENCE_I] = &&L_OP_FENCE_I,
        [OP_PAUSE] = &&L_OP_PAUSE,
        [OP_ECALL] = &&L_OP_ECALL,
        [OP_EBREAK] = &&L_OP_EBREAK,
        [OP_MRET] = &&L_OP_MRET,
        [OP_SRET] = &&L_OP_SRET,
        [OP_WFI] = &&L_OP_WFI,
        [OP_SFENCE_VMA] = &&L_OP_SFENCE_VMA,
        [OP_CSRRW] = &&L_OP_CSRRW,
        [OP_CSRRS] = &&L_OP_CSRRS,
        [OP_CSRRC] = &&L_OP_CSRRC,
        [OP_CSRRWI] = &&L_OP_CSRRWI,
        [OP_CSRRSI] = &&L_OP_CSRRSI,
        [OP_CSRRCI] = &&L_OP_CSRRCI,
        [OP_MUL] = &&L_OP_MUL,
        [OP_MULH] = &&L_OP_MULH,
        [OP_MULHSU] = &&L_OP_MULHSU,
        [OP_MULHU] = &&L_OP_MULHU,
        [OP_DIV] = &&L_OP_DIV,
        [OP_DIVU] = &&L_OP_DIVU,
        [OP_REM] = &&L_OP_REM,
        [OP_REMU] = &&L_OP_REMU,
        [OP_MULW] = &&L_OP_MULW,
        [OP_DIVW] = &&L_OP_DIVW,
        [OP_DIVUW] = &&L_OP_DIVUW,
        [OP_REMW] = &&L_OP_REMW,
        [OP_REMUW] = &&L_OP_REMUW,
        [OP_LR] = &&L_OP_LR,
        [OP_SC] = &&L_OP_SC,
        [OP_AMOSWAP] = &&L_OP_AMOSWAP,
        [OP_AMOADD] = &&L_OP_AMOADD,
        [OP_AMOXOR] = &&L_OP_AMOXOR,
        [OP_AMOAND] = &&L_OP_AMOAND,
        [OP_AMOOR] = &&L_OP_AMOOR,
        [OP_AMOMIN] = &&L_OP_AMOMIN,
        [OP_AMOMAX] = &&L_OP_AMOMAX,
        [OP_AMOMINU] = &&L_OP_AMOMINU,
        [OP_AMOMAXU] = &&L_OP_AMOMAXU,
        [OP_FLW] = &&L_OP_FLW,
        [OP_FLD] = &&L_OP_FLD,
        [OP_FSW] = &&L_OP_FSW,
        [OP_FSD] = &&L_OP_FSD,
        [OP_FOP] = &&L_OP_FOP,
        [OP_FMA] = &&L_OP_FMA,
        [OP_FSQRT] = &&L_OP_FSQRT,
        [OP_FCMP] = &&L_OP_FCMP,
        [OP_FCLASS] = &&L_OP_FCLASS,
        [OP_FCVT_I_F] = &&L_OP_FCVT_I_F,
        [OP_FCVT_F_I] = &&L_OP_FCVT_F_I,
        [OP_FCVT_F_F] = &&L_OP_FCVT_F_F,
        [OP_FMV_X_W] = &&L_OP_FMV_X_W,
        [OP_FMV_W_X] = &&L_OP_FMV_W_X,
        [OP_FMV_X_D] = &&L_OP_FMV_X_D,
        [OP_FMV_D_X] = &&L_OP_FMV_D_X,
        [OP_SH1ADD] = &&L_OP_SH1ADD,
        [OP_SH2ADD] = &&L_OP_SH2ADD,
        [OP_SH3ADD] = &&L_OP_SH3ADD,
        [OP_ADD_UW] = &&L_OP_ADD_UW,
        [OP_SH1ADD_UW] = &&L_OP_SH1ADD_UW,
        [OP_SH2ADD_UW] = &&L_OP_SH2ADD_UW,
        [OP_SH3ADD_UW] = &&L_OP_SH3ADD_UW,
        [OP_SLLI_UW] = &&L_OP_SLLI_UW,
        [OP_ANDN] = &&L_OP_ANDN,
        [OP_ORN] = &&L_OP_ORN,
        [OP_XNOR] = &&L_OP_XNOR,
        [OP_CLZ] = &&L_OP_CLZ,
        [OP_CLZW] = &&L_OP_CLZW,
        [OP_CTZ] = &&L_OP_CTZ,
        [OP_CTZW] = &&L_OP_CTZW,
        [OP_CPOP] = &&L_OP_CPOP,
        [OP_CPOPW] = &&L_OP_CPOPW,
        [OP_MAX] = &&L_OP_MAX,
        [OP_MAXU] = &&L_OP_MAXU,
        [OP_MIN] = &&L_OP_MIN,
        [OP_MINU] = &&L_OP_MINU,
        [OP_SEXT_B] = &&L_OP_SEXT_B,
        [OP_SEXT_H] = &&L_OP_SEXT_H,
        [OP_ZEXT_H] = &&L_OP_ZEXT_H,
        [OP_ROL] = &&L_OP_ROL,
        [OP_ROLW] = &&L_OP_ROLW,
        [OP_ROR] = &&L_OP_ROR,
        [OP_RORI] = &&L_OP_RORI,
        [OP_RORIW] = &&L_OP_RORIW,
        [OP_RORW] = &&L_OP_RORW,
        [OP_ORC_B] = &&L_OP_ORC_B,
        [OP_REV8] = &&L_OP_REV8,
        [OP_BCLR] = &&L_OP_BCLR,
        [OP_BCLRI] = &&L_OP_BCLRI,
        [OP_BEXT] = &&L_OP_BEXT,
        [OP_BEXTI] = &&L_OP_BEXTI,
        [OP_BINV] = &&L_OP_BINV,
        [OP_BINVI] = &&L_OP_BINVI,
        [OP_BSET] = &&L_OP_BSET,
        [OP_BSETI] = &&L_OP_BSETI,
        [OP_CBO_CLEAN] = &&L_OP_CBO_CLEAN,
        [OP_CBO_FLUSH] = &&L_OP_CBO_FLUSH,
        [OP_CBO_INVAL] = &&L_OP_CBO_INVAL,
        [OP_CBO_ZERO] = &&L_OP_CBO_ZERO,
        [OP_BLOCK_END] = &&L_block_end,
    };
    struct rv_cpu *cpu = h->cpu;
    uint64_t *x = h->x;
    uint64_t *f = h->f;
    uint64_t pc = h->pc, bpc = pc;
    const struct rv_insn *in = b->insn;
    unsigned retired = 0;
    uint64_t v;
    unsigned rm;

#define IDX        ((unsigned)(in - b->insn))
#define DISPATCH() goto *labels[in->op]
/* Leave after a trap or a system instruction: k retired in this block. */
#define EXIT(k)               \
    do {                      \
        h->instret += (k);    \
        end->clean = false;   \
        return retired + (k); \
    } while (0)
/* The block ended at a branch, a jump or its sentinel with h->pc set: go
 * straight on to a linked successor in the same page while the budget
 * lasts and nobody kicked, else return so the caller looks it up. */
#define CHAIN(k)                                                         \
    do {                                                                 \
        unsigned k_ = (k);                                               \
        uint64_t npc = h->pc;                                            \
        h->instret += k_;                                                \
        retired += k_;                                                   \
        if (((npc ^ bpc) & RV_PAGE_MASK) == 0 && retired < budget &&     \
            !atomic_load_explicit(&cpu->kicked, memory_order_relaxed)) { \
            const struct rv_block *nb = b->succ[npc != bpc + b->bytes];  \
            if (nb &&                                                    \
                nb->key == b->key - (bpc & (RV_PAGE_SIZE - 1)) +         \
                               (npc & (RV_PAGE_SIZE - 1)) &&             \
                nb->gen == cpu->code_gen) {                              \
                b = nb;                                                  \
                bpc = pc = npc;                                          \
                in = b->insn;                                            \
                DISPATCH();                                              \
            }                                                            \
        }                                                                \
        end->block = b;                                                  \
        end->pc = bpc;                                                   \
        end->clean = !b->ends_system;                                    \
        return retired;                                                  \
    } while (0)
#define NEXT()         \
    do {               \
        x[0] = 0;      \
        pc += in->len; \
        in++;          \
        DISPATCH();    \
    } while (0)

    DISPATCH();
L_OP_LUI:
    x[in->rd] = (uint64_t)in->imm;
    NEXT();
L_OP_AUIPC:
    x[in->rd] = pc + (uint64_t)in->imm;
    NEXT();
L_OP_JAL:
    x[in->rd] = pc + in->len;
    x[0] = 0;
    h->pc = pc + (uint64_t)in->imm;
    CHAIN(IDX + 1);
L_OP_JALR:
    v = (x[in->rs1] + (uint64_t)in->imm) & ~1ull;
    x[in->rd] = pc + in->len;
    x[0] = 0;
    h->pc = v;
    CHAIN(IDX + 1);
#define BRANCH(cond)                                        \
    h->pc = (cond) ? pc + (uint64_t)in->imm : pc + in->len; \
    CHAIN(IDX + 1)
L_OP_BEQ:
    BRANCH(x[in->rs1] == x[in->rs2]);
L_OP_BNE:
    BRANCH(x[in->rs1] != x[in->rs2]);
L_OP_BLT:
    BRANCH((int64_t)x[in->rs1] < (int64_t)x[in->rs2]);
L_OP_BGE:
    BRANCH((int64_t)x[in->rs1] >= (int64_t)x[in->rs2]);
L_OP_BLTU:
    BRANCH(x[in->rs1] < x[in->rs2]);
L_OP_BGEU:
    BRANCH(x[in->rs1] >= x[in->rs2]);
#undef BRANCH
#define LOAD(size, conv)                                        \
    if (!ld(h, x[in->rs1] + (uint64_t)in->imm, size, &v, pc)) { \
        EXIT(IDX);                                              \
    }                                                           \
    x[in->rd] = conv;                                           \
    NEXT()
L_OP_LB:
    LOAD(1, (uint64_t)(int64_t)(int8_t)v);
L_OP_LH:
    LOAD(2, (uint64_t)(int64_t)(int16_t)v);
L_OP_LW:
    LOAD(4, sext32(v));
L_OP_LD:
    LOAD(8, v);
L_OP_LBU:
    LOAD(1, v);
L_OP_LHU:
    LOAD(2, v);
L_OP_LWU:
    LOAD(4, v);
#undef LOAD
#define STORE(size)                                                     \
    if (!st(h, x[in->rs1] + (uint64_t)in->imm, size, x[in->rs2], pc)) { \
        EXIT(IDX);                                                      \
    }                                                                   \
    NEXT()
L_OP_SB:
    STORE(1);
L_OP_SH:
    STORE(2);
L_OP_SW:
    STORE(4);
L_OP_SD:
    STORE(8);
#undef STORE
L_OP_ADDI:
    x[in->rd] = x[in->rs1] + (uint64_t)in->imm;
    NEXT();
L_OP_SLTI:
    x[in->rd] = (int64_t)x[in->rs1] < in->imm;
    NEXT();
L_OP_SLTIU:
    x[in->rd] = x[in->rs1] < (uint64_t)in->imm;
    NEXT();
L_OP_XORI:
    x[in->rd] = x[in->rs1] ^ (uint64_t)in->imm;
    NEXT();
L_OP_ORI:
    x[in->rd] = x[in->rs1] | (uint64_t)in->imm;
    NEXT();
L_OP_ANDI:
    x[in->rd] = x[in->rs1] & (uint64_t)in->imm;
    NEXT();
L_OP_SLLI:
    x[in->rd] = x[in->rs1] << in->imm;
    NEXT();
L_OP_SRLI:
    x[in->rd] = x[in->rs1] >> in->imm;
    NEXT();
L_OP_SRAI:
    x[in->rd] = (uint64_t)((int64_t)x[in->rs1] >> in->imm);
    NEXT();
L_OP_ADD:
    x[in->rd] = x[in->rs1] + x[in->rs2];
    NEXT();
L_OP_SUB:
    x[in->rd] = x[in->rs1] - x[in->rs2];
    NEXT();
L_OP_SLL:
    x[in->rd] = x[in->rs1] << (x[in->rs2] & 63);
    NEXT();
L_OP_SLT:
    x[in->rd] = (int64_t)x[in->rs1] < (int64_t)x[in->rs2];
    NEXT();
L_OP_SLTU:
    x[in->rd] = x[in->rs1] < x[in->rs2];
    NEXT();
L_OP_XOR:
    x[in->rd] = x[in->rs1] ^ x[in->rs2];
    NEXT();
L_OP_SRL:
    x[in->rd] = x[in->rs1] >> (x[in->rs2] & 63);
    NEXT();
L_OP_SRA:
    x[in->rd] = (uint64_t)((int64_t)x[in->rs1] >> (x[in->rs2] & 63));
    NEXT();
L_OP_OR:
    x[in->rd] = x[in->rs1] | x[in->rs2];
    NEXT();
L_OP_AND:
    x[in->rd] = x[in->rs1] & x[in->rs2];
    NEXT();
L_OP_ADDIW:
    x[in->rd] = sext32(x[in->rs1] + (uint64_t)in->imm);
    NEXT();
L_OP_SLLIW:
    x[in->rd] = sext32((uint32_t)x[in->rs1] << in->imm);
    NEXT();
L_OP_SRLIW:
    x[in->rd] = sext32((uint32_t)x[in->rs1] >> in->imm);
    NEXT();
L_OP_SRAIW:
    x[in->rd] = (uint64_t)(int64_t)((int32_t)x[in->rs1] >> in->imm);
    NEXT();
L_OP_ADDW:
    x[in->rd] = sext32(x[in->rs1] + x[in->rs2]);
    NEXT();
L_OP_SUBW:
    x[in->rd] = sext32(x[in->rs1] - x[in->rs2]);
    NEXT();
L_OP_SLLW:
    x[in->rd] = sext32((uint32_t)x[in->rs1] << (x[in->rs2] & 31));
    NEXT();
L_OP_SRLW:
    x[in->rd] = sext32((uint32_t)x[in->rs1] >> (x[in->rs2] & 31));
    NEXT();
L_OP_SRAW:
    x[in->rd] = (uint64_t)(int64_t)((int32_t)x[in->rs1] >> (x[in->rs2] & 31));
    NEXT();
L_OP_FENCE:
    NEXT();
L_OP_PAUSE:
    /* A hart spinning on a lock held by another hart gives up the rest of
     * its slice (harts share one thread, see cpu.c). */
    h->yielded = true;
    h->pc = pc + in->len;
    EXIT(IDX + 1);
L_OP_FENCE_I:
    rv_block_invalidate(h->cpu);
    h->pc = pc + in->len;
    EXIT(IDX + 1);
L_OP_ECALL:
    h->pc = pc;
    rv_raise(h,
             h->priv == RV_PRIV_M   ? RV_EXC_ECALL_M
             : h->priv == RV_PRIV_S ? RV_EXC_ECALL_S
                                    : RV_EXC_ECALL_U,
             0);
    EXIT(IDX);
L_OP_EBREAK:
    h->pc = pc;
    rv_raise(h, RV_EXC_BREAKPOINT, pc);
    EXIT(IDX);
L_OP_MRET:
    if (h->priv < RV_PRIV_M) {
        goto L_illegal;
    }
    rv_mret(h);
    EXIT(IDX + 1);
L_OP_SRET:
    if (h->priv < RV_PRIV_S ||
        (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TSR))) {
        goto L_illegal;
    }
    rv_sret(h);
    EXIT(IDX + 1);
L_OP_WFI:
    if (h->priv == RV_PRIV_U ||
        (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TW))) {
        goto L_illegal;
    }
    h->pc = pc + in->len;
    if (!rv_pending_irqs(h)) {
        h->wfi = true;
    }
    EXIT(IDX + 1);
L_OP_SFENCE_VMA:
    if (h->priv == RV_PRIV_U ||
        (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM))) {
        goto L_illegal;
    }
    rv_tlb_flush(h);
    h->pc = pc + in->len;
    EXIT(IDX + 1);
L_OP_CSRRW:
L_OP_CSRRS:
L_OP_CSRRC:
L_OP_CSRRWI:
L_OP_CSRRSI:
L_OP_CSRRCI : {
    unsigned kind = (in->op - OP_CSRRW) % 3 + 1;
    bool imm = in->op >= OP_CSRRWI;
    uint64_t src = imm ? in->rs1 : x[in->rs1];
    bool wr = kind == 1 || in->rs1 != 0;
    h->pc = pc;
    h->instret += IDX; /* counters read here see earlier retirements */
    if (!rv_csr_op(h, (unsigned)in->imm, kind, src, wr, in->rd != 0, &v,
                   in->raw)) {
        h->instret -= IDX;
        EXIT(IDX);
    }
    h->instret -= IDX;
    x[in->rd] = v;
    x[0] = 0;
    h->pc = pc + in->len;
    EXIT(IDX + 1);
}
L_OP_MUL:
    x[in->rd] = x[in->rs1] * x[in->rs2];
    NEXT();
L_OP_MULH:
    x[in->rd] = mulh((int64_t)x[in->rs1], (int64_t)x[in->rs2]);
    NEXT();
L_OP_MULHSU:
    x[in->rd] = mulhsu((int64_t)x[in->rs1], x[in->rs2]);
    NEXT();
L_OP_MULHU:
    x[in->rd] = mulhu(x[in->rs1], x[in->rs2]);
    NEXT();
L_OP_DIV:
    x[in->rd] = rdiv((int64_t)x[in->rs1], (int64_t)x[in->rs2]);
    NEXT();
L_OP_DIVU:
    x[in->rd] = x[in->rs2] ? x[in->rs1] / x[in->rs2] : UINT64_MAX;
    NEXT();
L_OP_REM:
    x[in->rd] = rrem((int64_t)x[in->rs1], (int64_t)x[in->rs2]);
    NEXT();
L_OP_REMU:
    x[in->rd] = x[in->rs2] ? x[in->rs1] % x[in->rs2] : x[in->rs1];
    NEXT();
L_OP_MULW:
    x[in->rd] = sext32(x[in->rs1] * x[in->rs2]);
    NEXT();
L_OP_DIVW:
    x[in->rd] = rdivw((int32_t)x[in->rs1], (int32_t)x[in->rs2]);
    NEXT();
L_OP_DIVUW:
    x[in->rd] = (uint32_t)x[in->rs2]
                    ? sext32((uint32_t)x[in->rs1] / (uint32_t)x[in->rs2])
                    : UINT64_MAX;
    NEXT();
L_OP_REMW:
    x[in->rd] = rremw((int32_t)x[in->rs1], (int32_t)x[in->rs2]);
    NEXT();
L_OP_REMUW:
    x[in->rd] = (uint32_t)x[in->rs2]
                    ? sext32((uint32_t)x[in->rs1] % (uint32_t)x[in->rs2])
                    : sext32(x[in->rs1]);
    NEXT();
L_OP_LR : {
    unsigned size = in->fmt ? 8 : 4;
    h->pc = pc;
    void *p = rv_amo_ptr(h, x[in->rs1], size, true);
    if (!p) {
        EXIT(IDX);
    }
    if (unlikely(cpu->user)) {
        /* Other guest threads run on other host threads: SC becomes a
         * compare-and-swap against the value LR read. */
        v = size == 8 ? __atomic_load_n((uint64_t *)p, __ATOMIC_ACQUIRE)
                      : __atomic_load_n((uint32_t *)p, __ATOMIC_ACQUIRE);
        h->res_val = v;
        if (size == 4) {
            v = sext32(v);
        }
    } else {
        v = size == 8 ? *(uint64_t *)p : sext32(*(uint32_t *)p);
    }
    h->res_addr = (uint64_t)(uintptr_t)p;
    h->res_valid = true;
    x[in->rd] = v;
    NEXT();
}
L_OP_SC : {
    unsigned size = in->fmt ? 8 : 4;
    h->pc = pc;
    void *p = rv_amo_ptr(h, x[in->rs1], size, false);
    if (!p) {
        EXIT(IDX);
    }
    if (unlikely(cpu->user)) {
        bool ok = false;
        if (h->res_valid && h->res_addr == (uint64_t)(uintptr_t)p) {
            if (size == 8) {
                uint64_t e = h->res_val;
                ok = __atomic_compare_exchange_n((uint64_t *)p, &e, x[in->rs2],
                                                 false, __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST);
            } else {
                uint32_t e = (uint32_t)h->res_val;
                ok = __atomic_compare_exchange_n(
                    (uint32_t *)p, &e, (uint32_t)x[in->rs2], false,
                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            }
        }
        x[in->rd] = !ok;
    } else if (h->res_valid && h->res_addr == (uint64_t)(uintptr_t)p) {
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
    NEXT();
}
L_OP_AMOSWAP:
L_OP_AMOADD:
L_OP_AMOXOR:
L_OP_AMOAND:
L_OP_AMOOR:
L_OP_AMOMIN:
L_OP_AMOMAX:
L_OP_AMOMINU:
L_OP_AMOMAXU : {
    unsigned size = in->fmt ? 8 : 4;
    h->pc = pc;
    void *p = rv_amo_ptr(h, x[in->rs1], size, false);
    if (!p) {
        EXIT(IDX);
    }
    if (unlikely(cpu->user)) {
        x[in->rd] = amo_atomic(in->op, p, x[in->rs2], size == 8);
    } else if (size == 8) {
        uint64_t old = *(uint64_t *)p;
        *(uint64_t *)p = amo(in->op, old, x[in->rs2], true);
        x[in->rd] = old;
    } else {
        uint64_t old = *(uint32_t *)p;
        *(uint32_t *)p = (uint32_t)amo(in->op, old, x[in->rs2], false);
        x[in->rd] = sext32(old);
    }
    NEXT();
}
#define FP_ON()                                 \
    if (unlikely(!(h->mstatus & MSTATUS_FS))) { \
        goto L_illegal;                         \
    }
#define FP_RM()                   \
    if (!fp_rm(h, in->rm, &rm)) { \
        goto L_illegal;           \
    }
#define FP_DIRTY() h->mstatus |= MSTATUS_FS
L_OP_FLW:
L_OP_FLD : {
    unsigned size = in->op == OP_FLD ? 8 : 4;
    FP_ON();
    if (!ld(h, x[in->rs1] + (uint64_t)in->imm, size, &v, pc)) {
        EXIT(IDX);
    }
    f[in->rd] = size == 8 ? v : RV_NANBOX(v);
    FP_DIRTY();
    NEXT();
}
L_OP_FSW:
L_OP_FSD : {
    unsigned size = in->op == OP_FSD ? 8 : 4;
    FP_ON();
    if (!st(h, x[in->rs1] + (uint64_t)in->imm, size, f[in->rs2], pc)) {
        EXIT(IDX);
    }
    NEXT();
}
L_OP_FOP:
    FP_ON();
    rm = 0;
    if (in->sub <= RV_FDIV) {
        FP_RM();
    }
    f[in->rd] =
        rv_fpu_op(in->fmt, in->sub, f[in->rs1], f[in->rs2], rm, &h->fflags);
    FP_DIRTY();
    NEXT();
L_OP_FMA:
    FP_ON();
    FP_RM();
    f[in->rd] = rv_fpu_fma(in->fmt, in->sub, f[in->rs1], f[in->rs2], f[in->rs3],
                           rm, &h->fflags);
    FP_DIRTY();
    NEXT();
L_OP_FSQRT:
    FP_ON();
    FP_RM();
    f[in->rd] = rv_fpu_sqrt(in->fmt, f[in->rs1], rm, &h->fflags);
    FP_DIRTY();
    NEXT();
L_OP_FCMP:
    FP_ON();
    x[in->rd] =
        rv_fpu_cmp(in->fmt, in->sub, f[in->rs1], f[in->rs2], &h->fflags);
    FP_DIRTY();
    NEXT();
L_OP_FCLASS:
    FP_ON();
    x[in->rd] = rv_fpu_class(in->fmt, f[in->rs1]);
    NEXT();
L_OP_FCVT_I_F:
    FP_ON();
    FP_RM();
    x[in->rd] = rv_fpu_to_int(in->fmt, in->sub, f[in->rs1], rm, &h->fflags);
    FP_DIRTY();
    NEXT();
L_OP_FCVT_F_I:
    FP_ON();
    FP_RM();
    f[in->rd] = rv_fpu_from_int(in->fmt, in->sub, x[in->rs1], rm, &h->fflags);
    FP_DIRTY();
    NEXT();
L_OP_FCVT_F_F:
    FP_ON();
    FP_RM();
    f[in->rd] = rv_fpu_cvt_fmt(in->fmt, f[in->rs1], rm, &h->fflags);
    FP_DIRTY();
    NEXT();
L_OP_FMV_X_W:
    FP_ON();
    x[in->rd] = sext32(f[in->rs1]);
    NEXT();
L_OP_FMV_W_X:
    FP_ON();
    f[in->rd] = RV_NANBOX(x[in->rs1]);
    FP_DIRTY();
    NEXT();
L_OP_FMV_X_D:
    FP_ON();
    x[in->rd] = f[in->rs1];
    NEXT();
L_OP_FMV_D_X:
    FP_ON();
    f[in->rd] = x[in->rs1];
    FP_DIRTY();
    NEXT();
#undef FP_ON
#undef FP_RM
#undef FP_DIRTY
L_OP_SH1ADD:
    x[in->rd] = (x[in->rs1] << 1) + x[in->rs2];
    NEXT();
L_OP_SH2ADD:
    x[in->rd] = (x[in->rs1] << 2) + x[in->rs2];
    NEXT();
L_OP_SH3ADD:
    x[in->rd] = (x[in->rs1] << 3) + x[in->rs2];
    NEXT();
L_OP_ADD_UW:
    x[in->rd] = (uint32_t)x[in->rs1] + x[in->rs2];
    NEXT();
L_OP_SH1ADD_UW:
    x[in->rd] = ((uint64_t)(uint32_t)x[in->rs1] << 1) + x[in->rs2];
    NEXT();
L_OP_SH2ADD_UW:
    x[in->rd] = ((uint64_t)(uint32_t)x[in->rs1] << 2) + x[in->rs2];
    NEXT();
L_OP_SH3ADD_UW:
    x[in->rd] = ((uint64_t)(uint32_t)x[in->rs1] << 3) + x[in->rs2];
    NEXT();
L_OP_SLLI_UW:
    x[in->rd] = (uint64_t)(uint32_t)x[in->rs1] << in->imm;
    NEXT();
L_OP_ANDN:
    x[in->rd] = x[in->rs1] & ~x[in->rs2];
    NEXT();
L_OP_ORN:
    x[in->rd] = x[in->rs1] | ~x[in->rs2];
    NEXT();
L_OP_XNOR:
    x[in->rd] = ~(x[in->rs1] ^ x[in->rs2]);
    NEXT();
L_OP_CLZ:
    v = x[in->rs1];
    x[in->rd] = v ? (uint64_t)__builtin_clzll(v) : 64;
    NEXT();
L_OP_CLZW:
    v = (uint32_t)x[in->rs1];
    x[in->rd] = v ? (uint64_t)__builtin_clz((uint32_t)v) : 32;
    NEXT();
L_OP_CTZ:
    v = x[in->rs1];
    x[in->rd] = v ? (uint64_t)__builtin_ctzll(v) : 64;
    NEXT();
L_OP_CTZW:
    v = (uint32_t)x[in->rs1];
    x[in->rd] = v ? (uint64_t)__builtin_ctz((uint32_t)v) : 32;
    NEXT();
L_OP_CPOP:
    x[in->rd] = (uint64_t)__builtin_popcountll(x[in->rs1]);
    NEXT();
L_OP_CPOPW:
    x[in->rd] = (uint64_t)__builtin_popcount((uint32_t)x[in->rs1]);
    NEXT();
L_OP_MAX:
    x[in->rd] =
        (int64_t)x[in->rs1] > (int64_t)x[in->rs2] ? x[in->rs1] : x[in->rs2];
    NEXT();
L_OP_MAXU:
    x[in->rd] = x[in->rs1] > x[in->rs2] ? x[in->rs1] : x[in->rs2];
    NEXT();
L_OP_MIN:
    x[in->rd] =
        (int64_t)x[in->rs1] < (int64_t)x[in->rs2] ? x[in->rs1] : x[in->rs2];
    NEXT();
L_OP_MINU:
    x[in->rd] = x[in->rs1] < x[in->rs2] ? x[in->rs1] : x[in->rs2];
    NEXT();
L_OP_SEXT_B:
    x[in->rd] = (uint64_t)(int64_t)(int8_t)x[in->rs1];
    NEXT();
L_OP_SEXT_H:
    x[in->rd] = (uint64_t)(int64_t)(int16_t)x[in->rs1];
    NEXT();
L_OP_ZEXT_H:
    x[in->rd] = (uint16_t)x[in->rs1];
    NEXT();
L_OP_ROL:
    x[in->rd] = rol64(x[in->rs1], (unsigned)x[in->rs2]);
    NEXT();
L_OP_ROLW:
    x[in->rd] = rol32(x[in->rs1], (unsigned)x[in->rs2]);
    NEXT();
L_OP_ROR:
    x[in->rd] = ror64(x[in->rs1], (unsigned)x[in->rs2]);
    NEXT();
L_OP_RORI:
    x[in->rd] = ror64(x[in->rs1], (unsigned)in->imm);
    NEXT();
L_OP_RORIW:
    x[in->rd] = ror32(x[in->rs1], (unsigned)in->imm);
    NEXT();
L_OP_RORW:
    x[in->rd] = ror32(x[in->rs1], (unsigned)x[in->rs2]);
    NEXT();
L_OP_ORC_B:
    x[in->rd] = orc_b(x[in->rs1]);
    NEXT();
L_OP_REV8:
    x[in->rd] = __builtin_bswap64(x[in->rs1]);
    NEXT();
L_OP_BCLR:
    x[in->rd] = x[in->rs1] & ~(1ull << (x[in->rs2] & 63));
    NEXT();
L_OP_BCLRI:
    x[in->rd] = x[in->rs1] & ~(1ull << in->imm);
    NEXT();
L_OP_BEXT:
    x[in->rd] = (x[in->rs1] >> (x[in->rs2] & 63)) & 1;
    NEXT();
L_OP_BEXTI:
    x[in->rd] = (x[in->rs1] >> in->imm) & 1;
    NEXT();
L_OP_BINV:
    x[in->rd] = x[in->rs1] ^ (1ull << (x[in->rs2] & 63));
    NEXT();
L_OP_BINVI:
    x[in->rd] = x[in->rs1] ^ (1ull << in->imm);
    NEXT();
L_OP_BSET:
    x[in->rd] = x[in->rs1] | (1ull << (x[in->rs2] & 63));
    NEXT();
L_OP_BSETI:
    x[in->rd] = x[in->rs1] | (1ull << in->imm);
    NEXT();
L_OP_CBO_CLEAN:
L_OP_CBO_FLUSH:
L_OP_CBO_INVAL:
    if (!cbo_allowed(h,
                     in->op == OP_CBO_INVAL ? MENVCFG_CBIE : MENVCFG_CBCFE)) {
        goto L_illegal;
    }
    h->pc = pc;
    if (!rv_cbo_probe(h, x[in->rs1])) {
        EXIT(IDX);
    }
    NEXT();
L_OP_CBO_ZERO:
    if (!cbo_allowed(h, MENVCFG_CBZE)) {
        goto L_illegal;
    }
    h->pc = pc;
    if (!rv_cbo_zero(h, x[in->rs1])) {
        EXIT(IDX);
    }
    NEXT();

L_OP_ILLEGAL:
L_illegal:
    h->pc = pc;
    rv_raise(h, RV_EXC_ILLEGAL, in->raw);
    EXIT(IDX);
L_block_end:
    h->pc = pc;
    EXIT(IDX);
#undef IDX
#undef DISPATCH
#undef NEXT
}

/*
 * Run the single instruction at h->pc alone, without the block cache: one
 * whose 32 bits straddle a page boundary (each half fetched through its
 * own translation), or every instruction when -d cpu traces execution.
 */
static unsigned exec_single(struct rv_hart *h, const uint8_t *lo_host,
                            uint64_t room)
{
    _Alignas(16)
        uint8_t buf[sizeof(struct rv_block) + 2 * sizeof(struct rv_insn)];
    struct rv_block *b = (struct rv_block *)buf;
    uint64_t pc = h->pc;
    uint32_t raw = (uint32_t)lo_host[0] | ((uint32_t)lo_host[1] << 8);
    unsigned n;
    struct run_end end;

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
    memset(&b->insn[1], 0, sizeof(b->insn[1]));
    b->insn[1].op = OP_BLOCK_END;
    b->succ[0] = b->succ[1] = NULL;
    b->ends_system = true; /* never linked: it lives on this stack */
    b->n = 1;
    b->bytes = b->insn[0].len;
    b->key = 0;
    n = exec_run(h, b, 1, &end);
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

    h->yielded = false;
    while (done < budget && !h->wfi && !h->yielded) {
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
                    done++; /* the fault is work: a trap loop must end */
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
                done += n + 1;
                prev = NULL;
                check_irq = true;
                continue;
            }
        }
        struct run_end end;
        n = exec_run(h, b, budget - done, &end);
        done += n + 1;
        if (likely(end.clean)) {
            prev = (struct rv_block *)end.block;
            prev_pc = end.pc;
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
