/* SPDX-License-Identifier: MIT */
/*
 * A host system call that a guest signal cannot slip past, for the calls
 * of swede-riscv64 that may block (QEMU linux-user's safe_syscall idea).
 * user_safe_syscall() returns the kernel's result (-errno on failure), or
 * -USER_ERESTART without entering the kernel when *flag is set. The
 * host signal handler sets *flag for a signal the guest takes and calls
 * user_safe_syscall_interrupted(): if the thread was stopped between the
 * flag test and the kernel entry, its pc moves to the early return. So a
 * signal that arrives just before a blocking call ends it at once, and the
 * caller restarts the guest's system call after delivering the signal, as
 * if the signal had come before it. The x86_64 version is in assembly
 * (safe_syscall_x86_64.S); elsewhere a C version leaves that last window
 * open (such a signal then waits for the call to return).
 */
#ifndef SWEDE_USER_SAFE_SYSCALL_H
#define SWEDE_USER_SAFE_SYSCALL_H

#define USER_ERESTART 512

long user_safe_syscall(volatile int *flag, long nr, long a1, long a2, long a3,
                       long a4, long a5, long a6);
/* From a signal handler on the same thread: uc is its ucontext_t. */
void user_safe_syscall_interrupted(void *uc);

#ifdef USER_SAFE_SYSCALL_ASM
extern const char user_safe_syscall_start[], user_safe_syscall_end[],
    user_safe_syscall_bail[];
#endif

#endif
