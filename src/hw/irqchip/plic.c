/* SPDX-License-Identifier: MIT */
/*
 * The RISC-V PLIC (riscv-plic-spec 1.0.0, "Memory Map" and "Interrupt
 * Gateways"/"Interrupt Notifications" chapters) with QEMU virt's
 * parameters: 3 priority bits, level-triggered gateways. Each source has a
 * gateway that forwards at most one request at a time: the pending bit
 * follows the input level until a context claims the source, and is
 * re-evaluated from the level when the claim is completed. A context's
 * output is high while some enabled, pending, unclaimed source has a
 * priority above the context's threshold. Not implemented: edge-triggered
 * sources, more than 32 priority levels, the APLIC/AIA.
 */
#include "hw/irqchip/plic.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bus/bus.h"
#include "core/error.h"
#include "core/log.h"

/* Register map, riscv-plic-spec 1.0.0 "Memory Map". */
#define PLIC_PRIORITY_BASE  0x000000u
#define PLIC_PENDING_BASE   0x001000u
#define PLIC_ENABLE_BASE    0x002000u
#define PLIC_ENABLE_STRIDE  0x80u
#define PLIC_CONTEXT_BASE   0x200000u
#define PLIC_CONTEXT_STRIDE 0x1000u
#define PLIC_MAX_SOURCES    1024u
#define PLIC_MAX_CONTEXTS   15872u

/* QEMU virt: VIRT_IRQCHIP_NUM_PRIO_BITS = 3. Priority and threshold are
 * WARL fields, so the unimplemented high bits read back as zero. */
#define PLIC_PRIO_MASK 0x7u

struct plic {
    unsigned nsources;
    unsigned ncontexts;
    unsigned nwords; /* 32-bit words per source bitmap */
    struct irq_line *out;
    int *out_level;
    uint32_t *priority;  /* [nsources] */
    uint32_t *threshold; /* [ncontexts] */
    uint32_t *enable;    /* [ncontexts * nwords] */
    uint32_t *pending;   /* [nwords] */
    uint32_t *claimed;   /* [nwords]: gateway waits for completion */
    uint32_t *level;     /* [nwords]: current input levels */
};

static bool plic_bit(const uint32_t *map, unsigned i)
{
    return (map[i / 32] >> (i % 32)) & 1;
}

static void plic_assign(uint32_t *map, unsigned i, bool v)
{
    uint32_t m = 1u << (i % 32);
    if (v) {
        map[i / 32] |= m;
    } else {
        map[i / 32] &= ~m;
    }
}

/* Highest-priority deliverable source for ctx, ties to the lowest id;
 * 0 when nothing is above the threshold. */
static unsigned plic_best(const struct plic *p, unsigned ctx)
{
    const uint32_t *en = &p->enable[ctx * p->nwords];
    unsigned best = 0;
    uint32_t best_prio = p->threshold[ctx];

    for (unsigned w = 0; w < p->nwords; w++) {
        uint32_t cand = p->pending[w] & ~p->claimed[w] & en[w];
        while (cand) {
            unsigned b = (unsigned)__builtin_ctz(cand);
            unsigned src = w * 32 + b;
            cand &= cand - 1;
            /* Strictly greater: ties keep the lower id, and priority 0
             * never beats a threshold of 0. */
            if (src < p->nsources && p->priority[src] > best_prio) {
                best_prio = p->priority[src];
                best = src;
            }
        }
    }
    return best;
}

static void plic_update(struct plic *p)
{
    for (unsigned c = 0; c < p->ncontexts; c++) {
        int lvl = plic_best(p, c) != 0;
        if (lvl != p->out_level[c]) {
            p->out_level[c] = lvl;
            irq_set(&p->out[c], lvl);
        }
    }
}

static void plic_input(void *opaque, unsigned src, int level)
{
    struct plic *p = opaque;

    if (src == 0 || src >= p->nsources) {
        return;
    }
    plic_assign(p->level, src, level != 0);
    /* The gateway holds a claimed source until completion; a level that
     * drops before the claim withdraws the request, as QEMU does. */
    if (!plic_bit(p->claimed, src)) {
        plic_assign(p->pending, src, level != 0);
    }
    plic_update(p);
}

static uint32_t plic_claim(struct plic *p, unsigned ctx)
{
    unsigned src = plic_best(p, ctx);

    if (src) {
        plic_assign(p->pending, src, false);
        plic_assign(p->claimed, src, true);
        plic_update(p);
    }
    return src;
}

static void plic_complete(struct plic *p, unsigned ctx, uint64_t val)
{
    /* Spec: a completion id that is not a source enabled for this context
     * is silently ignored. */
    if (val == 0 || val >= p->nsources) {
        log_guest("plic: context %u completes bogus source %#llx", ctx,
                  (unsigned long long)val);
        return;
    }
    unsigned src = (unsigned)val;
    if (!plic_bit(&p->enable[ctx * p->nwords], src)) {
        log_guest("plic: context %u completes source %u it has not enabled",
                  ctx, src);
        return;
    }
    if (!plic_bit(p->claimed, src)) {
        log_guest("plic: context %u completes unclaimed source %u", ctx, src);
        return;
    }
    plic_assign(p->claimed, src, false);
    /* Level-triggered: a still-asserted source requests again. */
    plic_assign(p->pending, src, plic_bit(p->level, src));
    plic_update(p);
}

static uint64_t plic_read(void *opaque, uint64_t off, unsigned size)
{
    struct plic *p = opaque;

    if (size != 4) {
        log_guest("plic: %u-byte read at %#llx", size, (unsigned long long)off);
        return 0;
    }
    if (off < PLIC_PENDING_BASE) {
        uint64_t src = off / 4;
        return src < p->nsources ? p->priority[src] : 0;
    }
    if (off < PLIC_ENABLE_BASE) {
        uint64_t w = (off - PLIC_PENDING_BASE) / 4;
        return w < p->nwords ? p->pending[w] : 0;
    }
    if (off < PLIC_CONTEXT_BASE) {
        uint64_t rel = off - PLIC_ENABLE_BASE;
        uint64_t ctx = rel / PLIC_ENABLE_STRIDE;
        uint64_t w = (rel % PLIC_ENABLE_STRIDE) / 4;
        if (ctx < p->ncontexts && w < p->nwords) {
            return p->enable[ctx * p->nwords + w];
        }
        return 0;
    }
    uint64_t rel = off - PLIC_CONTEXT_BASE;
    uint64_t ctx = rel / PLIC_CONTEXT_STRIDE;
    uint64_t reg = rel % PLIC_CONTEXT_STRIDE;
    if (ctx >= p->ncontexts) {
        log_guest("plic: read of missing context %llu",
                  (unsigned long long)ctx);
        return 0;
    }
    if (reg == 0) {
        return p->threshold[ctx];
    }
    if (reg == 4) {
        return plic_claim(p, (unsigned)ctx);
    }
    return 0;
}

static void plic_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct plic *p = opaque;

    if (size != 4) {
        log_guest("plic: %u-byte write at %#llx", size,
                  (unsigned long long)off);
        return;
    }
    val &= 0xffffffffu;

    if (off < PLIC_PENDING_BASE) {
        uint64_t src = off / 4;
        if (src == 0 || src >= p->nsources) {
            log_guest("plic: priority write for missing source %llu",
                      (unsigned long long)src);
            return;
        }
        p->priority[src] = (uint32_t)val & PLIC_PRIO_MASK;
        plic_update(p);
        return;
    }
    if (off < PLIC_ENABLE_BASE) {
        log_guest("plic: write to read-only pending bits at %#llx",
                  (unsigned long long)off);
        return;
    }
    if (off < PLIC_CONTEXT_BASE) {
        uint64_t rel = off - PLIC_ENABLE_BASE;
        uint64_t ctx = rel / PLIC_ENABLE_STRIDE;
        uint64_t w = (rel % PLIC_ENABLE_STRIDE) / 4;
        if (ctx >= p->ncontexts || w >= p->nwords) {
            log_guest("plic: enable write outside sources/contexts at %#llx",
                      (unsigned long long)off);
            return;
        }
        uint32_t v = (uint32_t)val;
        if (w == 0) {
            v &= ~1u; /* source 0 does not exist */
        }
        if (w == p->nwords - 1 && p->nsources % 32) {
            v &= (1u << (p->nsources % 32)) - 1;
        }
        p->enable[ctx * p->nwords + w] = v;
        plic_update(p);
        return;
    }
    uint64_t rel = off - PLIC_CONTEXT_BASE;
    uint64_t ctx = rel / PLIC_CONTEXT_STRIDE;
    uint64_t reg = rel % PLIC_CONTEXT_STRIDE;
    if (ctx >= p->ncontexts) {
        log_guest("plic: write to missing context %llu",
                  (unsigned long long)ctx);
        return;
    }
    if (reg == 0) {
        p->threshold[ctx] = (uint32_t)val & PLIC_PRIO_MASK;
        plic_update(p);
    } else if (reg == 4) {
        plic_complete(p, (unsigned)ctx, val);
    } else {
        log_guest("plic: write to reserved context register %#llx",
                  (unsigned long long)off);
    }
}

static const struct bus_ops plic_ops = {
    .read = plic_read,
    .write = plic_write,
    /* The PLIC takes 4-byte accesses only. min_size 1 lets narrower ones
     * reach us to be refused: widened by the bus they would become a
     * read-modify-write of claim/complete, claiming an interrupt. */
    .min_size = 1,
    .max_size = 4,
};

struct plic *plic_new(struct bus *bus, uint64_t base, unsigned nsources,
                      unsigned ncontexts, const struct irq_line *ctx_out,
                      struct error *err)
{
    if (nsources < 2 || nsources > PLIC_MAX_SOURCES) {
        err_set(err, -EINVAL, "plic: %u sources (must be 2..%u)", nsources,
                PLIC_MAX_SOURCES);
        return NULL;
    }
    if (ncontexts < 1 || ncontexts > PLIC_MAX_CONTEXTS) {
        err_set(err, -EINVAL, "plic: %u contexts (must be 1..%u)", ncontexts,
                PLIC_MAX_CONTEXTS);
        return NULL;
    }
    struct plic *p = calloc(1, sizeof(*p));
    if (!p) {
        err_set(err, -ENOMEM, "plic: out of memory");
        return NULL;
    }
    p->nsources = nsources;
    p->ncontexts = ncontexts;
    p->nwords = (nsources + 31) / 32;
    p->out = calloc(ncontexts, sizeof(*p->out));
    p->out_level = calloc(ncontexts, sizeof(*p->out_level));
    p->priority = calloc(nsources, sizeof(*p->priority));
    p->threshold = calloc(ncontexts, sizeof(*p->threshold));
    p->enable = calloc((size_t)ncontexts * p->nwords, sizeof(*p->enable));
    p->pending = calloc(p->nwords, sizeof(*p->pending));
    p->claimed = calloc(p->nwords, sizeof(*p->claimed));
    p->level = calloc(p->nwords, sizeof(*p->level));
    if (!p->out || !p->out_level || !p->priority || !p->threshold ||
        !p->enable || !p->pending || !p->claimed || !p->level) {
        plic_free(p);
        err_set(err, -ENOMEM, "plic: out of memory");
        return NULL;
    }
    if (ctx_out) {
        for (unsigned c = 0; c < ncontexts; c++) {
            p->out[c] = ctx_out[c];
        }
    }
    int r = bus_map(bus, base, PLIC_SIZE(ncontexts), &plic_ops, p, "plic", err);
    if (r < 0) {
        plic_free(p);
        return NULL;
    }
    return p;
}

void plic_free(struct plic *p)
{
    if (!p) {
        return;
    }
    free(p->out);
    free(p->out_level);
    free(p->priority);
    free(p->threshold);
    free(p->enable);
    free(p->pending);
    free(p->claimed);
    free(p->level);
    free(p);
}

void plic_reset(struct plic *p)
{
    for (unsigned s = 0; s < p->nsources; s++) {
        p->priority[s] = 0;
    }
    for (unsigned c = 0; c < p->ncontexts; c++) {
        p->threshold[c] = 0;
    }
    for (size_t i = 0; i < (size_t)p->ncontexts * p->nwords; i++) {
        p->enable[i] = 0;
    }
    /* Input levels belong to the devices and survive; the gateways
     * restart from them. */
    for (unsigned w = 0; w < p->nwords; w++) {
        p->claimed[w] = 0;
        p->pending[w] = p->level[w];
    }
    for (unsigned c = 0; c < p->ncontexts; c++) {
        p->out_level[c] = 0;
        irq_set(&p->out[c], 0);
    }
}

struct irq_line plic_source(struct plic *p, unsigned src)
{
    assert(src > 0 && src < p->nsources);
    struct irq_line line = { .set = plic_input, .opaque = p, .n = src };
    return line;
}
