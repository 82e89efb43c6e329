/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the RISC-V instruction decoder (src/cpu/riscv/decode.c):
 * every opcode class of RV64GC, Zicsr, Zifencei, Zba/Zbb/Zbs and
 * Zicbom/Zicboz against the fields the unprivileged spec defines, every
 * compressed form against its 32-bit expansion (spec chapter "C", table
 * "RVC instruction listing"), and reserved or illegal encodings, which
 * must decode to OP_ILLEGAL and trap with the instruction bits in mtval.
 *
 * The instruction words were produced by riscv64-linux-gnu-as (binutils
 * 2.40, -march=rv64gc_zba_zbb_zbs_zicbom_zicboz) from the assembly in the
 * comments; the expected fields come from the spec, not from the decoder.
 */
#include "cpu/riscv/fpu.h"
#include "harness.h"
#include "rvtest.h"

struct dcase {
    uint32_t raw;
    unsigned op, rd, rs1, rs2;
    int64_t imm;
};

static const struct dcase d32[] = {
    { 0x12345537, OP_LUI, 10, 0, 0, 0x12345000 },    /* lui a0,0x12345 */
    { 0x80000537, OP_LUI, 10, 0, 0, -0x80000000LL }, /* lui a0,0x80000 */
    { 0xfffff597, OP_AUIPC, 11, 0, 0, -4096 },       /* auipc a1,0xfffff */
    { 0x001000ef, OP_JAL, 1, 0, 0, 2048 },           /* jal ra,.+2048 */
    { 0x8000006f, OP_JAL, 0, 0, 0, -1048576 },       /* jal x0,.-1048576 */
    { 0x7ffff06f, OP_JAL, 0, 0, 0, 1048574 },        /* jal x0,.+1048574 */
    { 0xfff58567, OP_JALR, 10, 11, 0, -1 },          /* jalr a0,-1(a1) */
    { 0x80b50063, OP_BEQ, 0, 10, 11, -4096 },        /* beq a0,a1,.-4096 */
    { 0x7eb51fe3, OP_BNE, 0, 10, 11, 4094 },         /* bne a0,a1,.+4094 */
    { 0x00b54163, OP_BLT, 0, 10, 11, 2 },            /* blt a0,a1,.+2 */
    { 0xfeb55fe3, OP_BGE, 0, 10, 11, -2 },           /* bge a0,a1,.-2 */
    { 0x00b560e3, OP_BLTU, 0, 10, 11, 2048 },        /* bltu a0,a1,.+2048 */
    { 0x80b570e3, OP_BGEU, 0, 10, 11, -2048 },       /* bgeu a0,a1,.-2048 */
    { 0x80058503, OP_LB, 10, 11, 0, -2048 },         /* lb a0,-2048(a1) */
    { 0x7ff59503, OP_LH, 10, 11, 0, 2047 },          /* lh a0,2047(a1) */
    { 0x0045a503, OP_LW, 10, 11, 0, 4 },             /* lw a0,4(a1) */
    { 0xff85b503, OP_LD, 10, 11, 0, -8 },            /* ld a0,-8(a1) */
    { 0x0015c503, OP_LBU, 10, 11, 0, 1 },            /* lbu a0,1(a1) */
    { 0x0025d503, OP_LHU, 10, 11, 0, 2 },            /* lhu a0,2(a1) */
    { 0xffc5e503, OP_LWU, 10, 11, 0, -4 },           /* lwu a0,-4(a1) */
    { 0xfec58fa3, OP_SB, 0, 11, 12, -1 },            /* sb a2,-1(a1) */
    { 0x7ec59fa3, OP_SH, 0, 11, 12, 2047 },          /* sh a2,2047(a1) */
    { 0x80c5a023, OP_SW, 0, 11, 12, -2048 },         /* sw a2,-2048(a1) */
    { 0x00c5b423, OP_SD, 0, 11, 12, 8 },             /* sd a2,8(a1) */
    { 0xfff58513, OP_ADDI, 10, 11, 0, -1 },          /* addi a0,a1,-1 */
    { 0x8005a513, OP_SLTI, 10, 11, 0, -2048 },       /* slti a0,a1,-2048 */
    { 0xfff5b513, OP_SLTIU, 10, 11, 0, -1 },         /* sltiu a0,a1,-1 */
    { 0x7ff5c513, OP_XORI, 10, 11, 0, 2047 },        /* xori a0,a1,2047 */
    { 0xff05e513, OP_ORI, 10, 11, 0, -16 },          /* ori a0,a1,-16 */
    { 0x0ff5f513, OP_ANDI, 10, 11, 0, 255 },         /* andi a0,a1,255 */
    { 0x03f59513, OP_SLLI, 10, 11, 0, 63 },          /* slli a0,a1,63 */
    { 0x0205d513, OP_SRLI, 10, 11, 0, 32 },          /* srli a0,a1,32 */
    { 0x43f5d513, OP_SRAI, 10, 11, 0, 63 },          /* srai a0,a1,63 */
    { 0x00c58533, OP_ADD, 10, 11, 12, 0 },           /* add a0,a1,a2 */
    { 0x40c58533, OP_SUB, 10, 11, 12, 0 },           /* sub a0,a1,a2 */
    { 0x00c59533, OP_SLL, 10, 11, 12, 0 },           /* sll a0,a1,a2 */
    { 0x00c5a533, OP_SLT, 10, 11, 12, 0 },           /* slt a0,a1,a2 */
    { 0x00c5b533, OP_SLTU, 10, 11, 12, 0 },          /* sltu a0,a1,a2 */
    { 0x00c5c533, OP_XOR, 10, 11, 12, 0 },           /* xor a0,a1,a2 */
    { 0x00c5d533, OP_SRL, 10, 11, 12, 0 },           /* srl a0,a1,a2 */
    { 0x40c5d533, OP_SRA, 10, 11, 12, 0 },           /* sra a0,a1,a2 */
    { 0x00c5e533, OP_OR, 10, 11, 12, 0 },            /* or a0,a1,a2 */
    { 0x00c5f533, OP_AND, 10, 11, 12, 0 },           /* and a0,a1,a2 */
    { 0x8005851b, OP_ADDIW, 10, 11, 0, -2048 },      /* addiw a0,a1,-2048 */
    { 0x01f5951b, OP_SLLIW, 10, 11, 0, 31 },         /* slliw a0,a1,31 */
    { 0x0015d51b, OP_SRLIW, 10, 11, 0, 1 },          /* srliw a0,a1,1 */
    { 0x41f5d51b, OP_SRAIW, 10, 11, 0, 31 },         /* sraiw a0,a1,31 */
    { 0x00c5853b, OP_ADDW, 10, 11, 12, 0 },          /* addw a0,a1,a2 */
    { 0x40c5853b, OP_SUBW, 10, 11, 12, 0 },          /* subw a0,a1,a2 */
    { 0x00c5953b, OP_SLLW, 10, 11, 12, 0 },          /* sllw a0,a1,a2 */
    { 0x00c5d53b, OP_SRLW, 10, 11, 12, 0 },          /* srlw a0,a1,a2 */
    { 0x40c5d53b, OP_SRAW, 10, 11, 12, 0 },          /* sraw a0,a1,a2 */
    { 0x0330000f, OP_FENCE, 0, 0, 0, 0 },            /* fence rw,rw */
    { 0x8330000f, OP_FENCE, 0, 0, 0, 0 },            /* fence.tso */
    { 0x0000100f, OP_FENCE_I, 0, 0, 0, 0 },          /* fence.i */
    { 0x00000073, OP_ECALL, 0, 0, 0, 0 },            /* ecall */
    { 0x00100073, OP_EBREAK, 0, 0, 0, 0 },           /* ebreak */
    { 0x30200073, OP_MRET, 0, 0, 0, 0 },             /* mret */
    { 0x10200073, OP_SRET, 0, 0, 0, 0 },             /* sret */
    { 0x10500073, OP_WFI, 0, 0, 0, 0 },              /* wfi */
    { 0x12b50073, OP_SFENCE_VMA, 0, 10, 11, 0 },     /* sfence.vma a0,a1 */
    { 0x30059573, OP_CSRRW, 10, 11, 0, 0x300 },      /* csrrw a0,mstatus,a1 */
    { 0xc0002573, OP_CSRRS, 10, 0, 0, 0xc00 },       /* csrrs a0,cycle,x0 */
    { 0x1005b073, OP_CSRRC, 0, 11, 0, 0x100 },       /* csrrc x0,sstatus,a1 */
    { 0xffffd573, OP_CSRRWI, 10, 31, 0, 0xfff },     /* csrrwi a0,0xfff,31 */
    { 0x0030e573, OP_CSRRSI, 10, 1, 0, 0x003 },      /* csrrsi a0,fcsr,1 */
    { 0x1802f573, OP_CSRRCI, 10, 5, 0, 0x180 },      /* csrrci a0,satp,5 */
    { 0x02c58533, OP_MUL, 10, 11, 12, 0 },           /* mul a0,a1,a2 */
    { 0x02c59533, OP_MULH, 10, 11, 12, 0 },          /* mulh a0,a1,a2 */
    { 0x02c5a533, OP_MULHSU, 10, 11, 12, 0 },        /* mulhsu a0,a1,a2 */
    { 0x02c5b533, OP_MULHU, 10, 11, 12, 0 },         /* mulhu a0,a1,a2 */
    { 0x02c5c533, OP_DIV, 10, 11, 12, 0 },           /* div a0,a1,a2 */
    { 0x02c5d533, OP_DIVU, 10, 11, 12, 0 },          /* divu a0,a1,a2 */
    { 0x02c5e533, OP_REM, 10, 11, 12, 0 },           /* rem a0,a1,a2 */
    { 0x02c5f533, OP_REMU, 10, 11, 12, 0 },          /* remu a0,a1,a2 */
    { 0x02c5853b, OP_MULW, 10, 11, 12, 0 },          /* mulw a0,a1,a2 */
    { 0x02c5c53b, OP_DIVW, 10, 11, 12, 0 },          /* divw a0,a1,a2 */
    { 0x02c5d53b, OP_DIVUW, 10, 11, 12, 0 },         /* divuw a0,a1,a2 */
    { 0x02c5e53b, OP_REMW, 10, 11, 12, 0 },          /* remw a0,a1,a2 */
    { 0x02c5f53b, OP_REMUW, 10, 11, 12, 0 },         /* remuw a0,a1,a2 */
    { 0x20c5a533, OP_SH1ADD, 10, 11, 12, 0 },        /* sh1add a0,a1,a2 */
    { 0x20c5c533, OP_SH2ADD, 10, 11, 12, 0 },        /* sh2add a0,a1,a2 */
    { 0x20c5e533, OP_SH3ADD, 10, 11, 12, 0 },        /* sh3add a0,a1,a2 */
    { 0x08c5853b, OP_ADD_UW, 10, 11, 12, 0 },        /* add.uw a0,a1,a2 */
    { 0x20c5a53b, OP_SH1ADD_UW, 10, 11, 12, 0 },     /* sh1add.uw a0,a1,a2 */
    { 0x20c5c53b, OP_SH2ADD_UW, 10, 11, 12, 0 },     /* sh2add.uw a0,a1,a2 */
    { 0x20c5e53b, OP_SH3ADD_UW, 10, 11, 12, 0 },     /* sh3add.uw a0,a1,a2 */
    { 0x0bf5951b, OP_SLLI_UW, 10, 11, 0, 63 },       /* slli.uw a0,a1,63 */
    { 0x40c5f533, OP_ANDN, 10, 11, 12, 0 },          /* andn a0,a1,a2 */
    { 0x40c5e533, OP_ORN, 10, 11, 12, 0 },           /* orn a0,a1,a2 */
    { 0x40c5c533, OP_XNOR, 10, 11, 12, 0 },          /* xnor a0,a1,a2 */
    { 0x60059513, OP_CLZ, 10, 11, 0, 0 },            /* clz a0,a1 */
    { 0x6005951b, OP_CLZW, 10, 11, 0, 0 },           /* clzw a0,a1 */
    { 0x60159513, OP_CTZ, 10, 11, 0, 0 },            /* ctz a0,a1 */
    { 0x6015951b, OP_CTZW, 10, 11, 0, 0 },           /* ctzw a0,a1 */
    { 0x60259513, OP_CPOP, 10, 11, 0, 0 },           /* cpop a0,a1 */
    { 0x6025951b, OP_CPOPW, 10, 11, 0, 0 },          /* cpopw a0,a1 */
    { 0x0ac5e533, OP_MAX, 10, 11, 12, 0 },           /* max a0,a1,a2 */
    { 0x0ac5f533, OP_MAXU, 10, 11, 12, 0 },          /* maxu a0,a1,a2 */
    { 0x0ac5c533, OP_MIN, 10, 11, 12, 0 },           /* min a0,a1,a2 */
    { 0x0ac5d533, OP_MINU, 10, 11, 12, 0 },          /* minu a0,a1,a2 */
    { 0x60459513, OP_SEXT_B, 10, 11, 0, 0 },         /* sext.b a0,a1 */
    { 0x60559513, OP_SEXT_H, 10, 11, 0, 0 },         /* sext.h a0,a1 */
    { 0x0805c53b, OP_ZEXT_H, 10, 11, 0, 0 },         /* zext.h a0,a1 */
    { 0x60c59533, OP_ROL, 10, 11, 12, 0 },           /* rol a0,a1,a2 */
    { 0x60c5953b, OP_ROLW, 10, 11, 12, 0 },          /* rolw a0,a1,a2 */
    { 0x60c5d533, OP_ROR, 10, 11, 12, 0 },           /* ror a0,a1,a2 */
    { 0x63f5d513, OP_RORI, 10, 11, 0, 63 },          /* rori a0,a1,63 */
    { 0x61f5d51b, OP_RORIW, 10, 11, 0, 31 },         /* roriw a0,a1,31 */
    { 0x60c5d53b, OP_RORW, 10, 11, 12, 0 },          /* rorw a0,a1,a2 */
    { 0x2875d513, OP_ORC_B, 10, 11, 0, 0 },          /* orc.b a0,a1 */
    { 0x6b85d513, OP_REV8, 10, 11, 0, 0 },           /* rev8 a0,a1 */
    { 0x48c59533, OP_BCLR, 10, 11, 12, 0 },          /* bclr a0,a1,a2 */
    { 0x4bf59513, OP_BCLRI, 10, 11, 0, 63 },         /* bclri a0,a1,63 */
    { 0x48c5d533, OP_BEXT, 10, 11, 12, 0 },          /* bext a0,a1,a2 */
    { 0x4a15d513, OP_BEXTI, 10, 11, 0, 33 },         /* bexti a0,a1,33 */
    { 0x68c59533, OP_BINV, 10, 11, 12, 0 },          /* binv a0,a1,a2 */
    { 0x68059513, OP_BINVI, 10, 11, 0, 0 },          /* binvi a0,a1,0 */
    { 0x28c59533, OP_BSET, 10, 11, 12, 0 },          /* bset a0,a1,a2 */
    { 0x2a059513, OP_BSETI, 10, 11, 0, 32 },         /* bseti a0,a1,32 */
    { 0x0015200f, OP_CBO_CLEAN, 0, 10, 0, 0 },       /* cbo.clean (a0) */
    { 0x0025200f, OP_CBO_FLUSH, 0, 10, 0, 0 },       /* cbo.flush (a0) */
    { 0x0005200f, OP_CBO_INVAL, 0, 10, 0, 0 },       /* cbo.inval (a0) */
    { 0x0045200f, OP_CBO_ZERO, 0, 10, 0, 0 },        /* cbo.zero (a0) */
    { 0xffc5a507, OP_FLW, 10, 11, 0, -4 },           /* flw fa0,-4(a1) */
    { 0x7ff5b507, OP_FLD, 10, 11, 0, 2047 },         /* fld fa0,2047(a1) */
    { 0x80c5a027, OP_FSW, 0, 11, 12, -2048 },        /* fsw fa2,-2048(a1) */
    { 0x00c5b427, OP_FSD, 0, 11, 12, 8 },            /* fsd fa2,8(a1) */
};

/* A: fmt is the width (0 = W, 1 = D); aq/rl bits do not matter. */
struct acase {
    uint32_t raw;
    unsigned op, rd, rs1, rs2, fmt;
};

static const struct acase amo[] = {
    { 0x1005a52f, OP_LR, 10, 11, 0, 0 },       /* lr.w a0,(a1) */
    { 0x1605b52f, OP_LR, 10, 11, 0, 1 },       /* lr.d.aqrl a0,(a1) */
    { 0x18c5a52f, OP_SC, 10, 11, 12, 0 },      /* sc.w a0,a2,(a1) */
    { 0x1ac5b52f, OP_SC, 10, 11, 12, 1 },      /* sc.d.rl a0,a2,(a1) */
    { 0x08c5a52f, OP_AMOSWAP, 10, 11, 12, 0 }, /* amoswap.w a0,a2,(a1) */
    { 0x00c5b52f, OP_AMOADD, 10, 11, 12, 1 },  /* amoadd.d a0,a2,(a1) */
    { 0x24c5a52f, OP_AMOXOR, 10, 11, 12, 0 },  /* amoxor.w.aq a0,a2,(a1) */
    { 0x60c5b52f, OP_AMOAND, 10, 11, 12, 1 },  /* amoand.d a0,a2,(a1) */
    { 0x40c5a52f, OP_AMOOR, 10, 11, 12, 0 },   /* amoor.w a0,a2,(a1) */
    { 0x80c5b52f, OP_AMOMIN, 10, 11, 12, 1 },  /* amomin.d a0,a2,(a1) */
    { 0xa0c5a52f, OP_AMOMAX, 10, 11, 12, 0 },  /* amomax.w a0,a2,(a1) */
    { 0xc0c5b52f, OP_AMOMINU, 10, 11, 12, 1 }, /* amominu.d a0,a2,(a1) */
    { 0xe0c5a52f, OP_AMOMAXU, 10, 11, 12, 0 }, /* amomaxu.w a0,a2,(a1) */
};

/* F/D: fmt 1 = double (for FCVT.S.D/D.S: the destination), sub the
 * operation variant, rm the funct3 / rounding-mode field. */
struct fcase {
    uint32_t raw;
    unsigned op, rd, rs1, rs2, fmt, sub, rm;
};

static const struct fcase fp[] = {
    { 0x00c58553, OP_FOP, 10, 11, 12, 0, RV_FADD,
      0 }, /* fadd.s fa0,fa1,fa2,rne */
    { 0x0ac59553, OP_FOP, 10, 11, 12, 1, RV_FSUB,
      1 }, /* fsub.d fa0,fa1,fa2,rtz */
    { 0x10c5a553, OP_FOP, 10, 11, 12, 0, RV_FMUL,
      2 }, /* fmul.s fa0,fa1,fa2,rdn */
    { 0x1ac5f553, OP_FOP, 10, 11, 12, 1, RV_FDIV,
      7 }, /* fdiv.d fa0,fa1,fa2,dyn */
    { 0x20c58553, OP_FOP, 10, 11, 12, 0, RV_FSGNJ,
      0 }, /* fsgnj.s fa0,fa1,fa2 */
    { 0x22c59553, OP_FOP, 10, 11, 12, 1, RV_FSGNJN,
      1 }, /* fsgnjn.d fa0,fa1,fa2 */
    { 0x20c5a553, OP_FOP, 10, 11, 12, 0, RV_FSGNJX,
      2 }, /* fsgnjx.s fa0,fa1,fa2 */
    { 0x2ac58553, OP_FOP, 10, 11, 12, 1, RV_FMIN, 0 }, /* fmin.d fa0,fa1,fa2 */
    { 0x28c59553, OP_FOP, 10, 11, 12, 0, RV_FMAX, 1 }, /* fmax.s fa0,fa1,fa2 */
    { 0x5a05c553, OP_FSQRT, 10, 11, 0, 1, 0, 4 },      /* fsqrt.d fa0,fa1,rmm */
    { 0xa0c5a553, OP_FCMP, 10, 11, 12, 0, RV_FEQ, 2 }, /* feq.s a0,fa1,fa2 */
    { 0xa2c59553, OP_FCMP, 10, 11, 12, 1, RV_FLT, 1 }, /* flt.d a0,fa1,fa2 */
    { 0xa0c58553, OP_FCMP, 10, 11, 12, 0, RV_FLE, 0 }, /* fle.s a0,fa1,fa2 */
    { 0xe2059553, OP_FCLASS, 10, 11, 0, 1, 0, 1 },     /* fclass.d a0,fa1 */
    { 0xc0059553, OP_FCVT_I_F, 10, 11, 0, 0, RV_FINT_W,
      1 }, /* fcvt.w.s a0,fa1,rtz */
    { 0xc215b553, OP_FCVT_I_F, 10, 11, 1, 1, RV_FINT_WU,
      3 }, /* fcvt.wu.d a0,fa1,rup */
    { 0xc0258553, OP_FCVT_I_F, 10, 11, 2, 0, RV_FINT_L,
      0 }, /* fcvt.l.s a0,fa1,rne */
    { 0xc235f553, OP_FCVT_I_F, 10, 11, 3, 1, RV_FINT_LU,
      7 }, /* fcvt.lu.d a0,fa1,dyn */
    { 0xd005f553, OP_FCVT_F_I, 10, 11, 0, 0, RV_FINT_W,
      7 }, /* fcvt.s.w fa0,a1,dyn */
    { 0xd2158553, OP_FCVT_F_I, 10, 11, 1, 1, RV_FINT_WU,
      0 }, /* fcvt.d.wu fa0,a1 */
    { 0xd025a553, OP_FCVT_F_I, 10, 11, 2, 0, RV_FINT_L,
      2 }, /* fcvt.s.l fa0,a1,rdn */
    { 0xd2359553, OP_FCVT_F_I, 10, 11, 3, 1, RV_FINT_LU,
      1 },                                           /* fcvt.d.lu fa0,a1,rtz */
    { 0x40158553, OP_FCVT_F_F, 10, 11, 1, 0, 0, 0 }, /* fcvt.s.d fa0,fa1,rne */
    { 0x42058553, OP_FCVT_F_F, 10, 11, 0, 1, 0, 0 }, /* fcvt.d.s fa0,fa1 */
    { 0xe0058553, OP_FMV_X_W, 10, 11, 0, 0, 0, 0 },  /* fmv.x.w a0,fa1 */
    { 0xf0058553, OP_FMV_W_X, 10, 11, 0, 0, 0, 0 },  /* fmv.w.x fa0,a1 */
    { 0xe2058553, OP_FMV_X_D, 10, 11, 0, 1, 0, 0 },  /* fmv.x.d a0,fa1 */
    { 0xf2058553, OP_FMV_D_X, 10, 11, 0, 1, 0, 0 },  /* fmv.d.x fa0,a1 */
    { 0x68c58543, OP_FMA, 10, 11, 12, 0, RV_FMADD,
      0 }, /* fmadd.s fa0,fa1,fa2,fa3,rne */
    { 0x6ac59547, OP_FMA, 10, 11, 12, 1, RV_FMSUB,
      1 }, /* fmsub.d fa0,fa1,fa2,fa3,rtz */
    { 0x68c5f54b, OP_FMA, 10, 11, 12, 0, RV_FNMSUB,
      7 }, /* fnmsub.s fa0,fa1,fa2,fa3,dyn */
    { 0x6ac5c54f, OP_FMA, 10, 11, 12, 1, RV_FNMADD,
      4 }, /* fnmadd.d fa0,fa1,fa2,fa3,rmm */
};

/* Compressed form, its 32-bit expansion, and the operation both are. */
struct ccase {
    uint32_t c, e;
    unsigned op;
};

static const struct ccase cforms[] = {
    { 0x1fe8, 0x3fc10513,
      OP_ADDI }, /* c.addi4spn a0,sp,1020 == addi a0,sp,1020 */
    { 0x0044, 0x00410493, OP_ADDI },  /* c.addi4spn s1,sp,4 == addi s1,sp,4 */
    { 0x3de8, 0x0f85b507, OP_FLD },   /* c.fld fa0,248(a1) == fld fa0,248(a1) */
    { 0x5de8, 0x07c5a503, OP_LW },    /* c.lw a0,124(a1) == lw a0,124(a1) */
    { 0x43c0, 0x0047a403, OP_LW },    /* c.lw s0,4(a5) == lw s0,4(a5) */
    { 0x7de8, 0x0f85b503, OP_LD },    /* c.ld a0,248(a1) == ld a0,248(a1) */
    { 0xa588, 0x00a5b427, OP_FSD },   /* c.fsd fa0,8(a1) == fsd fa0,8(a1) */
    { 0xc1a8, 0x04a5a023, OP_SW },    /* c.sw a0,64(a1) == sw a0,64(a1) */
    { 0xe1c8, 0x08a5b023, OP_SD },    /* c.sd a0,128(a1) == sd a0,128(a1) */
    { 0x0001, 0x00000013, OP_ADDI },  /* c.nop == addi x0,x0,0 */
    { 0x1501, 0xfe050513, OP_ADDI },  /* c.addi a0,-32 == addi a0,a0,-32 */
    { 0x0ffd, 0x01ff8f93, OP_ADDI },  /* c.addi t6,31 == addi t6,t6,31 */
    { 0x357d, 0xfff5051b, OP_ADDIW }, /* c.addiw a0,-1 == addiw a0,a0,-1 */
    { 0x2081, 0x0000809b, OP_ADDIW }, /* c.addiw ra,0 == addiw ra,ra,0 */
    { 0x5501, 0xfe000513, OP_ADDI },  /* c.li a0,-32 == addi a0,x0,-32 */
    { 0x42fd, 0x01f00293, OP_ADDI },  /* c.li t0,31 == addi t0,x0,31 */
    { 0x7101, 0xe0010113, OP_ADDI }, /* c.addi16sp sp,-512 == addi sp,sp,-512 */
    { 0x617d, 0x1f010113, OP_ADDI }, /* c.addi16sp sp,496 == addi sp,sp,496 */
    { 0x7501, 0xfffe0537, OP_LUI },  /* c.lui a0,0xfffe0 == lui a0,0xfffe0 */
    { 0x62fd, 0x0001f2b7, OP_LUI },  /* c.lui t0,0x1f == lui t0,0x1f */
    { 0x6085, 0x000010b7, OP_LUI },  /* c.lui ra,1 == lui ra,1 */
    { 0x917d, 0x03f55513, OP_SRLI }, /* c.srli a0,63 == srli a0,a0,63 */
    { 0x8085, 0x0014d493, OP_SRLI }, /* c.srli s1,1 == srli s1,s1,1 */
    { 0x9501, 0x42055513, OP_SRAI }, /* c.srai a0,32 == srai a0,a0,32 */
    { 0x9901, 0xfe057513, OP_ANDI }, /* c.andi a0,-32 == andi a0,a0,-32 */
    { 0x8bbd, 0x00f7f793, OP_ANDI }, /* c.andi a5,15 == andi a5,a5,15 */
    { 0x8d0d, 0x40b50533, OP_SUB },  /* c.sub a0,a1 == sub a0,a0,a1 */
    { 0x8c3d, 0x00f44433, OP_XOR },  /* c.xor s0,a5 == xor s0,s0,a5 */
    { 0x8d4d, 0x00b56533, OP_OR },   /* c.or a0,a1 == or a0,a0,a1 */
    { 0x8d6d, 0x00b57533, OP_AND },  /* c.and a0,a1 == and a0,a0,a1 */
    { 0x9d0d, 0x40b5053b, OP_SUBW }, /* c.subw a0,a1 == subw a0,a0,a1 */
    { 0x9d2d, 0x00b5053b, OP_ADDW }, /* c.addw a0,a1 == addw a0,a0,a1 */
    { 0xb001, 0x801ff06f, OP_JAL },  /* c.j .-2048 == jal x0,.-2048 */
    { 0xaffd, 0x7fe0006f, OP_JAL },  /* c.j .+2046 == jal x0,.+2046 */
    { 0xab99, 0x5560006f, OP_JAL },  /* c.j .+1366 == jal x0,.+1366 */
    { 0xd101, 0xf00500e3, OP_BEQ },  /* c.beqz a0,.-256 == beq a0,x0,.-256 */
    { 0xed7d, 0x0e051f63, OP_BNE },  /* c.bnez a0,.+254 == bne a0,x0,.+254 */
    { 0xe4cd, 0x0a049563, OP_BNE },  /* c.bnez s1,.+170 == bne s1,x0,.+170 */
    { 0x157e, 0x03f51513, OP_SLLI }, /* c.slli a0,63 == slli a0,a0,63 */
    { 0x0f86, 0x001f9f93, OP_SLLI }, /* c.slli t6,1 == slli t6,t6,1 */
    { 0x357e, 0x1f813507, OP_FLD }, /* c.fldsp fa0,504(sp) == fld fa0,504(sp) */
    { 0x557e, 0x0fc12503, OP_LW },  /* c.lwsp a0,252(sp) == lw a0,252(sp) */
    { 0x4f92, 0x00412f83, OP_LW },  /* c.lwsp t6,4(sp) == lw t6,4(sp) */
    { 0x757e, 0x1f813503, OP_LD },  /* c.ldsp a0,504(sp) == ld a0,504(sp) */
    { 0x60a2, 0x00813083, OP_LD },  /* c.ldsp ra,8(sp) == ld ra,8(sp) */
    { 0x8502, 0x00050067, OP_JALR },   /* c.jr a0 == jalr x0,0(a0) */
    { 0x8082, 0x00008067, OP_JALR },   /* c.jr ra == jalr x0,0(ra) */
    { 0x852e, 0x00b00533, OP_ADD },    /* c.mv a0,a1 == add a0,x0,a1 */
    { 0x9002, 0x00100073, OP_EBREAK }, /* c.ebreak == ebreak */
    { 0x9502, 0x000500e7, OP_JALR },   /* c.jalr a0 == jalr ra,0(a0) */
    { 0x952e, 0x00b50533, OP_ADD },    /* c.add a0,a1 == add a0,a0,a1 */
    { 0xbfaa, 0x1ea13c27, OP_FSD }, /* c.fsdsp fa0,504(sp) == fsd fa0,504(sp) */
    { 0xdfaa, 0x0ea12e23, OP_SW },  /* c.swsp a0,252(sp) == sw a0,252(sp) */
    { 0xc27e, 0x01f12223, OP_SW },  /* c.swsp t6,4(sp) == sw t6,4(sp) */
    { 0xffaa, 0x1ea13c23, OP_SD },  /* c.sdsp a0,504(sp) == sd a0,504(sp) */
    { 0xe406, 0x00113423, OP_SD },  /* c.sdsp ra,8(sp) == sd ra,8(sp) */
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_fields(uint32_t raw, const struct rv_insn *d, unsigned op,
                         unsigned rd, unsigned rs1, unsigned rs2, int64_t imm)
{
    unsigned before = (unsigned)harness_failed_checks;
    CHECK_EQ(d->op, op);
    CHECK_EQ(d->rd, rd);
    CHECK_EQ(d->rs1, rs1);
    CHECK_EQ(d->rs2, rs2);
    CHECK_EQ(d->imm, imm);
    CHECK_EQ(d->len, 4);
    CHECK_EQ(d->raw, raw);
    if ((unsigned)harness_failed_checks != before) {
        printf("  (instruction 0x%08x)\n", raw);
    }
}

TEST(base_and_extensions)
{
    for (unsigned i = 0; i < N(d32); i++) {
        struct rv_insn d;
        rv_decode(d32[i].raw, &d);
        check_fields(d32[i].raw, &d, d32[i].op, d32[i].rd, d32[i].rs1,
                     d32[i].rs2, d32[i].imm);
    }
}

TEST(atomics)
{
    for (unsigned i = 0; i < N(amo); i++) {
        struct rv_insn d;
        rv_decode(amo[i].raw, &d);
        check_fields(amo[i].raw, &d, amo[i].op, amo[i].rd, amo[i].rs1,
                     amo[i].rs2, 0);
        CHECK_EQ(d.fmt, amo[i].fmt);
    }
}

TEST(float)
{
    for (unsigned i = 0; i < N(fp); i++) {
        struct rv_insn d;
        unsigned before = (unsigned)harness_failed_checks;
        rv_decode(fp[i].raw, &d);
        CHECK_EQ(d.op, fp[i].op);
        CHECK_EQ(d.rd, fp[i].rd);
        CHECK_EQ(d.rs1, fp[i].rs1);
        CHECK_EQ(d.rs2, fp[i].rs2);
        CHECK_EQ(d.fmt, fp[i].fmt);
        CHECK_EQ(d.sub, fp[i].sub);
        CHECK_EQ(d.rm, fp[i].rm);
        if (fp[i].op == OP_FMA) {
            CHECK_EQ(d.rs3, 13); /* fa3 in every FMA case */
        }
        if ((unsigned)harness_failed_checks != before) {
            printf("  (instruction 0x%08x)\n", fp[i].raw);
        }
    }
}

TEST(compressed_equals_expansion)
{
    for (unsigned i = 0; i < N(cforms); i++) {
        struct rv_insn c, e;
        unsigned before = (unsigned)harness_failed_checks;
        rv_decode(cforms[i].c, &c);
        rv_decode(cforms[i].e, &e);
        CHECK_EQ(c.len, 2);
        CHECK_EQ(e.len, 4);
        CHECK_EQ(c.raw, cforms[i].c);
        CHECK_EQ(e.op, cforms[i].op);
        CHECK_EQ(c.op, e.op);
        CHECK_EQ(c.rd, e.rd);
        CHECK_EQ(c.rs1, e.rs1);
        CHECK_EQ(c.rs2, e.rs2);
        CHECK_EQ(c.imm, e.imm);
        CHECK_EQ(c.fmt, e.fmt);
        if ((unsigned)harness_failed_checks != before) {
            printf("  (0x%04x vs 0x%08x)\n", cforms[i].c, cforms[i].e);
        }
    }
}

/* Only the low 16 bits of a compressed instruction are decoded. */
TEST(compressed_ignores_upper_half)
{
    struct rv_insn d;
    rv_decode(0xdead0000u | 0x852e, &d); /* c.mv a0,a1 */
    CHECK_EQ(d.op, OP_ADD);
    CHECK_EQ(d.len, 2);
    CHECK_EQ(d.raw, 0x852e);
    CHECK_EQ(d.rd, 10);
    CHECK_EQ(d.rs2, 11);
}

static const uint16_t illegal16[] = {
    0x0000,             /* all zero: defined illegal */
    0x0010,             /* c.addi4spn x12, sp, 0: nzuimm 0 is reserved */
    0x0000 | (1u << 2), /* c.addi4spn x9, sp, 0 */
    0x8000,             /* quadrant 0 funct3 4: reserved */
    0x4002,             /* c.lwsp x0: reserved */
    0x4012,             /* c.lwsp x0, 16(sp) */
    0x6002,             /* c.ldsp x0: reserved */
    0x8002,             /* c.jr x0: reserved */
    0x2001,             /* c.addiw x0, 0: reserved */
    0x2005,             /* c.addiw x0, 1: reserved */
    0x6101,             /* c.addi16sp sp, 0: reserved */
    0x6081,             /* c.lui ra, 0: reserved */
    0x6281,             /* c.lui t0, 0 */
    0x9c41,             /* funct6 100111, funct2 10: reserved */
    0x9c61,             /* funct6 100111, funct2 11: reserved */
};

TEST(illegal_encodings)
{
    const uint32_t illegal32[] = {
        0xffffffffu,                        /* opcode 0x7f: >= 80-bit prefix */
        0x0000001fu,                        /* 48-bit prefix */
        0x0000003fu,                        /* 64-bit prefix */
        0x0000000bu,                        /* custom-0 */
        0x00000057u,                        /* OP-V: V not implemented */
        enc_i(0x03, 10, 7, 11, 0),          /* load funct3 7 */
        enc_s(0x23, 4, 11, 12, 0),          /* store funct3 4 */
        enc_s(0x23, 7, 11, 12, 0),          /* store funct3 7 */
        enc_b(2, 10, 11, 8),                /* branch funct3 2 */
        enc_b(3, 10, 11, 8),                /* branch funct3 3 */
        enc_i(0x67, 1, 1, 10, 0),           /* jalr funct3 1 */
        enc_r(0x33, 10, 0, 11, 12, 0x02),   /* OP funct7 2 */
        enc_r(0x33, 10, 1, 11, 12, 0x20),   /* "sub" with funct3 1 */
        enc_r(0x33, 10, 2, 11, 12, 0x30),   /* rol/ror funct7, funct3 2 */
        enc_r(0x33, 10, 0, 11, 12, 0x14),   /* bset funct7, funct3 0 */
        enc_i(0x13, 10, 1, 11, 0x043),      /* slli with imm[11:6] = 1 */
        enc_i(0x13, 10, 5, 11, 0x443),      /* srli/srai funct6 0x11 */
        enc_i(0x13, 10, 1, 11, 0x603),      /* clz/ctz/cpop group, rs2 3 */
        enc_i(0x13, 10, 5, 11, 0x698),      /* rev8 of RV32 */
        enc_i(0x13, 10, 5, 11, 0x288),      /* orc.b with shamt 8 */
        enc_i(0x1b, 10, 1, 11, 0x020),      /* slliw with shamt[5] set */
        enc_i(0x1b, 10, 5, 11, 0x420),      /* sraiw with shamt[5] set */
        enc_i(0x1b, 10, 2, 11, 0),          /* OP-IMM-32 funct3 2 */
        enc_r(0x3b, 10, 2, 11, 12, 0x00),   /* OP-32 funct3 2 */
        enc_r(0x3b, 10, 1, 11, 12, 0x01),   /* OP-32 M funct3 1 (no mulhw) */
        enc_r(0x3b, 10, 4, 11, 1, 0x04),    /* zext.h with rs2 1 */
        enc_r(0x2f, 10, 2, 11, 1, 0x08),    /* lr.w with rs2 1 */
        enc_r(0x2f, 10, 0, 11, 12, 0x00),   /* amoadd.b (Zabha absent) */
        enc_r(0x2f, 10, 4, 11, 12, 0x00),   /* AMO funct3 4 */
        enc_r(0x2f, 10, 2, 11, 12, 0x14),   /* AMO funct5 5 */
        enc_i(0x07, 10, 1, 11, 0),          /* flh (Zfh absent) */
        enc_i(0x07, 10, 4, 11, 0),          /* flq (Q absent) */
        enc_s(0x27, 1, 11, 12, 0),          /* fsh */
        enc_r(0x53, 10, 0, 11, 12, 0x02),   /* fadd.h */
        enc_r(0x53, 10, 0, 11, 12, 0x03),   /* fadd.q */
        enc_r(0x53, 10, 0, 11, 1, 0x2c),    /* fsqrt.s with rs2 1 */
        enc_r(0x53, 10, 0, 11, 0, 0x20),    /* "fcvt.s.s" */
        enc_r(0x53, 10, 0, 11, 1, 0x21),    /* "fcvt.d.d" */
        enc_r(0x53, 10, 0, 11, 4, 0x60),    /* fcvt.?.s with rs2 4 */
        enc_r(0x53, 10, 0, 11, 4, 0x68),    /* fcvt.s.? with rs2 4 */
        enc_r(0x53, 10, 2, 11, 0, 0x70),    /* fmv.x.w with funct3 2 */
        enc_r(0x53, 10, 0, 11, 1, 0x70),    /* fmv.x.w with rs2 1 */
        enc_r(0x53, 10, 1, 11, 0, 0x78),    /* fmv.w.x with funct3 1 */
        enc_r(0x53, 10, 3, 11, 12, 0x10),   /* fsgnj funct3 3 */
        enc_r(0x53, 10, 2, 11, 12, 0x14),   /* fmin/fmax funct3 2 */
        enc_r(0x53, 10, 3, 11, 12, 0x50),   /* fcmp funct3 3 */
        enc_r(0x53, 10, 0, 11, 12, 0x7c),   /* funct5 0x1f */
        enc_r4(0x43, 10, 0, 11, 12, 2, 13), /* fmadd.h */
        enc_i(0x73, 10, 4, 11, 0x300),      /* SYSTEM funct3 4 */
        0x000000f3u,                        /* ecall with rd 1 */
        0x00108073u,                        /* ebreak with rs1 1 */
        0x302000f3u,                        /* mret with rd 1 */
        0x7b200073u,                        /* dret: no debug mode */
        0x10200073u | (1u << 15),           /* sret with rs1 1 */
        enc_r(0x73, 1, 0, 10, 11, 0x09),    /* sfence.vma with rd 1 */
        enc_i(0x0f, 0, 2, 10, 3),           /* cbo funct 3 */
        enc_i(0x0f, 0, 2, 10, 5),           /* cbo funct 5 */
        enc_i(0x0f, 1, 2, 10, 4),           /* cbo.zero with rd 1 */
        enc_i(0x0f, 0, 3, 10, 0),           /* MISC-MEM funct3 3 */
    };

    for (unsigned i = 0; i < N(illegal32); i++) {
        struct rv_insn d;
        rv_decode(illegal32[i], &d);
        if (d.op != OP_ILLEGAL) {
            printf("  0x%08x decodes to op %u\n", illegal32[i], d.op);
        }
        CHECK_EQ(d.op, OP_ILLEGAL);
        CHECK_EQ(d.len, 4);
        CHECK_EQ(d.raw, illegal32[i]);
    }
    for (unsigned i = 0; i < N(illegal16); i++) {
        struct rv_insn d;
        rv_decode(illegal16[i], &d);
        if (d.op != OP_ILLEGAL) {
            printf("  0x%04x decodes to op %u\n", illegal16[i], d.op);
        }
        CHECK_EQ(d.op, OP_ILLEGAL);
        CHECK_EQ(d.len, 2);
        CHECK_EQ(d.raw, illegal16[i]);
    }
}

/* Executing an illegal instruction traps with cause 2 and the bits. */
TEST(illegal_traps_with_bits)
{
    struct rvt t;
    rvt_init(&t);
    RVT_PROG(&t, I_ADDI(5, 0, 1), enc_r(0x33, 10, 0, 11, 12, 0x02));
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mepc, RVT_CODE + 4);
    CHECK_EQ(t.h->mtval, enc_r(0x33, 10, 0, 11, 12, 0x02));
    CHECK_EQ(t.h->x[5], 1); /* the instruction before it retired */
    rvt_free(&t);

    /* A 16-bit one: mtval holds only its 16 bits. The next halfword is
     * 0xffff, which must not leak into mtval. */
    rvt_init(&t);
    RVT_PROG(&t, 0xffff0010u);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mepc, RVT_CODE);
    CHECK_EQ(t.h->mtval, 0x0010);
    rvt_free(&t);

    /* All-zero memory traps at once. */
    rvt_init(&t);
    t.h->pc = RVT_DATA;
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mepc, RVT_DATA);
    CHECK_EQ(t.h->mtval, 0);
    rvt_free(&t);
}

/* Mixed 16/32-bit code runs with the right lengths: c.li, a 32-bit addi at
 * a 2-byte offset, c.addi, then c.j back over nothing. */
TEST(mixed_lengths_execute)
{
    struct rvt t;
    rvt_init(&t);
    /* 0x4515 c.li a0,5; 0x00a50593 addi a1,a0,10 (at +2); 0x0585 c.addi
     * a1,1; then `j .` at +8. */
    rvt_write32(&t, RVT_CODE, 0x05934515u);
    rvt_write32(&t, RVT_CODE + 4, 0x058500a5u);
    rvt_write32(&t, RVT_CODE + 8, RVT_J_SELF);
    rv_block_flush(t.cpu);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 8);
    CHECK_EQ(t.h->x[10], 5);
    CHECK_EQ(t.h->x[11], 16);
    rvt_free(&t);
}

int main(void)
{
    RUN(base_and_extensions);
    RUN(atomics);
    RUN(float);
    RUN(compressed_equals_expansion);
    RUN(compressed_ignores_upper_half);
    RUN(illegal_encodings);
    RUN(illegal_traps_with_bits);
    RUN(mixed_lengths_execute);
    HARNESS_END();
}
