/* SPDX-License-Identifier: MIT */
/* See safe_syscall.h. */
#include "user/safe_syscall.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef USER_SAFE_SYSCALL_ASM
void user_safe_syscall_interrupted(void *uc)
{
    greg_t *ip = &((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
    if (*ip >= (greg_t)(uintptr_t)user_safe_syscall_start &&
        *ip < (greg_t)(uintptr_t)user_safe_syscall_end) {
        *ip = (greg_t)(uintptr_t)user_safe_syscall_bail;
    }
}
#else
long user_safe_syscall(volatile int *flag, long nr, long a1, long a2, long a3,
                       long a4, long a5, long a6)
{
    if (*flag) {
        return -USER_ERESTART;
    }
    long r = syscall(nr, a1, a2, a3, a4, a5, a6);
    return r < 0 ? -errno : r;
}

void user_safe_syscall_interrupted(void *uc)
{
    (void)uc;
}
#endif
