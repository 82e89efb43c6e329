/* SPDX-License-Identifier: MIT */
/*
 * Starting a riscv64 Linux program (docs/user.md "Loading"): map an ELF64
 * executable, static or dynamic, fixed-address or PIE, and the dynamic
 * loader its PT_INTERP names (looked up under -L), then build the initial
 * stack as Linux's binfmt_elf does: argc, argv, envp, the auxiliary vector
 * and the strings and AT_RANDOM bytes above them. Guest paths are mapped
 * to files here too (user_path). It does not run anything.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user/user.h"

#define STACK_SIZE (8ull << 20)
/* riscv64 HWCAP: one bit per single-letter extension (IMAFDC). */
#define HWCAP_RV64GC                                                      \
    ((1ul << ('i' - 'a')) | (1ul << ('m' - 'a')) | (1ul << ('a' - 'a')) | \
     (1ul << ('f' - 'a')) | (1ul << ('d' - 'a')) | (1ul << ('c' - 'a')))

const char *user_path(const char *path, char *buf, size_t len)
{
    struct stat st;
    char self[64];

    snprintf(self, sizeof(self), "/proc/%d/exe", (int)getpid());
    if (!strcmp(path, "/proc/self/exe") || !strcmp(path, self)) {
        return uproc.exe;
    }
    if (uproc.opt.sysroot && path[0] == '/' && strncmp(path, "/proc/", 6) &&
        strncmp(path, "/dev/", 5) && strcmp(path, "/")) {
        snprintf(buf, len, "%s%s", uproc.opt.sysroot, path);
        if (lstat(buf, &st) == 0) {
            return buf;
        }
    }
    return path;
}

bool elf_is_riscv(const char *path)
{
    Elf64_Ehdr eh;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool ok;

    if (fd < 0) {
        return false;
    }
    ok = read(fd, &eh, sizeof(eh)) == sizeof(eh) &&
         !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
         eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == EM_RISCV;
    close(fd);
    return ok;
}

struct loaded {
    uint64_t base, entry, phdr, phnum, end;
    char interp[PATH_MAX];
};

static int load_one(const char *path, struct loaded *out, const char **msg)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    uint64_t lo = UINT64_MAX, hi = 0, base = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int ret = -ENOEXEC;

    out->interp[0] = 0;
    if (fd < 0) {
        *msg = "cannot open";
        return -errno;
    }
    if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_RISCV ||
        (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
        eh.e_phnum > 64) {
        *msg = "not a riscv64 ELF executable";
        goto out;
    }
    if (pread(fd, ph, eh.e_phnum * sizeof(ph[0]), (off_t)eh.e_phoff) !=
        (ssize_t)(eh.e_phnum * sizeof(ph[0]))) {
        *msg = "short program headers";
        goto out;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD) {
            if (ph[i].p_vaddr < lo) {
                lo = ph[i].p_vaddr;
            }
            if (ph[i].p_vaddr + ph[i].p_memsz > hi) {
                hi = ph[i].p_vaddr + ph[i].p_memsz;
            }
        } else if (ph[i].p_type == PT_INTERP) {
            size_t n =
                ph[i].p_filesz < PATH_MAX ? ph[i].p_filesz : PATH_MAX - 1;
            if (pread(fd, out->interp, n, (off_t)ph[i].p_offset) !=
                (ssize_t)n) {
                *msg = "short PT_INTERP";
                goto out;
            }
            out->interp[n] = 0;
        }
    }
    if (lo >= hi) {
        *msg = "no PT_LOAD";
        goto out;
    }
    lo &= ~(TARGET_PAGE - 1);
    hi = (hi + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
    /* Reserve the whole span first, then map the segments into it. */
    {
        int64_t r =
            mem_mmap(eh.e_type == ET_EXEC ? lo : 0, hi - lo, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                         (eh.e_type == ET_EXEC ? MAP_FIXED_NOREPLACE : 0),
                     -1, 0);
        if (r < 0) {
            *msg = "cannot reserve the address range";
            ret = (int)r;
            goto out;
        }
        base = eh.e_type == ET_EXEC ? 0 : (uint64_t)r - lo;
        mem_set_flags(base + lo, hi - lo, PAGE_VALID);
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        int prot = ((p->p_flags & PF_R) ? PROT_READ : 0) |
                   ((p->p_flags & PF_W) ? PROT_WRITE : 0) |
                   ((p->p_flags & PF_X) ? PROT_EXEC : 0);
        uint64_t va, pgoff, fend, mend;
        if (p->p_type != PT_LOAD) {
            continue;
        }
        va = base + p->p_vaddr;
        pgoff = va & (TARGET_PAGE - 1);
        fend = va + p->p_filesz;
        mend = va + p->p_memsz;
        if (p->p_filesz) {
            void *r = mmap((void *)(uintptr_t)(va - pgoff), p->p_filesz + pgoff,
                           prot | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                           (off_t)(p->p_offset - pgoff));
            if (r == MAP_FAILED) {
                *msg = "cannot map a segment";
                ret = -errno;
                goto out;
            }
            /* The bss starts inside the last file page: zero its tail. */
            if (mend > fend && (fend & (TARGET_PAGE - 1))) {
                memset((void *)(uintptr_t)fend, 0,
                       TARGET_PAGE - (fend & (TARGET_PAGE - 1)));
            }
            mprotect((void *)(uintptr_t)(va - pgoff), p->p_filesz + pgoff,
                     prot);
        }
        {
            uint64_t zs = (fend + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
            if (!p->p_filesz) {
                zs = va - pgoff;
            }
            if (mend > zs) {
                void *r = mmap((void *)(uintptr_t)zs, mend - zs, prot,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                if (r == MAP_FAILED) {
                    *msg = "cannot map the bss";
                    ret = -errno;
                    goto out;
                }
            }
        }
        mem_set_flags(va - pgoff, mend - (va - pgoff), mem_prot_flags(prot));
        if (eh.e_phoff >= p->p_offset &&
            eh.e_phoff < p->p_offset + p->p_filesz) {
            out->phdr = va + (eh.e_phoff - p->p_offset);
        }
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_PHDR) {
            out->phdr = base + ph[i].p_vaddr;
        }
    }
    out->base = base;
    out->entry = base + eh.e_entry;
    out->phnum = eh.e_phnum;
    out->end = base + hi;
    ret = 0;
out:
    close(fd);
    return ret;
}

int elf_load(const char *path, char *const argv[], char *const envp[],
             uint64_t *pc, uint64_t *sp_out, const char **msg)
{
    static struct loaded prog, interp;
    char buf[PATH_MAX];
    int argc = 0, envc = 0, ret;
    uint64_t sp, stack, interp_base = 0;
    uint64_t *argp, *envpp;
    uint8_t rnd[16];

    ret = load_one(path, &prog, msg);
    if (ret < 0) {
        return ret;
    }
    *pc = prog.entry;
    if (prog.interp[0]) {
        const char *ip = user_path(prog.interp, buf, sizeof(buf));
        ret = load_one(ip, &interp, msg);
        if (ret < 0) {
            *msg = "cannot load the program interpreter (is -L set?)";
            return ret;
        }
        interp_base = interp.base;
        *pc = interp.entry;
    }
    uproc.brk_start = uproc.brk_cur = prog.end;

    /* The rt_sigreturn trampoline: li a7, 139; ecall. */
    {
        int64_t t = mem_mmap(0, TARGET_PAGE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        static const uint32_t code[] = { 0x08b00893, 0x00000073 };
        if (t < 0) {
            *msg = "cannot map the signal trampoline";
            return (int)t;
        }
        memcpy((void *)(uintptr_t)t, code, sizeof(code));
        mem_mprotect((uint64_t)t, TARGET_PAGE, PROT_READ | PROT_EXEC);
        uproc.sigtramp = (uint64_t)t;
    }

    {
        int64_t s =
            mem_mmap(0, STACK_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (s < 0) {
            *msg = "cannot map the stack";
            return (int)s;
        }
        stack = (uint64_t)s;
    }
    sp = stack + STACK_SIZE;
    while (argv[argc]) {
        argc++;
    }
    while (envp[envc]) {
        envc++;
    }
    argp = calloc((size_t)argc + 1, sizeof(*argp));
    envpp = calloc((size_t)envc + 1, sizeof(*envpp));
    if (!argp || !envpp) {
        free(argp);
        free(envpp);
        *msg = "out of memory";
        return -ENOMEM;
    }
#define PUSH_STR(s)                             \
    ({                                          \
        size_t n_ = strlen(s) + 1;              \
        sp -= n_;                               \
        memcpy((void *)(uintptr_t)sp, (s), n_); \
        sp;                                     \
    })
    uint64_t execfn = PUSH_STR(path);
    for (int i = envc - 1; i >= 0; i--) {
        envpp[i] = PUSH_STR(envp[i]);
    }
    for (int i = argc - 1; i >= 0; i--) {
        argp[i] = PUSH_STR(argv[i]);
    }
    uint64_t platform = PUSH_STR("riscv64");
    (void)platform;
    sp &= ~15ull;
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
        memset(rnd, 0x5a, sizeof(rnd));
    }
    sp -= 16;
    memcpy((void *)(uintptr_t)sp, rnd, 16);
    uint64_t at_random = sp;

    uint64_t auxv[] = {
        AT_PHDR,   prog.phdr,   AT_PHENT,  sizeof(Elf64_Phdr),
        AT_PHNUM,  prog.phnum,  AT_PAGESZ, TARGET_PAGE,
        AT_BASE,   interp_base, AT_FLAGS,  0,
        AT_ENTRY,  prog.entry,  AT_UID,    getuid(),
        AT_EUID,   geteuid(),   AT_GID,    getgid(),
        AT_EGID,   getegid(),   AT_HWCAP,  HWCAP_RV64GC,
        AT_HWCAP2, 0,           AT_CLKTCK, (uint64_t)sysconf(_SC_CLK_TCK),
        AT_SECURE, 0,           AT_RANDOM, at_random,
        AT_EXECFN, execfn,      AT_NULL,   0,
    };
    uint64_t words =
        1 + (uint64_t)argc + 1 + (uint64_t)envc + 1 + sizeof(auxv) / 8;
    sp -= words * 8;
    sp &= ~15ull;
    {
        uint64_t *w = (uint64_t *)(uintptr_t)sp;
        *w++ = (uint64_t)argc;
        for (int i = 0; i < argc; i++) {
            *w++ = argp[i];
        }
        *w++ = 0;
        for (int i = 0; i < envc; i++) {
            *w++ = envpp[i];
        }
        *w++ = 0;
        uproc.auxv = (uint64_t)(uintptr_t)w;
        uproc.auxv_len = sizeof(auxv);
        memcpy(w, auxv, sizeof(auxv));
    }
    free(argp);
    free(envpp);
    *sp_out = sp;
    return 0;
}
