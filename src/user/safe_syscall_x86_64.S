/* SPDX-License-Identifier: MIT */
/*
 * user_safe_syscall(flag, nr, a1..a6), x86_64 host: a system call that a
 * guest signal cannot slip past (safe_syscall.h). It returns the raw kernel result
 * (-errno on failure), or -USER_ERESTART without entering the kernel when
 * *flag is non-zero. The signal handler (signal.c) sets *flag and, if it
 * interrupted this code between the flag test and the syscall instruction
 * (user_safe_syscall_start <= pc < user_safe_syscall_end), moves the pc
 * to user_safe_syscall_bail: a signal arriving just before a blocking call
 * then ends the call at once instead of waiting for it to return.
 *
 * In: rdi flag, rsi nr, rdx a1, rcx a2, r8 a3, r9 a4, stack a5 a6.
 * The kernel takes rax nr, rdi rsi rdx r10 r8 r9, and clobbers rcx, r11.
 */
        .text
        .globl  user_safe_syscall
        .globl  user_safe_syscall_start
        .globl  user_safe_syscall_end
        .globl  user_safe_syscall_bail
        .type   user_safe_syscall, @function
user_safe_syscall:
        .cfi_startproc
        push    %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %rbx, 0
        mov     %rdi, %rbx
        mov     %rsi, %rax
        mov     %rdx, %rdi
        mov     %rcx, %rsi
        mov     %r8, %rdx
        mov     %r9, %r10
        mov     16(%rsp), %r8
        mov     24(%rsp), %r9
user_safe_syscall_start:
        cmpl    $0, (%rbx)
        jne     user_safe_syscall_bail
        syscall
user_safe_syscall_end:
        pop     %rbx
        .cfi_remember_state
        .cfi_adjust_cfa_offset -8
        .cfi_restore %rbx
        ret
        .cfi_restore_state
user_safe_syscall_bail:
        mov     $-512, %rax     /* -USER_ERESTART */
        pop     %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_restore %rbx
        ret
        .cfi_endproc
        .size   user_safe_syscall, .-user_safe_syscall

        .section .note.GNU-stack, "", @progbits
