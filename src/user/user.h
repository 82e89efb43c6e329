/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of linux-user mode (swede-riscv64, docs/user.md):
 * one guest process whose threads are host threads, each running its own
 * user-mode CPU (cpu/riscv rv.h "User mode"). Guest virtual addresses are
 * host addresses (offset 0), so pointers in system call arguments pass
 * through unchanged; mem.c keeps the guest's page protections for the
 * CPU's TLB fills. This header is shared by the files in src/user only.
 */
#ifndef SWEDE_USER_USER_H
#define SWEDE_USER_USER_H

#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cpu/riscv/rv.h"
#include "user/safe_syscall.h"

#define TARGET_NSIG  64
#define TARGET_PAGE  4096ull
#define GUEST_VA_END (1ull << 47) /* first address the guest cannot use */

/* Guest page flags (mem.c). */
#define PAGE_R     0x01
#define PAGE_W     0x02
#define PAGE_X     0x04
#define PAGE_VALID 0x08

struct uthread {
    struct rv_cpu *cpu;
    struct rv_hart *hart;
    struct rv_user_regs r;
    pid_t tid;
    uint64_t clear_child_tid; /* set_tid_address / CLONE_CHILD_CLEARTID */
    uint64_t sigmask;         /* guest blocked signals, bit sig-1 */
    _Atomic uint64_t pending; /* caught host signals, bit sig-1 */
    siginfo_t info[TARGET_NSIG + 1];
    uint64_t ss_sp, ss_size; /* sigaltstack */
    uint32_t ss_flags;
    unsigned map_gen; /* user_map_gen seen by this thread's TLB */
    bool in_guest;    /* host SIGSEGV here is the guest's */
    /* Non-zero when a signal the guest takes is pending: a blocking call
     * made with user_safe_syscall() then does not start. */
    volatile int sig_flag;
    sigjmp_buf fault_jmp;
};

extern __thread struct uthread *ut_self;

struct user_opts {
    const char *sysroot; /* -L, or NULL */
    bool strace;
    const char *log_items, *log_file;
};

struct user_proc {
    struct user_opts opt;
    char exe[PATH_MAX];      /* the guest program, absolute */
    char self_exe[PATH_MAX]; /* swede-riscv64 itself, for execve */
    uint64_t brk_start, brk_cur;
    uint64_t sigtramp; /* rt_sigreturn trampoline */
    uint64_t auxv, auxv_len;
    atomic_int nthreads;
};
extern struct user_proc uproc;
extern _Atomic unsigned user_map_gen;

/* elf.c: load PROGRAM (and its interpreter) and build the initial stack.
 * Sets *pc and *sp. Returns 0 or a negative errno with *msg set. */
int elf_load(const char *path, char *const argv[], char *const envp[],
             uint64_t *pc, uint64_t *sp, const char **msg);
/* The file a guest path names: the sysroot's copy for absolute paths that
 * exist there, /proc/self/exe as the guest program. Returns path or buf. */
const char *user_path(const char *path, char *buf, size_t len);
/* Is the file at path a riscv64 ELF executable? */
bool elf_is_riscv(const char *path);

/* mem.c */
void mem_set_flags(uint64_t start, uint64_t len, unsigned flags);
unsigned mem_flags(uint64_t va);
bool mem_page_ok(uint64_t va, enum rv_user_access acc);
bool mem_range_ok(uint64_t va, uint64_t len, unsigned need);
unsigned mem_prot_flags(int prot);
/* May a system call read (write) the guest's [addr, addr+len)? Every page
 * must be the guest's with that access; false on overflow. len 0 is ok. */
bool user_access_ok(uint64_t addr, uint64_t len, bool write);
/* Length of the guest string at addr, max if there is no NUL in its first
 * max bytes, or -EFAULT if it runs into a page the guest cannot read. */
int64_t user_strnlen(uint64_t addr, uint64_t max);
/* Host mmap for the guest; records flags; returns address or -errno. */
int64_t mem_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd,
                 uint64_t off);
int64_t mem_munmap(uint64_t addr, uint64_t len);
int64_t mem_mprotect(uint64_t addr, uint64_t len, int prot);
int64_t mem_mremap(uint64_t old, uint64_t olen, uint64_t nlen, int flags,
                   uint64_t naddr);
int64_t mem_brk(uint64_t addr);
/* A memfd holding /proc/self/maps as the guest should see it. */
int mem_maps_fd(void);
/* Mappings changed: every thread flushes its TLB before running on. */
void mem_changed(void);

/* syscall.c: one system call; regs in/out through t->r. */
void syscall_do(struct uthread *t);
void strace_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* signal.c */
void sig_init(void);
int64_t sig_action(int sig, uint64_t act, uint64_t oact);
int64_t sig_procmask(int how, uint64_t set, uint64_t oset);
void sig_set_host_mask(uint64_t guest_mask);
int64_t sig_return(struct uthread *t);
int64_t sig_altstack(struct uthread *t, uint64_t ss, uint64_t oss);
int64_t sig_suspend(struct uthread *t, uint64_t mask);
/* Deliver pending signals (before running guest code again). */
void sig_deliver_pending(struct uthread *t);
/* A synchronous fault in guest code (cause as rv_user_run returns). */
void sig_fault(struct uthread *t, int cause, uint64_t tval);
/* Was this signal's handler installed with SA_RESTART? */
bool sig_restarts(int sig);
/* The lowest pending deliverable signal, or 0. */
int sig_next_pending(struct uthread *t);
_Noreturn void sig_die(int sig);

/* main.c: flush swede's own output before the process ends. */
void log_flush_user(void);

/* thread.c */
struct uthread *thread_new(void);
_Noreturn void thread_loop(struct uthread *t);
int64_t thread_clone(struct uthread *t, uint64_t flags, uint64_t newsp,
                     uint64_t ptid, uint64_t tls, uint64_t ctid);
_Noreturn void thread_exit(struct uthread *t, int code);

#endif
