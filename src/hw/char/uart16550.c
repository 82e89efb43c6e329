/* SPDX-License-Identifier: MIT */
/*
 * An NS16550A UART (TI/National "PC16550D" datasheet, register and
 * interrupt tables) with one-byte register spacing, as QEMU's serial-mm
 * with reg-shift 0. Transmission is instant: a THR write goes straight to
 * the chardev (or, in loopback, into the RX FIFO), so THR and the
 * transmitter are always empty again by the time the guest looks. The
 * 16-byte RX FIFO honours the FCR trigger level: below it, buffered data
 * is reported at once as a character timeout (we have no character clock
 * to wait four characters on), at or above it as RX data available.
 * Loopback reflects MCR into MSR as the datasheet says, which is what
 * Linux's autoconfig probes. Not emulated: baud timing, parity/framing
 * errors, break, the TX FIFO's depth, the RX FIFO's per-byte error flags.
 */
#include "hw/char/uart16550.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bus/bus.h"
#include "core/chardev.h"
#include "core/error.h"
#include "core/log.h"

/* Register offsets (DLAB=0 name / DLAB=1 name). */
#define UART_RBR 0 /* read: RX buffer; write: THR; DLAB: DLL */
#define UART_IER 1 /* DLAB: DLM */
#define UART_IIR 2 /* read: IIR; write: FCR */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_ERBFI 0x01 /* RX data available */
#define UART_IER_ETBEI 0x02 /* THR empty */
#define UART_IER_ELSI  0x04 /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI    0x00
#define UART_IIR_THRI   0x02
#define UART_IIR_RDI    0x04
#define UART_IIR_RLSI   0x06
#define UART_IIR_CTI    0x0c
#define UART_IIR_FIFO   0xc0

#define UART_FCR_FE     0x01
#define UART_FCR_RFR    0x02
#define UART_FCR_XFR    0x04
#define UART_FCR_ITL(v) (((v) >> 6) & 3)

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_MCR_MASK 0x1f

#define UART_LSR_DR      0x01
#define UART_LSR_OE      0x02
#define UART_LSR_PE      0x04
#define UART_LSR_FE      0x08
#define UART_LSR_BI      0x10
#define UART_LSR_THRE    0x20
#define UART_LSR_TEMT    0x40
#define UART_LSR_INT_ANY (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS  0x01
#define UART_MSR_DDSR  0x02
#define UART_MSR_TERI  0x04
#define UART_MSR_DDCD  0x08
#define UART_MSR_CTS   0x10
#define UART_MSR_DSR   0x20
#define UART_MSR_RI    0x40
#define UART_MSR_DCD   0x80
#define UART_MSR_DELTA 0x0f

#define UART_FIFO_LEN 16

struct uart16550 {
    struct chardev *chr;
    struct irq_line irq;
    struct chardev_receiver rx;

    uint16_t divisor;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    bool thr_ipending; /* THRE interrupt latched, cleared by IIR/THR */
    int irq_level;

    uint8_t fifo[UART_FIFO_LEN];
    unsigned fifo_head, fifo_count;
};

static bool uart_fifo_mode(const struct uart16550 *u)
{
    return u->fcr & UART_FCR_FE;
}

static unsigned uart_rx_capacity(const struct uart16550 *u)
{
    /* Without the FIFO the 16550 is a 16450: one holding register. */
    return uart_fifo_mode(u) ? UART_FIFO_LEN : 1;
}

static unsigned uart_trigger_level(const struct uart16550 *u)
{
    static const unsigned itl[4] = { 1, 4, 8, 14 };
    return uart_fifo_mode(u) ? itl[UART_FCR_ITL(u->fcr)] : 1;
}

/* The pending interrupt of highest priority (datasheet table 4). */
static uint8_t uart_iir_id(const struct uart16550 *u)
{
    if ((u->ier & UART_IER_ELSI) && (u->lsr & UART_LSR_INT_ANY)) {
        return UART_IIR_RLSI;
    }
    if ((u->ier & UART_IER_ERBFI) && u->fifo_count) {
        return u->fifo_count >= uart_trigger_level(u) ? UART_IIR_RDI
                                                      : UART_IIR_CTI;
    }
    if ((u->ier & UART_IER_ETBEI) && u->thr_ipending) {
        return UART_IIR_THRI;
    }
    if ((u->ier & UART_IER_EDSSI) && (u->msr & UART_MSR_DELTA)) {
        return UART_IIR_MSI;
    }
    return UART_IIR_NO_INT;
}

static void uart_update_irq(struct uart16550 *u)
{
    int lvl = uart_iir_id(u) != UART_IIR_NO_INT;
    if (lvl != u->irq_level) {
        u->irq_level = lvl;
        irq_set(&u->irq, lvl);
    }
}

static void uart_fifo_clear(struct uart16550 *u)
{
    u->fifo_head = 0;
    u->fifo_count = 0;
    u->lsr &= (uint8_t)~UART_LSR_DR;
}

/* One received byte: into the FIFO, or overrun when it is full (the
 * datasheet: the character in the shift register is lost). */
static void uart_receive_byte(struct uart16550 *u, uint8_t b)
{
    if (u->fifo_count >= uart_rx_capacity(u)) {
        u->lsr |= UART_LSR_OE;
        return;
    }
    u->fifo[(u->fifo_head + u->fifo_count) % UART_FIFO_LEN] = b;
    u->fifo_count++;
    u->lsr |= UART_LSR_DR;
}

static uint8_t uart_loop_msr(uint8_t mcr)
{
    uint8_t m = 0;
    if (mcr & UART_MCR_RTS) {
        m |= UART_MSR_CTS;
    }
    if (mcr & UART_MCR_DTR) {
        m |= UART_MSR_DSR;
    }
    if (mcr & UART_MCR_OUT1) {
        m |= UART_MSR_RI;
    }
    if (mcr & UART_MCR_OUT2) {
        m |= UART_MSR_DCD;
    }
    return m;
}

/* Outside loopback the lines read as a connected, ready peer (as QEMU). */
#define UART_MSR_IDLE (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)

static void uart_set_modem_status(struct uart16550 *u, uint8_t status)
{
    uint8_t old = u->msr & 0xf0;
    uint8_t delta = u->msr & UART_MSR_DELTA;
    uint8_t chg = old ^ status;

    if (chg & UART_MSR_CTS) {
        delta |= UART_MSR_DCTS;
    }
    if (chg & UART_MSR_DSR) {
        delta |= UART_MSR_DDSR;
    }
    if (chg & UART_MSR_DCD) {
        delta |= UART_MSR_DDCD;
    }
    if ((old & UART_MSR_RI) && !(status & UART_MSR_RI)) {
        delta |= UART_MSR_TERI; /* trailing edge only */
    }
    u->msr = status | delta;
}

static void uart_transmit(struct uart16550 *u, uint8_t b)
{
    if (u->mcr & UART_MCR_LOOP) {
        uart_receive_byte(u, b);
    } else if (u->chr) {
        chardev_write(u->chr, &b, 1);
    }
    /* The byte left at once: THR and shifter are empty again, and the
     * THRE interrupt (cleared by this write) is due again. */
    u->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
    u->thr_ipending = true;
}

static uint8_t uart_read_rbr(struct uart16550 *u)
{
    if (!u->fifo_count) {
        return 0;
    }
    uint8_t b = u->fifo[u->fifo_head];
    u->fifo_head = (u->fifo_head + 1) % UART_FIFO_LEN;
    u->fifo_count--;
    if (!u->fifo_count) {
        u->lsr &= (uint8_t)~UART_LSR_DR;
        /* Drained: let the chardev deliver what it held back. Only on
         * empty, so a guest reading byte by byte costs one wakeup per
         * FIFO-full rather than one per byte. */
        if (u->chr) {
            chardev_accept_input(u->chr);
        }
    }
    return b;
}

static uint64_t uart_read(void *opaque, uint64_t off, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t r = 0;
    (void)size;

    switch (off) {
    case UART_RBR:
        r = (u->lcr & UART_LCR_DLAB) ? (uint8_t)u->divisor : uart_read_rbr(u);
        break;
    case UART_IER:
        r = (u->lcr & UART_LCR_DLAB) ? (uint8_t)(u->divisor >> 8) : u->ier;
        break;
    case UART_IIR:
        r = uart_iir_id(u);
        /* Reading IIR while it reports THRE acknowledges that source. */
        if (r == UART_IIR_THRI) {
            u->thr_ipending = false;
        }
        if (uart_fifo_mode(u)) {
            r |= UART_IIR_FIFO;
        }
        break;
    case UART_LCR:
        r = u->lcr;
        break;
    case UART_MCR:
        r = u->mcr;
        break;
    case UART_LSR:
        r = u->lsr;
        /* Error bits clear on read. */
        u->lsr &= (uint8_t)~UART_LSR_INT_ANY;
        break;
    case UART_MSR:
        r = u->msr;
        u->msr &= (uint8_t)~UART_MSR_DELTA;
        break;
    case UART_SCR:
        r = u->scr;
        break;
    default:
        log_guest("uart16550: read at unimplemented offset %#llx",
                  (unsigned long long)off);
        return 0;
    }
    uart_update_irq(u);
    return r;
}

static void uart_write_fcr(struct uart16550 *u, uint8_t v)
{
    bool was = uart_fifo_mode(u);

    /* Toggling FE resets both FIFOs (datasheet FCR bit 0). */
    if ((v & UART_FCR_RFR) || was != !!(v & UART_FCR_FE)) {
        uart_fifo_clear(u);
        if (u->chr) {
            chardev_accept_input(u->chr);
        }
    }
    /* Bits 1-2 self-clear; 4-5 are reserved. */
    u->fcr = v & 0xc9;
}

static void uart_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t v = (uint8_t)val;
    (void)size;

    switch (off) {
    case UART_RBR:
        if (u->lcr & UART_LCR_DLAB) {
            u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
        } else {
            u->thr_ipending = false;
            uart_transmit(u, v);
        }
        break;
    case UART_IER:
        if (u->lcr & UART_LCR_DLAB) {
            u->divisor = (uint16_t)((u->divisor & 0x00ff) | v << 8);
        } else {
            uint8_t old = u->ier;
            u->ier = v & 0x0f;
            /* Enabling ETBEI with THR empty raises THRE at once; Linux's
             * serial8250 start-up test and TX path rely on it. */
            if (!(old & UART_IER_ETBEI) && (u->ier & UART_IER_ETBEI) &&
                (u->lsr & UART_LSR_THRE)) {
                u->thr_ipending = true;
            }
        }
        break;
    case UART_IIR:
        uart_write_fcr(u, v);
        break;
    case UART_LCR:
        u->lcr = v;
        break;
    case UART_MCR: {
        u->mcr = v & UART_MCR_MASK;
        uart_set_modem_status(u, (u->mcr & UART_MCR_LOOP)
                                     ? uart_loop_msr(u->mcr)
                                     : UART_MSR_IDLE);
        break;
    }
    case UART_LSR:
    case UART_MSR:
        /* Factory-test registers on some parts; read-only here. */
        log_guest("uart16550: write to read-only register %llu",
                  (unsigned long long)off);
        break;
    case UART_SCR:
        u->scr = v;
        break;
    default:
        log_guest("uart16550: write at unimplemented offset %#llx",
                  (unsigned long long)off);
        return;
    }
    uart_update_irq(u);
}

static const struct bus_ops uart_ops = {
    .read = uart_read,
    .write = uart_write,
    /* As QEMU's serial-mm: any width reaches the register at its offset,
     * using the low byte, so a wide access never hits the neighbours. */
    .min_size = 1,
    .max_size = 8,
};

static size_t uart_can_read(void *opaque)
{
    struct uart16550 *u = opaque;
    dev_lock();
    size_t n = uart_rx_capacity(u) - u->fifo_count;
    dev_unlock();
    return n;
}

static void uart_chr_read(void *opaque, const uint8_t *buf, size_t n)
{
    struct uart16550 *u = opaque;
    dev_lock();
    for (size_t i = 0; i < n; i++) {
        uart_receive_byte(u, buf[i]);
    }
    uart_update_irq(u);
    dev_unlock();
}

struct uart16550 *uart16550_new(struct bus *bus, uint64_t base,
                                struct chardev *chr, struct irq_line irq,
                                struct error *err)
{
    struct uart16550 *u = calloc(1, sizeof(*u));
    if (!u) {
        err_set(err, -ENOMEM, "uart16550: out of memory");
        return NULL;
    }
    u->irq = irq;
    u->rx.can_read = uart_can_read;
    u->rx.read = uart_chr_read;
    u->rx.opaque = u;
    uart16550_reset(u);
    /* After the reset: no receiver is registered yet to accept input. */
    u->chr = chr;
    if (bus_map(bus, base, UART16550_SIZE, &uart_ops, u, "serial", err) < 0) {
        free(u);
        return NULL;
    }
    if (chr) {
        chardev_set_receiver(chr, &u->rx);
    }
    return u;
}

void uart16550_free(struct uart16550 *u)
{
    if (!u) {
        return;
    }
    if (u->chr) {
        chardev_set_receiver(u->chr, NULL);
    }
    free(u);
}

void uart16550_reset(struct uart16550 *u)
{
    /* Datasheet table 10 (reset control), plus QEMU's divisor default. */
    u->divisor = 12; /* 9600 baud at 1.8432 MHz, as QEMU */
    u->ier = 0;
    u->lcr = 0;
    u->mcr = UART_MCR_OUT2;
    u->lsr = UART_LSR_THRE | UART_LSR_TEMT;
    u->msr = UART_MSR_IDLE;
    u->scr = 0;
    u->fcr = 0;
    u->thr_ipending = false;
    uart_fifo_clear(u);
    u->irq_level = 0;
    irq_set(&u->irq, 0);
    if (u->chr) {
        chardev_accept_input(u->chr);
    }
}
