/* SPDX-License-Identifier: MIT */
/*
 * NS16550A device tests: registers after reset, the divisor latch,
 * interrupt identification and its priorities, THRE behaviour Linux
 * relies on, the RX FIFO (trigger levels, overrun) fed through loopback,
 * MSR in loopback as Linux's autoconfig probes it, hostile accesses, and
 * input/output through a real unix-socket chardev and the main loop.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus/bus.h"
#include "core/chardev.h"
#include "core/error.h"
#include "core/loop.h"
#include "harness.h"
#include "hw/char/uart16550.h"

#define BASE 0x10000000ull

enum {
    RBR,
    IER,
    IIR,
    LCR,
    MCR,
    LSR,
    MSR,
    SCR
};
#define FCR IIR
#define THR RBR

static int irq_level;
static struct bus *bus;
static struct uart16550 *uart;

static void record(void *opaque, unsigned n, int level)
{
    (void)opaque;
    (void)n;
    irq_level = level;
}

static void setup_chr(struct chardev *chr)
{
    struct error err = { 0 };
    irq_level = 0;
    bus = bus_new();
    uart = uart16550_new(bus, BASE, chr,
                         (struct irq_line){ .set = record, .n = 10 }, &err);
    CHECK(uart != NULL);
}

static void setup(void)
{
    setup_chr(NULL);
}

static void teardown(void)
{
    uart16550_free(uart);
    bus_free(bus);
}

static uint64_t rd(unsigned reg)
{
    uint64_t v = 0xdead;
    CHECK(bus_read(bus, BASE + reg, 1, &v));
    return v;
}

static void wr(unsigned reg, uint64_t v)
{
    CHECK(bus_write(bus, BASE + reg, 1, v));
}

TEST(reset_values)
{
    setup();
    CHECK_EQ(rd(IER), 0);
    CHECK_EQ(rd(IIR), 0x01);
    CHECK_EQ(rd(LCR), 0);
    CHECK_EQ(rd(MCR), 0x08);
    CHECK_EQ(rd(LSR), 0x60);
    CHECK_EQ(rd(MSR), 0xb0);
    CHECK_EQ(rd(SCR), 0);
    CHECK_EQ(rd(RBR), 0);
    CHECK_EQ(irq_level, 0);
    wr(SCR, 0x5a);
    CHECK_EQ(rd(SCR), 0x5a);
    teardown();
}

TEST(divisor_latch)
{
    setup();
    wr(LCR, 0x80);
    CHECK_EQ(rd(RBR), 12); /* QEMU's default divisor */
    CHECK_EQ(rd(IER), 0);
    wr(RBR, 0x03);
    wr(IER, 0x01);
    CHECK_EQ(rd(RBR), 0x03);
    CHECK_EQ(rd(IER), 0x01);
    wr(LCR, 0x03);
    CHECK_EQ(rd(LCR), 0x03);
    /* With DLAB clear, offset 1 is IER again and was not touched. */
    CHECK_EQ(rd(IER), 0);
    wr(LCR, 0x83);
    CHECK_EQ(rd(RBR), 0x03);
    CHECK_EQ(rd(IER), 0x01);

    /* A divisor write is not a transmission: nothing loops back. */
    wr(MCR, 0x10);
    wr(RBR, 'x');
    CHECK_EQ(rd(LSR) & 0x01, 0);
    teardown();
}

TEST(thre_interrupt)
{
    setup();
    wr(IER, 0x02);
    /* ETBEI enabled with THR empty: THRE interrupt at once. */
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(IIR), 0x02);
    /* Reading IIR acknowledged it. */
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(rd(IIR), 0x01);
    /* Each transmitted byte empties THR again: due again. */
    wr(THR, 'a');
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(LSR) & 0x60, 0x60);
    /* Disabling masks it; re-enabling re-raises it (Linux's
     * serial8250_startup UART_BUG_THRE probe). */
    wr(IER, 0x00);
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(rd(IIR), 0x01);
    wr(IER, 0x02);
    CHECK_EQ(irq_level, 1);
    wr(IER, 0x00);
    wr(IER, 0x02);
    CHECK_EQ(rd(IIR), 0x02);
    /* Re-writing IER with ETBEI already set does not re-raise. */
    wr(IER, 0x02);
    CHECK_EQ(irq_level, 0);
    /* IER has 4 bits. */
    wr(IER, 0xff);
    CHECK_EQ(rd(IER), 0x0f);
    teardown();
}

TEST(loopback_rx_and_rda)
{
    setup();
    wr(FCR, 0x01); /* FIFO on, trigger 1 */
    CHECK_EQ(rd(IIR), 0xc1);
    wr(MCR, 0x10);
    wr(IER, 0x01);
    wr(THR, 'A');
    CHECK_EQ(rd(LSR) & 0x01, 1);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(IIR), 0xc4);
    CHECK_EQ(rd(RBR), 'A');
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(rd(LSR) & 0x01, 0);
    CHECK_EQ(rd(IIR), 0xc1);
    /* Empty FIFO reads 0 without harm. */
    CHECK_EQ(rd(RBR), 0);
    CHECK_EQ(rd(LSR), 0x60);
    teardown();
}

TEST(trigger_levels)
{
    static const struct {
        uint8_t fcr;
        unsigned level;
    } cases[] = { { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 } };

    for (unsigned c = 0; c < 4; c++) {
        setup();
        wr(FCR, cases[c].fcr);
        wr(MCR, 0x10);
        wr(IER, 0x01);
        for (unsigned i = 1; i <= 16; i++) {
            wr(THR, i);
            /* Below the trigger level data is reported as a character
             * timeout, at or above it as RX data available. */
            CHECK_EQ(rd(IIR), i >= cases[c].level ? 0xc4 : 0xcc);
            CHECK_EQ(irq_level, 1);
        }
        for (unsigned i = 1; i <= 16; i++) {
            CHECK_EQ(rd(RBR), i);
        }
        CHECK_EQ(irq_level, 0);
        teardown();
    }
}

TEST(fifo_overrun)
{
    setup();
    wr(FCR, 0x07); /* FIFO on, both cleared */
    wr(MCR, 0x10);
    for (unsigned i = 0; i < 17; i++) {
        wr(THR, 0x30 + i);
    }
    uint64_t lsr = rd(LSR);
    CHECK_EQ(lsr & 0x03, 0x03);  /* DR | OE */
    CHECK_EQ(rd(LSR) & 0x02, 0); /* OE clears on read */
    for (unsigned i = 0; i < 16; i++) {
        CHECK_EQ(rd(RBR), 0x30 + i); /* the 17th byte was lost */
    }
    CHECK_EQ(rd(LSR) & 0x01, 0);

    /* Line status interrupt outranks RX data. */
    wr(IER, 0x05);
    for (unsigned i = 0; i < 18; i++) {
        wr(THR, i);
    }
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(IIR), 0xc6);
    CHECK_EQ(rd(LSR) & 0x03, 0x03);
    CHECK_EQ(rd(IIR), 0xc4);
    /* FCR RX reset empties the FIFO and drops the interrupt. */
    wr(FCR, 0x03);
    CHECK_EQ(rd(LSR) & 0x01, 0);
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(rd(IIR), 0xc1);
    teardown();
}

TEST(non_fifo_mode)
{
    setup();
    wr(MCR, 0x10);
    wr(IER, 0x01);
    wr(THR, 'x');
    CHECK_EQ(rd(IIR), 0x04); /* no FIFO bits */
    wr(THR, 'y');
    CHECK_EQ(rd(LSR) & 0x03, 0x03); /* holding register overrun */
    CHECK_EQ(rd(RBR), 'x');
    CHECK_EQ(rd(LSR) & 0x01, 0);
    /* Turning the FIFO on (or off) resets it. */
    wr(THR, 'z');
    wr(FCR, 0x01);
    CHECK_EQ(rd(LSR) & 0x01, 0);
    teardown();
}

TEST(interrupt_priorities)
{
    setup();
    wr(FCR, 0x01);
    wr(MCR, 0x10);
    for (unsigned i = 0; i < 17; i++) {
        wr(THR, i);
    }
    wr(IER, 0x0f); /* also raises THRE */
    wr(MCR, 0x11); /* DTR -> DSR changes: modem status delta */
    CHECK_EQ(rd(IIR), 0xc6);
    rd(LSR);
    CHECK_EQ(rd(IIR), 0xc4);
    for (unsigned i = 0; i < 16; i++) {
        rd(RBR);
    }
    CHECK_EQ(rd(IIR), 0xc2);
    CHECK_EQ(rd(IIR), 0xc0); /* modem status, lowest */
    CHECK_EQ(irq_level, 1);
    rd(MSR);
    CHECK_EQ(rd(IIR), 0xc1);
    CHECK_EQ(irq_level, 0);
    teardown();
}

TEST(loopback_modem_status)
{
    setup();
    /* Linux autoconfig: MCR = LOOP|OUT2|RTS, expects MSR & 0xf0 == 0x90. */
    wr(MCR, 0x1a);
    CHECK_EQ(rd(MSR) & 0xf0, 0x90);
    wr(MCR, 0x1f);
    CHECK_EQ(rd(MSR), 0xf0 | 0x02); /* DSR rose; RI rising is no delta */
    teardown();
}

TEST(msr_deltas)
{
    setup();
    wr(MCR, 0x10); /* all loopback inputs low */
    rd(MSR);
    wr(MCR, 0x17); /* DTR, RTS, OUT1 */
    CHECK_EQ(rd(MSR), 0x70 | 0x01 | 0x02);
    CHECK_EQ(rd(MSR), 0x70);
    wr(MCR, 0x10); /* RI falls: trailing edge */
    CHECK_EQ(rd(MSR), 0x00 | 0x01 | 0x02 | 0x04);
    /* Leaving loopback: the lines read as a ready peer again. */
    wr(MCR, 0x08);
    CHECK_EQ(rd(MSR) & 0xf0, 0xb0);
    teardown();
}

TEST(hostile_accesses)
{
    setup();
    wr(IER, 0x02);
    rd(IIR);
    CHECK_EQ(irq_level, 0);
    uint64_t v;
    for (unsigned off = 8; off < UART16550_SIZE; off += 8) {
        CHECK(bus_write(bus, BASE + off, 8, ~0ull));
        CHECK(bus_read(bus, BASE + off, 8, &v));
        CHECK_EQ(v, 0);
        CHECK(bus_write(bus, BASE + off + 3, 1, 0xff));
    }
    /* LSR and MSR are read-only. */
    wr(LSR, 0xff);
    wr(MSR, 0xff);
    CHECK_EQ(rd(LSR), 0x60);
    CHECK_EQ(rd(MSR), 0xb0);
    /* A wide aligned write uses its low byte on the register at its
     * offset (QEMU serial-mm); neighbours are not written. */
    CHECK(bus_write(bus, BASE + MCR, 4, 0x11223308));
    CHECK_EQ(rd(MCR), 0x08);
    CHECK_EQ(rd(SCR), 0);
    CHECK(bus_write(bus, BASE + 0, 8, 0x0000000000000041ull));
    CHECK_EQ(rd(IER), 0x02);
    CHECK_EQ(irq_level, 1); /* the THR write re-raised THRE */
    /* Unaligned wide access crossing the region end. */
    CHECK(bus_read(bus, BASE + UART16550_SIZE - 2, 4, &v));
    CHECK(bus_write(bus, BASE + UART16550_SIZE - 2, 4, ~0ull));
    CHECK_EQ(rd(LCR), 0);
    CHECK_EQ(rd(MCR), 0x08);
    teardown();
}

TEST(reset_drops_irq)
{
    setup();
    wr(IER, 0x02);
    CHECK_EQ(irq_level, 1);
    dev_lock();
    uart16550_reset(uart);
    dev_unlock();
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(rd(IER), 0);
    teardown();
}

/* ---- through a real chardev and the main loop ---- */

static void quit_cb(void *opaque)
{
    (void)opaque;
    loop_quit();
}

/* Run the main loop for about ms milliseconds. */
static void run_loop_ms(unsigned ms)
{
    struct loop_timer *t = loop_timer_new(quit_cb, NULL);
    loop_timer_arm(t, loop_now_ns() + ms * 1000000ull);
    loop_run();
    loop_timer_free(t);
}

TEST(chardev_input_flow_control)
{
    struct error err = { 0 };
    char path[64], spec[128];
    snprintf(path, sizeof(path), "/tmp/swede-uart-test-%d.sock", getpid());
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", path);
    unlink(path);
    struct chardev *chr = chardev_open_serial_spec(spec, "-serial", &err);
    CHECK(chr != NULL);
    if (!chr) {
        printf("  %s\n", err.msg);
        return;
    }
    setup_chr(chr);

    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    run_loop_ms(50); /* let the server accept */

    uint8_t in[40];
    for (unsigned i = 0; i < sizeof(in); i++) {
        in[i] = (uint8_t)('a' + i % 26);
    }
    CHECK(write(fd, in, sizeof(in)) == (ssize_t)sizeof(in));
    wr(FCR, 0x81); /* FIFO on, trigger 8 */
    wr(IER, 0x01);
    run_loop_ms(50);

    /* The FIFO filled to 16 without overrun: can_read held the rest. */
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(IIR), 0xc4);
    unsigned got = 0;
    for (int round = 0; round < 10 && got < sizeof(in); round++) {
        unsigned n = 0;
        while (rd(LSR) & 0x01) {
            uint64_t lsr = rd(LSR);
            CHECK_EQ(lsr & 0x02, 0);
            CHECK_EQ(rd(RBR), in[got]);
            got++;
            n++;
        }
        CHECK(n <= 16);
        run_loop_ms(20); /* drained: pending input flows again */
    }
    CHECK_EQ(got, sizeof(in));
    CHECK_EQ(irq_level, 0);

    /* Output reaches the peer. */
    wr(THR, 'O');
    wr(THR, 'K');
    char out[4] = { 0 };
    CHECK(read(fd, out, 2) == 2);
    CHECK(memcmp(out, "OK", 2) == 0);

    close(fd);
    teardown();
    chardev_close(chr);
    unlink(path);
}

int main(void)
{
    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        printf("loop_init: %s\n", err.msg);
        return 1;
    }
    RUN(reset_values);
    RUN(divisor_latch);
    RUN(thre_interrupt);
    RUN(loopback_rx_and_rda);
    RUN(trigger_levels);
    RUN(fifo_overrun);
    RUN(non_fifo_mode);
    RUN(interrupt_priorities);
    RUN(loopback_modem_status);
    RUN(msr_deltas);
    RUN(hostile_accesses);
    RUN(reset_drops_irq);
    RUN(chardev_input_flow_control);
    HARNESS_END();
}
