/* SPDX-License-Identifier: MIT */
/*
 * Runtime for swede's bare-metal guest tests: console (ns16550a THR with
 * LSR polling), a small printf, the test finisher, trap dispatch and the
 * secondary-hart mailbox. See lib.h for the contracts.
 */
#include "lib.h"

int fails;
volatile trap_hook_fn m_hook, s_hook;
volatile struct trap_record last_trap;
static volatile hart_fn hart_entry[MAX_HARTS];

#define UART_THR      0
#define UART_LSR      5
#define UART_LSR_THRE 0x20

void putc_(char c)
{
    while (!(mmio_r8(UART0_BASE + UART_LSR) & UART_LSR_THRE))
        ;
    mmio_w8(UART0_BASE + UART_THR, (uint8_t)c);
}

void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void put_num(unsigned long v, unsigned base, int width, int neg)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n < width && n < (int)sizeof(buf))
        buf[n++] = '0';
    if (neg)
        putc_('-');
    while (n)
        putc_(buf[--n]);
}

void vpr(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc_(*fmt);
            continue;
        }
        int width = 0;
        fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        switch (*fmt) {
        case 'd': {
            long v = va_arg(ap, long);
            put_num(v < 0 ? -(unsigned long)v : (unsigned long)v, 10, width,
                    v < 0);
            break;
        }
        case 'u':
            put_num(va_arg(ap, unsigned long), 10, width, 0);
            break;
        case 'x':
            put_num(va_arg(ap, unsigned long), 16, width, 0);
            break;
        case 's':
            puts_(va_arg(ap, const char *));
            break;
        case 'c':
            putc_((char)va_arg(ap, int));
            break;
        case '%':
            putc_('%');
            break;
        default:
            putc_('?');
            break;
        }
    }
}

void pr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpr(fmt, ap);
    va_end(ap);
}

void finish(int code)
{
    if (code > 0xffff)
        code = 0xffff;
    fence();
    mmio_w32(FINISHER_BASE, code ? ((uint32_t)code << 16) | 0x3333 : 0x5555);
    for (;;)
        wfi();
}

void pmp_set(int idx, unsigned long addr, unsigned cfg)
{
    /* pmpcfg0 holds entries 0-7, pmpcfg2 entries 8-15 on RV64 */
    unsigned long shift = (idx & 7) * 8;
    unsigned long mask = 0xffUL << shift, val = (unsigned long)cfg << shift;
    switch (idx) {
    case 0:
        csr_write(pmpaddr0, addr);
        break;
    case 1:
        csr_write(pmpaddr1, addr);
        break;
    case 2:
        csr_write(pmpaddr2, addr);
        break;
    case 3:
        csr_write(pmpaddr3, addr);
        break;
    case 4:
        csr_write(pmpaddr4, addr);
        break;
    case 5:
        csr_write(pmpaddr5, addr);
        break;
    case 6:
        csr_write(pmpaddr6, addr);
        break;
    case 7:
        csr_write(pmpaddr7, addr);
        break;
    case 15:
        csr_write(pmpaddr15, addr);
        break;
    default:
        pr("pmp_set: entry %d unsupported\n", idx);
        fails++;
        return;
    }
    if (idx < 8) {
        csr_clear(pmpcfg0, mask);
        csr_set(pmpcfg0, val);
    } else {
        csr_clear(pmpcfg2, mask);
        csr_set(pmpcfg2, val);
    }
    asm volatile("sfence.vma" ::: "memory");
}

void pmp_allow_all(void)
{
    pmp_set(15, ~0UL >> 10, PMP_NAPOT | PMP_R | PMP_W | PMP_X);
}

static unsigned insn_len(unsigned long epc)
{
    return (*(volatile uint16_t *)epc & 3) == 3 ? 4 : 2;
}

/* A marker: m_trap_c/s_trap_c see it and call rec_common() with the
 * privilege the trap came from. */
int rec_hook(struct trap_frame *f)
{
    (void)f;
    return TRAP_RESUME;
}

static int rec_common(struct trap_frame *f, unsigned long prev, int own)
{
    last_trap.count++;
    last_trap.cause = f->cause;
    last_trap.tval = f->tval;
    last_trap.epc = f->epc;
    last_trap.prev_mode = prev;
    if (prev != (unsigned long)own) {
        f->x[10] = TRAPPED;
        return TRAP_EXIT_LOWER;
    }
    f->epc += insn_len(f->epc);
    return TRAP_RESUME;
}

void expect_traps(void)
{
    last_trap.count = 0;
    last_trap.cause = last_trap.tval = last_trap.epc = ~0UL;
    m_hook = rec_hook;
    s_hook = rec_hook;
}

void no_traps(void)
{
    m_hook = 0;
    s_hook = 0;
}

static void unexpected(const char *who, struct trap_frame *f)
{
    pr("FAIL unexpected %s trap: cause=0x%x epc=0x%x tval=0x%x status=0x%x\n",
       who, f->cause, f->epc, f->tval, f->status);
    finish(99);
}

int m_trap_c(struct trap_frame *f)
{
    unsigned long prev = (f->status >> 11) & 3;
    if ((f->cause == CAUSE_ECALL_U || f->cause == CAUSE_ECALL_S) &&
        f->x[17] == LOWER_EXIT_MAGIC)
        return TRAP_EXIT_LOWER;
    trap_hook_fn h = m_hook;
    if (h == rec_hook)
        return rec_common(f, prev, PRV_M);
    if (h)
        return h(f);
    unexpected("M", f);
    return 0;
}

int s_trap_c(struct trap_frame *f)
{
    unsigned long prev = (f->status >> 8) & 1;
    if (f->cause == CAUSE_ECALL_U && f->x[17] == LOWER_EXIT_MAGIC)
        return TRAP_EXIT_LOWER;
    trap_hook_fn h = s_hook;
    if (h == rec_hook)
        return rec_common(f, prev, PRV_S);
    if (h)
        return h(f);
    /* S-mode cannot print safely under PMP/paging; report through M */
    f->x[10] = TRAPPED + 1;
    return TRAP_EXIT_LOWER;
}

void hart_start(unsigned long hart, hart_fn fn)
{
    hart_entry[hart] = fn;
    fence();
    mmio_w32(CLINT_MSIP(hart), 1);
}

void secondary_main(unsigned long hart)
{
    pmp_allow_all();
    csr_write(mie, MIP_MSIP);
    for (;;) {
        wfi();
        if (csr_read(mip) & MIP_MSIP) {
            mmio_w32(CLINT_MSIP(hart), 0);
            fence();
            hart_fn fn = hart < MAX_HARTS ? hart_entry[hart] : 0;
            if (fn) {
                hart_entry[hart] = 0;
                fn(hart);
                csr_write(mie, MIP_MSIP);
            }
        }
    }
}

void runtime_main(void)
{
    pmp_allow_all();
    int r = main();
    r += fails;
    if (r)
        pr("RESULT: FAIL (%d)\n", r);
    else
        pr("RESULT: PASS\n");
    finish(r);
}
