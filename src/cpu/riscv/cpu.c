/* SPDX-License-Identifier: MIT */
/*
 * The CPU emulator's outer loop and public interface (rv.h): creating and
 * resetting harts, running them round-robin on the vCPU thread in slices
 * of instructions, the machine timer (mtime at RV_TIMEBASE_HZ from the
 * host's monotonic clock) and the timer interrupts it drives (CLINT's
 * mtimecmp and Sstc's stimecmp), WFI sleeping, and kicks from other
 * threads. Running all harts on one thread makes every instruction atomic
 * with respect to the other harts; a hart's LR reservation is dropped
 * whenever it is switched out, which keeps LR/SC correct.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/error.h"
#include "core/runstate.h"
#include "cpu/riscv/hart.h"

/* Instructions a hart runs before the loop rechecks time and switches. */
#define RV_SLICE 20000

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rv_time_now(struct rv_cpu *cpu)
{
    return (mono_ns() - cpu->time_base_ns) / (1000000000ull / RV_TIMEBASE_HZ) +
           cpu->time_add;
}

uint64_t rv_cpu_time(struct rv_cpu *cpu)
{
    return rv_time_now(cpu);
}

void rv_cpu_set_time(struct rv_cpu *cpu, uint64_t mtime)
{
    cpu->time_add = 0;
    cpu->time_add = mtime - rv_time_now(cpu);
    rv_cpu_kick(cpu);
}

void rv_update_timer_irqs(struct rv_hart *h, uint64_t now)
{
    uint64_t t = 0;

    if (now >= atomic_load_explicit(&h->mtimecmp, memory_order_relaxed)) {
        t |= 1ull << RV_IRQ_M_TIMER;
    }
    if ((h->menvcfg & MENVCFG_STCE) && now >= h->stimecmp) {
        t |= 1ull << RV_IRQ_S_TIMER;
    }
    h->mip_timer = t;
}

static void hart_reset(struct rv_hart *h, uint64_t pc)
{
    struct rv_cpu *cpu = h->cpu;
    uint64_t id = h->hartid;

    memset(h, 0, offsetof(struct rv_hart, mip_ext));
    h->cpu = cpu;
    h->hartid = id;
    h->pc = pc;
    h->priv = RV_PRIV_M;
    h->data_priv = RV_PRIV_M;
    h->stimecmp = UINT64_MAX;
    atomic_store(&h->mip_ext, 0);
    atomic_store(&h->mtimecmp, UINT64_MAX);
    h->mip_timer = 0;
    if (cpu->user) {
        /* User mode: U from the start, FP on, counters readable, cbo.zero
         * allowed, as Linux sets them up for a process. */
        h->priv = RV_PRIV_U;
        h->data_priv = RV_PRIV_U;
        h->mstatus = 1ull << MSTATUS_FS_SHIFT;
        h->mcounteren = h->scounteren = 7;
        h->menvcfg = h->senvcfg = MENVCFG_CBZE | MENVCFG_CBCFE | MENVCFG_CBIE;
    }
    rv_tlb_flush(h);
}

struct rv_cpu *rv_cpu_new(const struct rv_cpu_config *cfg, struct error *err)
{
    struct rv_cpu *cpu;
    pthread_condattr_t ca;

    if (cfg->nharts < 1 || cfg->nharts > RV_MAX_HARTS) {
        err_set(err, -EINVAL, "%u harts: between 1 and %u are supported",
                cfg->nharts, RV_MAX_HARTS);
        return NULL;
    }
    cpu = calloc(1, sizeof(*cpu));
    if (!cpu) {
        err_set(err, -ENOMEM, "out of memory for the CPU");
        return NULL;
    }
    cpu->arena = mmap(NULL, RV_ARENA_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cpu->arena == MAP_FAILED) {
        free(cpu);
        err_set(err, -ENOMEM, "out of memory for the decoded-block cache");
        return NULL;
    }
    cpu->nharts = cfg->nharts;
    cpu->reset_pc = cfg->reset_pc;
    cpu->mem = cfg->mem;
    cpu->bus = cfg->bus;
    cpu->user = cfg->user;
    cpu->satp_modes = cfg->satp_modes ? cfg->satp_modes : (1u << 8);
    pthread_mutex_init(&cpu->sleep_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cpu->sleep_cond, &ca);
    pthread_condattr_destroy(&ca);
    for (unsigned i = 0; i < cfg->nharts; i++) {
        struct rv_hart *h = aligned_alloc(64, (sizeof(*h) + 63) & ~(size_t)63);
        if (!h) {
            rv_cpu_free(cpu);
            err_set(err, -ENOMEM, "out of memory for hart %u", i);
            return NULL;
        }
        memset(h, 0, sizeof(*h));
        h->cpu = cpu;
        h->hartid = i;
        cpu->harts[i] = h;
    }
    rv_cpu_reset(cpu);
    return cpu;
}

void rv_cpu_free(struct rv_cpu *cpu)
{
    if (!cpu) {
        return;
    }
    for (unsigned i = 0; i < cpu->nharts; i++) {
        free(cpu->harts[i]);
    }
    munmap(cpu->arena, RV_ARENA_SIZE);
    pthread_mutex_destroy(&cpu->sleep_lock);
    pthread_cond_destroy(&cpu->sleep_cond);
    free(cpu);
}

unsigned rv_cpu_nharts(const struct rv_cpu *cpu)
{
    return cpu->nharts;
}

struct rv_hart *rv_cpu_hart(struct rv_cpu *cpu, unsigned i)
{
    return i < cpu->nharts ? cpu->harts[i] : NULL;
}

void rv_cpu_reset(struct rv_cpu *cpu)
{
    cpu->time_base_ns = mono_ns();
    cpu->time_add = 0;
    rv_block_flush(cpu);
    for (unsigned i = 0; i < cpu->nharts; i++) {
        hart_reset(cpu->harts[i], cpu->reset_pc);
    }
}

void rv_cpu_kick(struct rv_cpu *cpu)
{
    atomic_store(&cpu->kicked, true);
    pthread_mutex_lock(&cpu->sleep_lock);
    pthread_cond_signal(&cpu->sleep_cond);
    pthread_mutex_unlock(&cpu->sleep_lock);
}

void rv_cpu_stop(struct rv_cpu *cpu)
{
    atomic_store(&cpu->stop, true);
    rv_cpu_kick(cpu);
}

/* The earliest timer deadline (in mtime ticks) that could wake a hart. */
static uint64_t next_deadline(struct rv_cpu *cpu)
{
    uint64_t d = UINT64_MAX;

    for (unsigned i = 0; i < cpu->nharts; i++) {
        struct rv_hart *h = cpu->harts[i];
        uint64_t m = atomic_load(&h->mtimecmp);
        if (m < d) {
            d = m;
        }
        if ((h->menvcfg & MENVCFG_STCE) && h->stimecmp < d) {
            d = h->stimecmp;
        }
    }
    return d;
}

static void sleep_until(struct rv_cpu *cpu, uint64_t deadline)
{
    uint64_t now = rv_time_now(cpu);
    struct timespec ts;
    uint64_t wait_ns, abs_ns;

    if (deadline <= now) {
        return;
    }
    /* Cap the sleep so a lost wakeup can never hang the machine. */
    wait_ns = (deadline - now) * (1000000000ull / RV_TIMEBASE_HZ);
    if (wait_ns > 100000000ull) {
        wait_ns = 100000000ull;
    }
    abs_ns = mono_ns() + wait_ns;
    ts.tv_sec = (time_t)(abs_ns / 1000000000ull);
    ts.tv_nsec = (long)(abs_ns % 1000000000ull);
    pthread_mutex_lock(&cpu->sleep_lock);
    while (!atomic_load(&cpu->kicked) && !atomic_load(&cpu->stop) &&
           !runstate_pending()) {
        if (pthread_cond_timedwait(&cpu->sleep_cond, &cpu->sleep_lock, &ts) ==
            ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&cpu->sleep_lock);
}

void rv_cpu_run(struct rv_cpu *cpu)
{
    while (!atomic_load(&cpu->stop) && !runstate_pending()) {
        bool all_wfi = true;
        uint64_t now = rv_time_now(cpu);

        atomic_store(&cpu->kicked, false);
        for (unsigned i = 0; i < cpu->nharts; i++) {
            struct rv_hart *h = cpu->harts[i];
            rv_update_timer_irqs(h, now);
            if (h->wfi && rv_pending_irqs(h)) {
                h->wfi = false;
            }
            if (h->wfi) {
                continue;
            }
            all_wfi = false;
            rv_exec_slice(h, RV_SLICE);
            h->res_valid = false;
            if (runstate_pending()) {
                break;
            }
        }
        if (all_wfi) {
            sleep_until(cpu, next_deadline(cpu));
        }
    }
    atomic_store(&cpu->stop, false);
}

void rv_hart_set_irq(struct rv_hart *h, unsigned bit, int level)
{
    uint64_t m = 1ull << bit;

    if (level) {
        atomic_fetch_or(&h->mip_ext, m);
    } else {
        atomic_fetch_and(&h->mip_ext, ~m);
    }
    rv_cpu_kick(h->cpu);
}

void rv_hart_set_mtimecmp(struct rv_hart *h, uint64_t val)
{
    atomic_store(&h->mtimecmp, val);
    /* MTIP follows at once: the CLINT writes from the vCPU thread, and the
     * next instruction may read mip. */
    rv_update_timer_irqs(h, rv_time_now(h->cpu));
    rv_cpu_kick(h->cpu);
}

uint64_t rv_hart_get_mtimecmp(const struct rv_hart *h)
{
    return atomic_load(&((struct rv_hart *)h)->mtimecmp);
}

static const char *const isa_extensions[] = {
    "i",      "m",      "a",     "f",        "d",           "c",     "zicbom",
    "zicboz", "zicntr", "zicsr", "zifencei", "zihintpause", "zihpm", "zba",
    "zbb",    "zbs",    "sstc",  "svpbmt",   NULL,
};

const char *rv_isa_string(void)
{
    return "rv64imafdc_zicbom_zicboz_zicntr_zicsr_zifencei_zihintpause_"
           "zihpm_zba_zbb_zbs_sstc_svpbmt";
}

const char *const *rv_isa_extensions(void)
{
    return isa_extensions;
}

void rv_hart_get_state(const struct rv_hart *h, struct rv_hart_state *st)
{
    st->pc = h->pc;
    memcpy(st->x, h->x, sizeof(st->x));
    memcpy(st->f, h->f, sizeof(st->f));
    st->priv = h->priv;
    st->hartid = h->hartid;
    st->mstatus = h->mstatus;
    st->mip = h->mip | atomic_load_explicit(&h->mip_ext, memory_order_relaxed) |
              h->mip_timer;
    st->mie = h->mie;
    st->mideleg = h->mideleg;
    st->medeleg = h->medeleg;
    st->mtvec = h->mtvec;
    st->stvec = h->stvec;
    st->mepc = h->mepc;
    st->sepc = h->sepc;
    st->mcause = h->mcause;
    st->scause = h->scause;
    st->mtval = h->mtval;
    st->stval = h->stval;
    st->mscratch = h->mscratch;
    st->sscratch = h->sscratch;
    st->satp = h->satp;
    st->fcsr = (uint64_t)h->frm << 5 | h->fflags;
}

void rv_hart_state_print(const struct rv_hart_state *st, FILE *f)
{
    static const char *const xn[32] = {
        "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "s0", "s1", "a0",
        "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
        "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    };
    static const char *const fn[32] = {
        "ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",
        "fs0", "fs1", "fa0",  "fa1",  "fa2", "fa3", "fa4",  "fa5",
        "fa6", "fa7", "fs2",  "fs3",  "fs4", "fs5", "fs6",  "fs7",
        "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
    };
    static const char *const privs[4] = { "U", "S", "?", "M" };
    const struct {
        const char *name;
        uint64_t val;
    } csrs[] = {
        { "pc", st->pc },
        { "mhartid", st->hartid },
        { "mstatus", st->mstatus },
        { "mip", st->mip },
        { "mie", st->mie },
        { "mideleg", st->mideleg },
        { "medeleg", st->medeleg },
        { "mtvec", st->mtvec },
        { "stvec", st->stvec },
        { "mepc", st->mepc },
        { "sepc", st->sepc },
        { "mcause", st->mcause },
        { "scause", st->scause },
        { "mtval", st->mtval },
        { "stval", st->stval },
        { "mscratch", st->mscratch },
        { "sscratch", st->sscratch },
        { "satp", st->satp },
    };
    fprintf(f, " %-8s %s\n", "V", "0");
    fprintf(f, " %-8s %s\n", "priv", privs[st->priv & 3]);
    for (size_t i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++) {
        fprintf(f, " %-8s %016" PRIx64 "\n", csrs[i].name, csrs[i].val);
    }
    for (unsigned i = 0; i < 32; i++) {
        char name[16];
        snprintf(name, sizeof(name), "x%u/%s", i, xn[i]);
        fprintf(f, " %-8s %016" PRIx64 "%s", name, st->x[i],
                (i % 4) == 3 ? "\n" : "");
    }
    for (unsigned i = 0; i < 32; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%u/%s", i, fn[i]);
        fprintf(f, " %-8s %016" PRIx64 "%s", name, st->f[i],
                (i % 4) == 3 ? "\n" : "");
    }
    fprintf(f, " %-8s %016" PRIx64 "\n", "fcsr", st->fcsr);
}
