/* SPDX-License-Identifier: MIT */
/*
 * Interrupt lines that boards wire from devices to interrupt controllers.
 * A line is a callback and a number; devices call irq_set() with the
 * device lock held.
 */
#ifndef SWEDE_BUS_IRQ_H
#define SWEDE_BUS_IRQ_H

struct irq_line {
    void (*set)(void *opaque, unsigned n, int level);
    void *opaque;
    unsigned n;
};

static inline void irq_set(const struct irq_line *line, int level)
{
    if (line && line->set) {
        line->set(line->opaque, line->n, level);
    }
}

static inline void irq_raise(const struct irq_line *line)
{
    irq_set(line, 1);
}

static inline void irq_lower(const struct irq_line *line)
{
    irq_set(line, 0);
}

#endif
