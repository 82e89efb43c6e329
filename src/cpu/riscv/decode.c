/* SPDX-License-Identifier: MIT */
/*
 * Instruction decoding (RISC-V unprivileged spec, chapters RV32I/RV64I, M,
 * A, F, D, C, Zicsr, Zifencei, B (Zba, Zbb, Zbs), and Zicbom/Zicboz from the
 * CMO spec) into struct rv_insn, and the decoded-block cache. Compressed
 * instructions decode to the same operations as their 32-bit expansions.
 *
 * Blocks are keyed by physical address and end at a control transfer, a
 * system instruction, the end of a page, or RV_BLOCK_MAX instructions.
 * Instruction fetch is only required to see stores after a FENCE.I, which
 * OpenSBI and Linux issue whenever they write code (Linux does so tens of
 * thousands of times while booting, patching jump labels). So a FENCE.I
 * (any hart) starts a new code generation in O(1), and a block of an older
 * generation is revalidated by comparing its instruction bits with memory
 * before it runs again; only changed code is decoded again.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/riscv/fpu.h"
#include "cpu/riscv/hart.h"
#include "cpu/riscv/ops.h"

static inline int64_t sext(uint64_t v, unsigned bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

static inline uint32_t bits(uint32_t v, unsigned hi, unsigned lo)
{
    return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static void set(struct rv_insn *d, unsigned op, unsigned rd, unsigned rs1,
                unsigned rs2, int64_t imm)
{
    d->op = (uint8_t)op;
    d->rd = (uint8_t)rd;
    d->rs1 = (uint8_t)rs1;
    d->rs2 = (uint8_t)rs2;
    d->imm = (int32_t)imm;
}

static void decode_op_imm(uint32_t raw, struct rv_insn *d)
{
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned f3 = bits(raw, 14, 12), f6 = raw >> 26;
    int64_t imm = (int32_t)raw >> 20;
    unsigned imm12 = raw >> 20, shamt = bits(raw, 25, 20);
    static const uint16_t plain[8] = { OP_ADDI, 0, OP_SLTI, OP_SLTIU,
                                       OP_XORI, 0, OP_ORI,  OP_ANDI };

    if (f3 != 1 && f3 != 5) {
        set(d, plain[f3], rd, rs1, 0, imm);
        return;
    }
    if (f3 == 1) {
        if (f6 == 0x00) {
            set(d, OP_SLLI, rd, rs1, 0, shamt);
        } else if (f6 == 0x0a) {
            set(d, OP_BSETI, rd, rs1, 0, shamt);
        } else if (f6 == 0x12) {
            set(d, OP_BCLRI, rd, rs1, 0, shamt);
        } else if (f6 == 0x1a) {
            set(d, OP_BINVI, rd, rs1, 0, shamt);
        } else if (imm12 == 0x600) {
            set(d, OP_CLZ, rd, rs1, 0, 0);
        } else if (imm12 == 0x601) {
            set(d, OP_CTZ, rd, rs1, 0, 0);
        } else if (imm12 == 0x602) {
            set(d, OP_CPOP, rd, rs1, 0, 0);
        } else if (imm12 == 0x604) {
            set(d, OP_SEXT_B, rd, rs1, 0, 0);
        } else if (imm12 == 0x605) {
            set(d, OP_SEXT_H, rd, rs1, 0, 0);
        }
        return;
    }
    if (f6 == 0x00) {
        set(d, OP_SRLI, rd, rs1, 0, shamt);
    } else if (f6 == 0x10) {
        set(d, OP_SRAI, rd, rs1, 0, shamt);
    } else if (f6 == 0x12) {
        set(d, OP_BEXTI, rd, rs1, 0, shamt);
    } else if (f6 == 0x18) {
        set(d, OP_RORI, rd, rs1, 0, shamt);
    } else if (imm12 == 0x287) {
        set(d, OP_ORC_B, rd, rs1, 0, 0);
    } else if (imm12 == 0x6b8) {
        set(d, OP_REV8, rd, rs1, 0, 0);
    }
}

static void decode_op_imm32(uint32_t raw, struct rv_insn *d)
{
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned f3 = bits(raw, 14, 12), f7 = raw >> 25;
    unsigned sh5 = bits(raw, 24, 20);

    if (f3 == 0) {
        set(d, OP_ADDIW, rd, rs1, 0, (int32_t)raw >> 20);
    } else if (f3 == 1) {
        if (f7 == 0) {
            set(d, OP_SLLIW, rd, rs1, 0, sh5);
        } else if ((raw >> 26) == 0x02) {
            set(d, OP_SLLI_UW, rd, rs1, 0, bits(raw, 25, 20));
        } else if (f7 == 0x30 && sh5 == 0) {
            set(d, OP_CLZW, rd, rs1, 0, 0);
        } else if (f7 == 0x30 && sh5 == 1) {
            set(d, OP_CTZW, rd, rs1, 0, 0);
        } else if (f7 == 0x30 && sh5 == 2) {
            set(d, OP_CPOPW, rd, rs1, 0, 0);
        }
    } else if (f3 == 5) {
        if (f7 == 0) {
            set(d, OP_SRLIW, rd, rs1, 0, sh5);
        } else if (f7 == 0x20) {
            set(d, OP_SRAIW, rd, rs1, 0, sh5);
        } else if (f7 == 0x30) {
            set(d, OP_RORIW, rd, rs1, 0, sh5);
        }
    }
}

static void decode_op(uint32_t raw, struct rv_insn *d)
{
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned rs2 = bits(raw, 24, 20), f3 = bits(raw, 14, 12), f7 = raw >> 25;
    unsigned op = OP_ILLEGAL;
    static const uint16_t base[8] = { OP_ADD, OP_SLL, OP_SLT, OP_SLTU,
                                      OP_XOR, OP_SRL, OP_OR,  OP_AND };
    static const uint16_t mul[8] = { OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU,
                                     OP_DIV, OP_DIVU, OP_REM,    OP_REMU };

    switch (f7) {
    case 0x00:
        op = base[f3];
        break;
    case 0x01:
        op = mul[f3];
        break;
    case 0x20:
        op = f3 == 0   ? OP_SUB
             : f3 == 5 ? OP_SRA
             : f3 == 4 ? OP_XNOR
             : f3 == 6 ? OP_ORN
             : f3 == 7 ? OP_ANDN
                       : OP_ILLEGAL;
        break;
    case 0x10:
        op = f3 == 2   ? OP_SH1ADD
             : f3 == 4 ? OP_SH2ADD
             : f3 == 6 ? OP_SH3ADD
                       : OP_ILLEGAL;
        break;
    case 0x05:
        op = f3 == 4   ? OP_MIN
             : f3 == 5 ? OP_MINU
             : f3 == 6 ? OP_MAX
             : f3 == 7 ? OP_MAXU
                       : OP_ILLEGAL;
        break;
    case 0x30:
        op = f3 == 1 ? OP_ROL : f3 == 5 ? OP_ROR : OP_ILLEGAL;
        break;
    case 0x24:
        op = f3 == 1 ? OP_BCLR : f3 == 5 ? OP_BEXT : OP_ILLEGAL;
        break;
    case 0x14:
        op = f3 == 1 ? OP_BSET : OP_ILLEGAL;
        break;
    case 0x34:
        op = f3 == 1 ? OP_BINV : OP_ILLEGAL;
        break;
    }
    set(d, op, rd, rs1, rs2, 0);
}

static void decode_op32(uint32_t raw, struct rv_insn *d)
{
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned rs2 = bits(raw, 24, 20), f3 = bits(raw, 14, 12), f7 = raw >> 25;
    unsigned op = OP_ILLEGAL;

    switch (f7) {
    case 0x00:
        op = f3 == 0   ? OP_ADDW
             : f3 == 1 ? OP_SLLW
             : f3 == 5 ? OP_SRLW
                       : OP_ILLEGAL;
        break;
    case 0x20:
        op = f3 == 0 ? OP_SUBW : f3 == 5 ? OP_SRAW : OP_ILLEGAL;
        break;
    case 0x01:
        op = f3 == 0   ? OP_MULW
             : f3 == 4 ? OP_DIVW
             : f3 == 5 ? OP_DIVUW
             : f3 == 6 ? OP_REMW
             : f3 == 7 ? OP_REMUW
                       : OP_ILLEGAL;
        break;
    case 0x04:
        if (f3 == 0) {
            op = OP_ADD_UW;
        } else if (f3 == 4 && rs2 == 0) {
            op = OP_ZEXT_H;
        }
        break;
    case 0x10:
        op = f3 == 2   ? OP_SH1ADD_UW
             : f3 == 4 ? OP_SH2ADD_UW
             : f3 == 6 ? OP_SH3ADD_UW
                       : OP_ILLEGAL;
        break;
    case 0x30:
        op = f3 == 1 ? OP_ROLW : f3 == 5 ? OP_RORW : OP_ILLEGAL;
        break;
    }
    set(d, op, rd, rs1, rs2, 0);
}

static void decode_amo(uint32_t raw, struct rv_insn *d)
{
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned rs2 = bits(raw, 24, 20), f3 = bits(raw, 14, 12);
    unsigned f5 = raw >> 27, op;

    if (f3 != 2 && f3 != 3) {
        return;
    }
    switch (f5) {
    case 0x02:
        op = rs2 == 0 ? OP_LR : OP_ILLEGAL;
        break;
    case 0x03:
        op = OP_SC;
        break;
    case 0x01:
        op = OP_AMOSWAP;
        break;
    case 0x00:
        op = OP_AMOADD;
        break;
    case 0x04:
        op = OP_AMOXOR;
        break;
    case 0x0c:
        op = OP_AMOAND;
        break;
    case 0x08:
        op = OP_AMOOR;
        break;
    case 0x10:
        op = OP_AMOMIN;
        break;
    case 0x14:
        op = OP_AMOMAX;
        break;
    case 0x18:
        op = OP_AMOMINU;
        break;
    case 0x1c:
        op = OP_AMOMAXU;
        break;
    default:
        return;
    }
    set(d, op, rd, rs1, rs2, 0);
    d->fmt = f3 == 3;
}

static void decode_fp(uint32_t raw, struct rv_insn *d)
{
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned rs2 = bits(raw, 24, 20), f3 = bits(raw, 14, 12);
    unsigned f7 = raw >> 25, fmt = f7 & 3, f5 = f7 >> 2;
    unsigned op = OP_ILLEGAL, sub = 0;

    if (fmt > 1) {
        return;
    }
    switch (f5) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
        op = OP_FOP;
        sub = f5 == 0   ? RV_FADD
              : f5 == 1 ? RV_FSUB
              : f5 == 2 ? RV_FMUL
                        : RV_FDIV;
        break;
    case 0x0b:
        op = rs2 == 0 ? OP_FSQRT : OP_ILLEGAL;
        break;
    case 0x04:
        if (f3 <= 2) {
            op = OP_FOP;
            sub = f3 == 0 ? RV_FSGNJ : f3 == 1 ? RV_FSGNJN : RV_FSGNJX;
        }
        break;
    case 0x05:
        if (f3 <= 1) {
            op = OP_FOP;
            sub = f3 == 0 ? RV_FMIN : RV_FMAX;
        }
        break;
    case 0x08:
        /* fmt is the destination: S.D has fmt 0, rs2 1; D.S fmt 1, rs2 0 */
        if (rs2 == (fmt ^ 1u)) {
            op = OP_FCVT_F_F;
        }
        break;
    case 0x14:
        if (f3 <= 2) {
            op = OP_FCMP;
            sub = f3 == 2 ? RV_FEQ : f3 == 1 ? RV_FLT : RV_FLE;
        }
        break;
    case 0x18:
        if (rs2 <= 3) {
            op = OP_FCVT_I_F;
            sub = rs2;
        }
        break;
    case 0x1a:
        if (rs2 <= 3) {
            op = OP_FCVT_F_I;
            sub = rs2;
        }
        break;
    case 0x1c:
        if (rs2 == 0 && f3 == 0) {
            op = fmt ? OP_FMV_X_D : OP_FMV_X_W;
        } else if (rs2 == 0 && f3 == 1) {
            op = OP_FCLASS;
        }
        break;
    case 0x1e:
        if (rs2 == 0 && f3 == 0) {
            op = fmt ? OP_FMV_D_X : OP_FMV_W_X;
        }
        break;
    }
    set(d, op, rd, rs1, rs2, 0);
    d->fmt = (uint8_t)fmt;
    d->sub = (uint8_t)sub;
    d->rm = (uint8_t)f3;
}

static void decode_system(uint32_t raw, struct rv_insn *d)
{
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned f3 = bits(raw, 14, 12);
    static const uint16_t csr[8] = { 0, OP_CSRRW,  OP_CSRRS,  OP_CSRRC,
                                     0, OP_CSRRWI, OP_CSRRSI, OP_CSRRCI };

    if (f3 != 0) {
        if (csr[f3]) {
            set(d, csr[f3], rd, rs1, 0, raw >> 20);
        }
        return;
    }
    if (raw == 0x00000073) {
        d->op = OP_ECALL;
    } else if (raw == 0x00100073) {
        d->op = OP_EBREAK;
    } else if (raw == 0x30200073) {
        d->op = OP_MRET;
    } else if (raw == 0x10200073) {
        d->op = OP_SRET;
    } else if (raw == 0x10500073) {
        d->op = OP_WFI;
    } else if ((raw >> 25) == 0x09 && rd == 0) {
        set(d, OP_SFENCE_VMA, 0, rs1, bits(raw, 24, 20), 0);
    }
}

static void decode32(uint32_t raw, struct rv_insn *d)
{
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned rs2 = bits(raw, 24, 20), f3 = bits(raw, 14, 12);
    int64_t imm_i = (int32_t)raw >> 20;
    int64_t imm_s = sext(((raw >> 25) << 5) | bits(raw, 11, 7), 12);
    int64_t imm_b = sext((bits(raw, 31, 31) << 12) | (bits(raw, 7, 7) << 11) |
                             (bits(raw, 30, 25) << 5) | (bits(raw, 11, 8) << 1),
                         13);
    int64_t imm_j =
        sext((bits(raw, 31, 31) << 20) | (bits(raw, 19, 12) << 12) |
                 (bits(raw, 20, 20) << 11) | (bits(raw, 30, 21) << 1),
             21);
    static const uint16_t loads[8] = { OP_LB,  OP_LH,  OP_LW,  OP_LD,
                                       OP_LBU, OP_LHU, OP_LWU, 0 };
    static const uint16_t stores[8] = { OP_SB, OP_SH, OP_SW, OP_SD };
    static const uint16_t branches[8] = { OP_BEQ, OP_BNE, 0,       0,
                                          OP_BLT, OP_BGE, OP_BLTU, OP_BGEU };

    switch (raw & 0x7f) {
    case 0x03:
        set(d, loads[f3], rd, rs1, 0, imm_i);
        break;
    case 0x07:
        if (f3 == 2 || f3 == 3) {
            set(d, f3 == 2 ? OP_FLW : OP_FLD, rd, rs1, 0, imm_i);
        }
        break;
    case 0x0f:
        if (f3 == 0) {
            /* PAUSE (Zihintpause) is the FENCE with pred=W, succ=0 */
            d->op = raw == 0x0100000fu ? OP_PAUSE : OP_FENCE;
        } else if (f3 == 1) {
            d->op = OP_FENCE_I;
        } else if (f3 == 2 && rd == 0) {
            unsigned f = raw >> 20;
            set(d,
                f == 0   ? OP_CBO_INVAL
                : f == 1 ? OP_CBO_CLEAN
                : f == 2 ? OP_CBO_FLUSH
                : f == 4 ? OP_CBO_ZERO
                         : OP_ILLEGAL,
                0, rs1, 0, 0);
        }
        break;
    case 0x13:
        decode_op_imm(raw, d);
        break;
    case 0x17:
        set(d, OP_AUIPC, rd, 0, 0, (int32_t)(raw & 0xfffff000u));
        break;
    case 0x1b:
        decode_op_imm32(raw, d);
        break;
    case 0x23:
        if (f3 < 4) {
            set(d, stores[f3], 0, rs1, rs2, imm_s);
        }
        break;
    case 0x27:
        if (f3 == 2 || f3 == 3) {
            set(d, f3 == 2 ? OP_FSW : OP_FSD, 0, rs1, rs2, imm_s);
        }
        break;
    case 0x2f:
        decode_amo(raw, d);
        break;
    case 0x33:
        decode_op(raw, d);
        break;
    case 0x37:
        set(d, OP_LUI, rd, 0, 0, (int32_t)(raw & 0xfffff000u));
        break;
    case 0x3b:
        decode_op32(raw, d);
        break;
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f:
        if (bits(raw, 26, 25) <= 1) {
            set(d, OP_FMA, rd, rs1, rs2, 0);
            d->rs3 = (uint8_t)(raw >> 27);
            d->fmt = (uint8_t)bits(raw, 26, 25);
            d->sub = (uint8_t)(((raw & 0x7f) - 0x43) >> 2);
            d->rm = (uint8_t)f3;
        }
        break;
    case 0x53:
        decode_fp(raw, d);
        break;
    case 0x63:
        set(d, branches[f3], 0, rs1, rs2, imm_b);
        break;
    case 0x67:
        if (f3 == 0) {
            set(d, OP_JALR, rd, rs1, 0, imm_i);
        }
        break;
    case 0x6f:
        set(d, OP_JAL, rd, 0, 0, imm_j);
        break;
    case 0x73:
        decode_system(raw, d);
        break;
    }
}

/* Compressed register fields name x8..x15. */
#define CR(v) (8u + ((v)&7u))

static void decode16(uint32_t raw, struct rv_insn *d)
{
    unsigned f3 = bits(raw, 15, 13);
    unsigned rd = bits(raw, 11, 7), rs2 = bits(raw, 6, 2);
    unsigned rdp = CR(raw >> 2), rs1p = CR(raw >> 7);
    int64_t imm6 = sext((bits(raw, 12, 12) << 5) | bits(raw, 6, 2), 6);
    uint64_t uimm;

    switch (raw & 3) {
    case 0:
        switch (f3) {
        case 0:
            uimm = (bits(raw, 12, 11) << 4) | (bits(raw, 10, 7) << 6) |
                   (bits(raw, 6, 6) << 2) | (bits(raw, 5, 5) << 3);
            if (uimm) {
                set(d, OP_ADDI, rdp, 2, 0, (int64_t)uimm);
            }
            break;
        case 1:
        case 3:
        case 5:
        case 7:
            uimm = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 5) << 6);
            if (f3 == 1) {
                set(d, OP_FLD, rdp, rs1p, 0, (int64_t)uimm);
            } else if (f3 == 3) {
                set(d, OP_LD, rdp, rs1p, 0, (int64_t)uimm);
            } else if (f3 == 5) {
                set(d, OP_FSD, 0, rs1p, rdp, (int64_t)uimm);
            } else {
                set(d, OP_SD, 0, rs1p, rdp, (int64_t)uimm);
            }
            break;
        case 2:
        case 6:
            uimm = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 6) << 2) |
                   (bits(raw, 5, 5) << 6);
            if (f3 == 2) {
                set(d, OP_LW, rdp, rs1p, 0, (int64_t)uimm);
            } else {
                set(d, OP_SW, 0, rs1p, rdp, (int64_t)uimm);
            }
            break;
        }
        break;
    case 1:
        switch (f3) {
        case 0:
            set(d, OP_ADDI, rd, rd, 0, imm6);
            break;
        case 1:
            if (rd) {
                set(d, OP_ADDIW, rd, rd, 0, imm6);
            }
            break;
        case 2:
            set(d, OP_ADDI, rd, 0, 0, imm6);
            break;
        case 3:
            if (rd == 2) {
                int64_t imm =
                    sext((bits(raw, 12, 12) << 9) | (bits(raw, 6, 6) << 4) |
                             (bits(raw, 5, 5) << 6) | (bits(raw, 4, 3) << 7) |
                             (bits(raw, 2, 2) << 5),
                         10);
                if (imm) {
                    set(d, OP_ADDI, 2, 2, 0, imm);
                }
            } else if (imm6) {
                set(d, OP_LUI, rd, 0, 0, imm6 * 4096);
            }
            break;
        case 4:
            switch (bits(raw, 11, 10)) {
            case 0:
                set(d, OP_SRLI, rs1p, rs1p, 0,
                    (bits(raw, 12, 12) << 5) | bits(raw, 6, 2));
                break;
            case 1:
                set(d, OP_SRAI, rs1p, rs1p, 0,
                    (bits(raw, 12, 12) << 5) | bits(raw, 6, 2));
                break;
            case 2:
                set(d, OP_ANDI, rs1p, rs1p, 0, imm6);
                break;
            case 3: {
                static const uint16_t ops[2][4] = {
                    { OP_SUB, OP_XOR, OP_OR, OP_AND },
                    { OP_SUBW, OP_ADDW, OP_ILLEGAL, OP_ILLEGAL },
                };
                set(d, ops[bits(raw, 12, 12)][bits(raw, 6, 5)], rs1p, rs1p, rdp,
                    0);
                break;
            }
            }
            break;
        case 5:
            set(d, OP_JAL, 0, 0, 0,
                sext((bits(raw, 12, 12) << 11) | (bits(raw, 11, 11) << 4) |
                         (bits(raw, 10, 9) << 8) | (bits(raw, 8, 8) << 10) |
                         (bits(raw, 7, 7) << 6) | (bits(raw, 6, 6) << 7) |
                         (bits(raw, 5, 3) << 1) | (bits(raw, 2, 2) << 5),
                     12));
            break;
        case 6:
        case 7:
            set(d, f3 == 6 ? OP_BEQ : OP_BNE, 0, rs1p, 0,
                sext((bits(raw, 12, 12) << 8) | (bits(raw, 11, 10) << 3) |
                         (bits(raw, 6, 5) << 6) | (bits(raw, 4, 3) << 1) |
                         (bits(raw, 2, 2) << 5),
                     9));
            break;
        }
        break;
    case 2:
        switch (f3) {
        case 0:
            set(d, OP_SLLI, rd, rd, 0,
                (bits(raw, 12, 12) << 5) | bits(raw, 6, 2));
            break;
        case 1:
        case 3:
            uimm = (bits(raw, 12, 12) << 5) | (bits(raw, 6, 5) << 3) |
                   (bits(raw, 4, 2) << 6);
            if (f3 == 1) {
                set(d, OP_FLD, rd, 2, 0, (int64_t)uimm);
            } else if (rd) {
                set(d, OP_LD, rd, 2, 0, (int64_t)uimm);
            }
            break;
        case 2:
            uimm = (bits(raw, 12, 12) << 5) | (bits(raw, 6, 4) << 2) |
                   (bits(raw, 3, 2) << 6);
            if (rd) {
                set(d, OP_LW, rd, 2, 0, (int64_t)uimm);
            }
            break;
        case 4:
            if (!bits(raw, 12, 12)) {
                if (rs2 == 0) {
                    if (rd) {
                        set(d, OP_JALR, 0, rd, 0, 0);
                    }
                } else {
                    set(d, OP_ADD, rd, 0, rs2, 0);
                }
            } else if (rd == 0 && rs2 == 0) {
                d->op = OP_EBREAK;
            } else if (rs2 == 0) {
                set(d, OP_JALR, 1, rd, 0, 0);
            } else {
                set(d, OP_ADD, rd, rd, rs2, 0);
            }
            break;
        case 5:
        case 7:
            uimm = (bits(raw, 12, 10) << 3) | (bits(raw, 9, 7) << 6);
            set(d, f3 == 5 ? OP_FSD : OP_SD, 0, 2, rs2, (int64_t)uimm);
            break;
        case 6:
            uimm = (bits(raw, 12, 9) << 2) | (bits(raw, 8, 7) << 6);
            set(d, OP_SW, 0, 2, rs2, (int64_t)uimm);
            break;
        }
        break;
    }
}

void rv_decode(uint32_t raw, struct rv_insn *d)
{
    memset(d, 0, sizeof(*d));
    if ((raw & 3) == 3) {
        d->len = 4;
        d->raw = raw;
        decode32(raw, d);
    } else {
        d->len = 2;
        d->raw = raw & 0xffff;
        if (d->raw != 0) {
            decode16(d->raw, d);
        }
    }
}

static bool rv_ends_block(unsigned op)
{
    switch (op) {
    case OP_ILLEGAL:
    case OP_JAL:
    case OP_JALR:
    case OP_BEQ:
    case OP_BNE:
    case OP_BLT:
    case OP_BGE:
    case OP_BLTU:
    case OP_BGEU:
    case OP_PAUSE:
    case OP_FENCE_I:
    case OP_ECALL:
    case OP_EBREAK:
    case OP_MRET:
    case OP_SRET:
    case OP_WFI:
    case OP_SFENCE_VMA:
    case OP_CSRRW:
    case OP_CSRRS:
    case OP_CSRRC:
    case OP_CSRRWI:
    case OP_CSRRSI:
    case OP_CSRRCI:
        return true;
    }
    return false;
}

static inline unsigned bcache_index(uint64_t paddr)
{
    return (unsigned)((paddr >> 1) ^ (paddr >> (1 + RV_BCACHE_BITS))) &
           (RV_BCACHE_SIZE - 1);
}

void rv_block_flush(struct rv_cpu *cpu)
{
    memset(cpu->bcache, 0, sizeof(cpu->bcache));
    /* Give the pages back: the arena refills from its start. */
    madvise(cpu->arena, cpu->arena_used, MADV_DONTNEED);
    cpu->arena_used = 0;
    cpu->code_gen++;
    cpu->arena_epoch++;
}

void rv_block_invalidate(struct rv_cpu *cpu)
{
    cpu->code_gen++;
}

/* Are the instruction bits behind b still the ones it was decoded from? */
static bool block_unchanged(const struct rv_block *b, const uint8_t *host)
{
    uint64_t off = 0;

    for (uint32_t i = 0; i < b->n; i++) {
        const struct rv_insn *in = &b->insn[i];
        uint32_t raw = (uint32_t)host[off] | ((uint32_t)host[off + 1] << 8);
        if (in->len == 4) {
            raw |= ((uint32_t)host[off + 2] << 16) |
                   ((uint32_t)host[off + 3] << 24);
        }
        if (raw != in->raw && !(in->len == 2 && raw == 0 && in->raw == 0)) {
            return false;
        }
        off += in->len;
    }
    return true;
}

struct rv_block *rv_block_get(struct rv_cpu *cpu, uint64_t key,
                              const uint8_t *host, uint64_t room)
{
    const size_t max_need =
        sizeof(struct rv_block) + (RV_BLOCK_MAX + 1) * sizeof(struct rv_insn);
    struct rv_bcache_entry *e = &cpu->bcache[bcache_index(key)];
    struct rv_block *b;
    unsigned n = 0;
    uint64_t off = 0;

    if (e->key == key && e->block) {
        b = e->block;
        if (b->gen == cpu->code_gen) {
            return b;
        }
        if (block_unchanged(b, host)) {
            b->gen = cpu->code_gen;
            return b;
        }
    }
    /* Decode straight into the arena; the space is only kept if the block
     * is not empty. */
    if (cpu->arena_used + max_need > RV_ARENA_SIZE) {
        rv_block_flush(cpu);
    }
    b = (struct rv_block *)(cpu->arena + cpu->arena_used);
    while (n < RV_BLOCK_MAX && off + 2 <= room) {
        uint32_t raw = (uint32_t)host[off] | ((uint32_t)host[off + 1] << 8);
        if ((raw & 3) == 3) {
            if (off + 4 > room) {
                break; /* straddles the page: exec.c fetches it alone */
            }
            raw |= ((uint32_t)host[off + 2] << 16) |
                   ((uint32_t)host[off + 3] << 24);
        }
        rv_decode(raw, &b->insn[n]);
        off += b->insn[n].len;
        if (rv_ends_block(b->insn[n++].op)) {
            break;
        }
    }
    if (n == 0) {
        return NULL;
    }
    cpu->arena_used +=
        (sizeof(struct rv_block) + (n + 1) * sizeof(struct rv_insn) + 15) &
        ~15ul;
    b->key = key;
    b->gen = cpu->code_gen;
    b->n = n;
    b->bytes = (uint32_t)off;
    b->succ[0] = b->succ[1] = NULL;
    b->ends_system =
        rv_ends_block(b->insn[n - 1].op) &&
        !(b->insn[n - 1].op >= OP_JAL && b->insn[n - 1].op <= OP_BGEU);
    memset(&b->insn[n], 0, sizeof(b->insn[n]));
    b->insn[n].op = OP_BLOCK_END;
    e->key = key;
    e->block = b;
    return b;
}
