/* SPDX-License-Identifier: MIT */
/*
 * Tiny functions meant to run in S- or U-mode through run_lower(): each is
 * one access or one privileged instruction followed by ret (ra is
 * lower_return, which gives control back to M). They use no stack, so
 * tests can run them under restrictive PMP or page tables.
 */
    .option norvc
    .text
.macro LO name
    .globl \name
    .align 2
\name:
.endm

LO lo_ld
    ld a0, 0(a0)
    ret
LO lo_lw
    lw a0, 0(a0)
    ret
LO lo_sd
    sd a1, 0(a0)
    li a0, 0
    ret
LO lo_amoadd
    amoadd.d a0, a1, (a0)
    ret
LO lo_jump
    jr a0
LO lo_ecall
    li a0, 0
    ecall
    ret
LO lo_ebreak
    li a0, 0
    ebreak
    ret
LO lo_illegal
    li a0, 0
    .word 0xc0001073            /* csrrw x0, cycle, x0: write to read-only CSR */
    ret
LO lo_csrr_mstatus
    csrr a0, mstatus
    ret
LO lo_csrr_sstatus
    csrr a0, sstatus
    ret
LO lo_csrr_cycle
    csrr a0, cycle
    ret
LO lo_csrr_time
    csrr a0, time
    ret
LO lo_csrr_instret
    csrr a0, instret
    ret
LO lo_csrr_satp
    csrr a0, satp
    ret
LO lo_wfi
    li a0, 0
    wfi
    ret
LO lo_mret
    li a0, 0
    mret
    ret
LO lo_sret
    li a0, 0
    sret
    ret
LO lo_sfence
    li a0, 0
    sfence.vma
    ret
/* S-mode: sret to the next instruction with SPP=S, SPIE=1 and return the
 * sstatus seen after the sret. */
LO lo_sret_to_s
    li t0, (1 << 8) | (1 << 5)
    csrs sstatus, t0
    li t0, (1 << 1)
    csrc sstatus, t0
    la t0, 1f
    csrw sepc, t0
    sret
1:  csrr a0, sstatus
    li t0, (1 << 1)
    csrc sstatus, t0
    ret
/* S-mode: spin with interrupts enabled until the counter at a0 becomes
 * nonzero or a1 iterations pass; returns the counter. */
LO lo_wait_flag
    csrsi sstatus, 2
1:  ld t0, 0(a0)
    bnez t0, 2f
    addi a1, a1, -1
    bnez a1, 1b
2:  csrci sstatus, 2
    ld a0, 0(a0)
    ret
/* any mode: spin until the counter at a0 is nonzero or a1 iterations
 * pass; returns the counter. */
LO lo_spin
1:  ld t0, 0(a0)
    bnez t0, 2f
    addi a1, a1, -1
    bnez a1, 1b
2:  mv a0, t0
    ret
/* M-mode: one load/store with mstatus.MPRV=1 (effective privilege from
 * MPP); no other memory access happens while MPRV is set. */
LO mprv_ld
    li t0, (1 << 17)
    csrs mstatus, t0
    ld a0, 0(a0)
    csrc mstatus, t0
    ret
LO mprv_sd
    li t0, (1 << 17)
    csrs mstatus, t0
    sd a1, 0(a0)
    csrc mstatus, t0
    li a0, 0
    ret
