/* SPDX-License-Identifier: MIT */
/*
 * Entry, trap vectors and run_lower() for swede's bare-metal guest tests.
 * Every hart enters _start in M-mode (a0 = hartid, a1 = dtb); hart 0 clears
 * .bss and runs main(), the others wait in secondary_main(). Trap entries
 * follow the usual xscratch convention: xscratch is 0 while the hart runs
 * in the trap's own mode and the top of that mode's trap stack while it
 * runs below, so traps from lower modes never use a lower-mode sp.
 */
#define STACK_SIZE 8192
#define FRAME 288
#define MAGIC 0x5ede

    .section .text.init, "ax"
    .option norvc
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    csrw mscratch, zero
    csrw sscratch, zero
    la t0, m_trap_entry
    csrw mtvec, t0
    csrr t0, mhartid
    li t1, STACK_SIZE
    addi t2, t0, 1
    mul t1, t1, t2
    la sp, hart_stacks
    add sp, sp, t1
    li t1, (1 << 13)            /* mstatus.FS = Initial */
    csrs mstatus, t1
    fscsr zero
    bnez t0, 2f
    la t1, _bss_start
    la t2, _bss_end
1:  bgeu t1, t2, 3f
    sd zero, 0(t1)
    addi t1, t1, 8
    j 1b
3:  call runtime_main           /* does not return */
2:  mv a0, t0
    call secondary_main
4:  wfi
    j 4b

/* Save all registers into a frame on the trap stack; \x is m or s. */
.macro TRAP_ENTRY x, ret, prevbit_shift, prevbit_mask, prevbit_val
    .align 4
    csrrw sp, \x\()scratch, sp
    bnez sp, 1f
    csrrw sp, \x\()scratch, sp  /* trap from the same mode: keep sp */
1:  addi sp, sp, -FRAME
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
    csrr t0, \x\()scratch
    bnez t0, 2f
    addi t0, sp, FRAME
2:  sd t0, 16(sp)
    csrw \x\()scratch, zero
    csrr t0, \x\()epc
    sd t0, 256(sp)
    csrr t0, \x\()status
    sd t0, 264(sp)
    csrr t0, \x\()cause
    sd t0, 272(sp)
    csrr t0, \x\()tval
    sd t0, 280(sp)
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    mv a0, sp
    call \x\()_trap_c
    bnez a0, \x\()_trap_exit_lower
    ld t0, 256(sp)
    csrw \x\()epc, t0
    ld t0, 264(sp)
    csrw \x\()status, t0
    srli t0, t0, \prevbit_shift
    andi t0, t0, \prevbit_mask
    li t1, \prevbit_val
    beq t0, t1, 3f
    addi t0, sp, FRAME          /* returning below: re-arm xscratch */
    csrw \x\()scratch, t0
3:  ld x1, 8(sp)
    ld x3, 24(sp)
    ld x4, 32(sp)
    ld x5, 40(sp)
    ld x6, 48(sp)
    ld x7, 56(sp)
    ld x8, 64(sp)
    ld x9, 72(sp)
    ld x10, 80(sp)
    ld x11, 88(sp)
    ld x12, 96(sp)
    ld x13, 104(sp)
    ld x14, 112(sp)
    ld x15, 120(sp)
    ld x16, 128(sp)
    ld x17, 136(sp)
    ld x18, 144(sp)
    ld x19, 152(sp)
    ld x20, 160(sp)
    ld x21, 168(sp)
    ld x22, 176(sp)
    ld x23, 184(sp)
    ld x24, 192(sp)
    ld x25, 200(sp)
    ld x26, 208(sp)
    ld x27, 216(sp)
    ld x28, 224(sp)
    ld x29, 232(sp)
    ld x30, 240(sp)
    ld x31, 248(sp)
    ld sp, 16(sp)
    \ret
.endm

    .text
    .globl m_trap_entry
m_trap_entry:
    TRAP_ENTRY m, mret, 11, 3, 3

    .globl s_trap_entry
s_trap_entry:
    TRAP_ENTRY s, sret, 8, 1, 1

/* S-mode hook asked to leave the lower-mode code: ask M to do it. */
s_trap_exit_lower:
    ld a0, 80(sp)
    li a7, MAGIC
    ecall
1:  j 1b

/* Abandon the lower-mode code; run_lower() returns frame->x[10]. */
m_trap_exit_lower:
    ld a0, 80(sp)
    csrr t0, mhartid
    slli t0, t0, 7
    la t1, lower_ctx
    add t1, t1, t0
    ld ra, 0(t1)
    ld sp, 8(t1)
    ld s0, 16(t1)
    ld s1, 24(t1)
    ld s2, 32(t1)
    ld s3, 40(t1)
    ld s4, 48(t1)
    ld s5, 56(t1)
    ld s6, 64(t1)
    ld s7, 72(t1)
    ld s8, 80(t1)
    ld s9, 88(t1)
    ld s10, 96(t1)
    ld s11, 104(t1)
    ld tp, 112(t1)
    ret

/* long run_lower(long mode, void *fn, long a0, long a1) */
    .globl run_lower
run_lower:
    csrr t0, mhartid
    slli t3, t0, 7
    la t1, lower_ctx
    add t1, t1, t3
    sd ra, 0(t1)
    sd sp, 8(t1)
    sd s0, 16(t1)
    sd s1, 24(t1)
    sd s2, 32(t1)
    sd s3, 40(t1)
    sd s4, 48(t1)
    sd s5, 56(t1)
    sd s6, 64(t1)
    sd s7, 72(t1)
    sd s8, 80(t1)
    sd s9, 88(t1)
    sd s10, 96(t1)
    sd s11, 104(t1)
    sd tp, 112(t1)
    li t1, (3 << 11)
    csrc mstatus, t1
    slli t2, a0, 11
    csrs mstatus, t2
    csrw mepc, a1
    /* M trap stack and lower stack of this hart */
    li t1, STACK_SIZE
    addi t2, t0, 1
    mul t1, t1, t2
    la t3, m_trap_stacks
    add t3, t3, t1
    csrw mscratch, t3
    la t3, s_trap_stacks        /* sscratch: armed only for U */
    add t3, t3, t1
    beqz a0, 1f
    li t3, 0
1:  csrw sscratch, t3
    la sp, lower_stacks
    add sp, sp, t1
    mv a0, a2
    mv a1, a3
    la ra, lower_return
    mret

    .globl lower_return
lower_return:
    li a7, MAGIC
    ecall
1:  j 1b

    .section .stacks, "aw", @nobits
    .align 12
hart_stacks:
    .space STACK_SIZE * 4
m_trap_stacks:
    .space STACK_SIZE * 4
    .globl s_trap_stacks
s_trap_stacks:
    .space STACK_SIZE * 4
    .globl lower_stacks
lower_stacks:
    .space STACK_SIZE * 4
    .globl lower_stack_top
lower_stack_top:

    .bss
    .align 4
lower_ctx:
    .space 128 * 4
