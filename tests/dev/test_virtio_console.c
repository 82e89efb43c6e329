/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial-device tests: config space, the MULTIPORT control
 * handshake as Linux drives it (DEVICE_READY -> PORT_ADD, PORT_READY ->
 * CONSOLE_PORT / PORT_NAME / PORT_OPEN), data both ways through a
 * -chardev socket (and the main loop), rx backpressure, emergency write,
 * port numbering errors, and hostile control messages (bad port ids,
 * short and oversize messages, unknown events, bad values); and the
 * shared virtio conformance suite over a virtio-mmio transport (a
 * virtconsole on a null chardev plus a port without one, so that the
 * control queues and both ports' queues all take part).
 */
#include <errno.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/chardev.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"
#include "harness.h"
#include "hw/virtio/console.h"
#include "vdev_driver.h"
#include "virtio_conformance.h"

#define CTRL_BUF (VD_DATA_BASE + 0x10000) /* c_ivq buffers, 0x100 apart */
#define OUT_BUF  (VD_DATA_BASE + 0x20000) /* driver -> device messages */
#define RX_BUF   (VD_DATA_BASE + 0x30000)

static char sock_path[108];
static struct mem_map mem;
static struct virtio_serial *ser;
static struct virtio_dev *d;
static struct vd_queue rx0, tx0, civ, cov, rx1, tx1;
static struct chardev *chr;
static unsigned ctrl_posted;
static unsigned initial_ctrl = 8;

static void quit_cb(void *opaque)
{
    (void)opaque;
    loop_quit();
}

static void run_loop_ms(unsigned ms)
{
    struct loop_timer *t = loop_timer_new(quit_cb, NULL);
    loop_timer_arm(t, loop_now_ns() + ms * 1000000ull);
    loop_run();
    loop_timer_free(t);
}

static void post_ctrl_bufs(unsigned k)
{
    for (unsigned i = 0; i < k; i++) {
        struct vd_buf b = { CTRL_BUF + 0x100ull * (ctrl_posted++ % 64), 0x100,
                            true };
        vd_post(&civ, &b, 1);
    }
    vd_notify(&civ);
}

static void send_raw(const void *msg, uint32_t len)
{
    mem_write(&mem, OUT_BUF, msg, len);
    struct vd_buf b = { OUT_BUF, len, false };
    vd_post(&cov, &b, 1);
    vd_notify(&cov);
    uint32_t ulen = 1;
    CHECK(vd_used(&cov, NULL, &ulen));
    CHECK_EQ(ulen, 0);
}

static void send_ctrl(uint32_t id, uint16_t event, uint16_t value)
{
    struct virtio_console_control m = { id, event, value };
    send_raw(&m, sizeof(m));
}

/* The next device -> driver control message; false if none. */
static bool recv_ctrl(struct virtio_console_control *m, char *name,
                      size_t name_size)
{
    uint32_t id, len;
    if (!vd_used(&civ, &id, &len)) {
        return false;
    }
    uint64_t gpa;
    struct vring_desc desc;
    mem_read(&mem, civ.desc + 16ull * id, &desc, sizeof(desc));
    gpa = desc.addr;
    CHECK(len >= sizeof(*m));
    mem_read(&mem, gpa, m, sizeof(*m));
    if (name) {
        size_t n = len - sizeof(*m);
        if (n >= name_size) {
            n = name_size - 1;
        }
        mem_read(&mem, gpa + sizeof(*m), name, n);
        name[n] = 0;
    }
    return true;
}

static void expect_ctrl(uint32_t id, uint16_t event, uint16_t value)
{
    struct virtio_console_control m = { 0 };
    CHECK(recv_ctrl(&m, NULL, 0));
    CHECK_EQ(m.id, id);
    CHECK_EQ(m.event, event);
    CHECK_EQ(m.value, value);
}

static void setup(void)
{
    struct error err = { 0 };
    CHECK(vd_ram(&mem) == 0);
    struct opts o;
    char spec[200];
    snprintf(spec, sizeof(spec), "socket,id=con0,path=%s,server=on,wait=off",
             sock_path);
    CHECK(opts_parse(&o, spec, "backend", "-chardev", &err) == 0);
    chr = chardev_open(&o, &err);
    opts_free(&o);
    CHECK(chr != NULL);
    ser = virtio_serial_new(&mem, 4);
    d = virtio_serial_vdev(ser);
    CHECK_EQ(virtio_serial_add_port(ser, chr, NULL, -1, true, &err), 0);
    CHECK_EQ(
        virtio_serial_add_port(ser, NULL, "org.test.port", -1, false, &err), 1);
    ctrl_posted = 0;
    CHECK(vd_features(d, 1ull << VIRTIO_CONSOLE_F_MULTIPORT));
    CHECK(vd_queue(&rx0, d, 0, 16));
    CHECK(vd_queue(&tx0, d, 1, 16));
    CHECK(vd_queue(&civ, d, 2, 32));
    CHECK(vd_queue(&cov, d, 3, 32));
    CHECK(vd_queue(&rx1, d, 4, 16));
    CHECK(vd_queue(&tx1, d, 5, 16));
    post_ctrl_bufs(initial_ctrl);
    vd_driver_ok(d);
}

static void teardown(void)
{
    virtio_serial_free(ser);
    chardev_close(chr);
    mem_free(&mem);
}

/* The handshake Linux does; leaves port 0 open. */
static void handshake(void)
{
    send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect_ctrl(0, VIRTIO_CONSOLE_PORT_ADD, 1);
    expect_ctrl(1, VIRTIO_CONSOLE_PORT_ADD, 1);
    CHECK(!recv_ctrl(&(struct virtio_console_control){ 0 }, NULL, 0));

    send_ctrl(0, VIRTIO_CONSOLE_PORT_READY, 1);
    expect_ctrl(0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
    expect_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    send_ctrl(1, VIRTIO_CONSOLE_PORT_READY, 1);
    struct virtio_console_control m;
    char name[64];
    CHECK(recv_ctrl(&m, name, sizeof(name)));
    CHECK_EQ(m.id, 1);
    CHECK_EQ(m.event, VIRTIO_CONSOLE_PORT_NAME);
    CHECK(strcmp(name, "org.test.port") == 0);
    expect_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    CHECK(!recv_ctrl(&m, NULL, 0));
    send_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
}

static int client_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    run_loop_ms(30);
    return fd;
}

TEST(config)
{
    setup();
    CHECK_EQ(d->ops->device_id, VIRTIO_ID_CONSOLE);
    CHECK(virtio_has_feature(d, VIRTIO_CONSOLE_F_MULTIPORT));
    CHECK(d->host_features & (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE));
    CHECK(!(d->host_features & (1ull << VIRTIO_CONSOLE_F_SIZE)));
    struct virtio_console_config c;
    vd_cfg_read(d, 0, &c, sizeof(c));
    CHECK_EQ(c.cols, 0);
    CHECK_EQ(c.rows, 0);
    CHECK_EQ(c.max_nr_ports, 4);
    CHECK_EQ(d->num_queues, 10);
    teardown();
}

TEST(handshake_and_data)
{
    setup();
    handshake();
    int fd = client_connect();

    /* tx: two descriptors in one chain reach the chardev in order. */
    mem_write(&mem, OUT_BUF, "hello, ", 7);
    mem_write(&mem, OUT_BUF + 0x100, "world\n", 6);
    struct vd_buf t[2] = { { OUT_BUF, 7, false },
                           { OUT_BUF + 0x100, 6, false } };
    vd_post(&tx0, t, 2);
    vd_notify(&tx0);
    uint32_t len = 1;
    CHECK(vd_used(&tx0, NULL, &len));
    CHECK_EQ(len, 0);
    char buf[64] = { 0 };
    CHECK_EQ(recv(fd, buf, sizeof(buf) - 1, 0), 13);
    CHECK(strcmp(buf, "hello, world\n") == 0);

    /* rx: input flows into the posted buffer. */
    struct vd_buf r = { RX_BUF, 64, true };
    vd_post(&rx0, &r, 1);
    vd_notify(&rx0);
    CHECK_EQ(write(fd, "ls -l\n", 6), 6);
    run_loop_ms(30);
    CHECK(vd_used(&rx0, NULL, &len));
    CHECK_EQ(len, 6);
    CHECK(memcmp(mem_ptr(&mem, RX_BUF, 6, false), "ls -l\n", 6) == 0);

    /* Backpressure: a 4-byte buffer takes 4 bytes, the rest waits. */
    struct vd_buf r4 = { RX_BUF + 0x100, 4, true };
    vd_post(&rx0, &r4, 1);
    vd_notify(&rx0);
    CHECK_EQ(write(fd, "0123456789", 10), 10);
    run_loop_ms(30);
    CHECK(vd_used(&rx0, NULL, &len));
    CHECK_EQ(len, 4);
    CHECK(!vd_used(&rx0, NULL, NULL));
    struct vd_buf r16 = { RX_BUF + 0x200, 16, true };
    vd_post(&rx0, &r16, 1);
    vd_notify(&rx0);
    run_loop_ms(30);
    CHECK(vd_used(&rx0, NULL, &len));
    CHECK_EQ(len, 6);
    CHECK(memcmp(mem_ptr(&mem, RX_BUF + 0x100, 4, false), "0123", 4) == 0);
    CHECK(memcmp(mem_ptr(&mem, RX_BUF + 0x200, 6, false), "456789", 6) == 0);

    /* Emergency write goes to port 0. */
    uint32_t ch = 'E';
    vd_cfg_write(d, 8, &ch, 4);
    memset(buf, 0, sizeof(buf));
    CHECK_EQ(recv(fd, buf, sizeof(buf) - 1, 0), 1);
    CHECK_EQ(buf[0], 'E');

    /* A closed port takes no input: guest closes port 0. */
    send_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 0);
    vd_post(&rx0, &r16, 1);
    vd_notify(&rx0);
    CHECK_EQ(write(fd, "zz", 2), 2);
    run_loop_ms(30);
    CHECK(!vd_used(&rx0, NULL, NULL));
    send_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    run_loop_ms(30);
    CHECK(vd_used(&rx0, NULL, &len));
    CHECK_EQ(len, 2);
    close(fd);
    run_loop_ms(10);
    teardown();
}

TEST(control_queued_without_buffers)
{
    initial_ctrl = 2;
    setup();
    initial_ctrl = 8;
    /* Six messages to the driver, two buffers: four wait, in order. */
    send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    send_ctrl(0, VIRTIO_CONSOLE_PORT_READY, 1);
    send_ctrl(1, VIRTIO_CONSOLE_PORT_READY, 1);
    expect_ctrl(0, VIRTIO_CONSOLE_PORT_ADD, 1);
    expect_ctrl(1, VIRTIO_CONSOLE_PORT_ADD, 1);
    struct virtio_console_control m;
    CHECK(!recv_ctrl(&m, NULL, 0));
    post_ctrl_bufs(3);
    expect_ctrl(0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
    expect_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    CHECK(recv_ctrl(&m, NULL, 0));
    CHECK_EQ(m.event, VIRTIO_CONSOLE_PORT_NAME);
    CHECK(!recv_ctrl(&m, NULL, 0));
    post_ctrl_bufs(4);
    expect_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    CHECK(!recv_ctrl(&m, NULL, 0));
    teardown();
}

TEST(hostile_control)
{
    setup();
    uint64_t before = log_guest_count();
    send_ctrl(0, VIRTIO_CONSOLE_PORT_READY, 1);   /* before DEVICE_READY */
    send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 0); /* driver failed */
    handshake();
    uint64_t after_hs = log_guest_count();
    send_ctrl(99, VIRTIO_CONSOLE_PORT_OPEN, 1); /* no such port */
    send_ctrl(0xffffffff, VIRTIO_CONSOLE_PORT_READY, 1);
    send_ctrl(3, VIRTIO_CONSOLE_PORT_OPEN, 1);    /* unused port */
    send_ctrl(4, VIRTIO_CONSOLE_PORT_READY, 1);   /* past max_ports */
    send_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 7);    /* bad value */
    send_ctrl(0, VIRTIO_CONSOLE_PORT_READY, 1);   /* repeated */
    send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1); /* repeated */
    send_ctrl(0, VIRTIO_CONSOLE_PORT_ADD, 1);     /* device-only event */
    send_ctrl(0, 0xbeef, 1);                      /* unknown event */
    uint8_t shortmsg[4] = { 0, 0, 0, 0 };
    send_raw(shortmsg, sizeof(shortmsg));
    CHECK(log_guest_count() >= after_hs + 10);
    CHECK(log_guest_count() > before);
    /* None of that produced a message or broke the device. */
    struct virtio_console_control m;
    CHECK(!recv_ctrl(&m, NULL, 0));
    CHECK(!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET));

    /* An oversize control buffer: only the first 8 bytes count. */
    uint8_t big[4096] = { 0 };
    struct virtio_console_control open1 = { 1, VIRTIO_CONSOLE_PORT_OPEN, 1 };
    memcpy(big, &open1, sizeof(open1));
    memset(big + 8, 0xff, sizeof(big) - 8);
    send_raw(big, sizeof(big));
    CHECK(!recv_ctrl(&m, NULL, 0));

    /* A tx chain of writable buffers only, and tx on a port without a
     * chardev: completed, nothing written. */
    struct vd_buf w = { OUT_BUF, 16, true };
    vd_post(&tx0, &w, 1);
    vd_notify(&tx0);
    CHECK(vd_used(&tx0, NULL, NULL));
    struct vd_buf o = { OUT_BUF, 16, false };
    vd_post(&tx1, &o, 1);
    vd_notify(&tx1);
    CHECK(vd_used(&tx1, NULL, NULL));
    /* Writes to read-only config. */
    uint32_t v = 77;
    vd_cfg_write(d, 4, &v, 4);
    struct virtio_console_config c;
    vd_cfg_read(d, 0, &c, sizeof(c));
    CHECK_EQ(c.max_nr_ports, 4);
    /* A tx descriptor outside RAM: NEEDS_RESET, and reset recovers. */
    struct vd_buf bad = { 0x10, 16, false };
    vd_post(&tx0, &bad, 1);
    vd_notify(&tx0);
    CHECK(d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    dev_lock();
    virtio_set_status(d, 0);
    dev_unlock();
    CHECK_EQ(d->status, 0);
    teardown();
}

TEST(port_numbers)
{
    struct error err = { 0 };
    CHECK(vd_ram(&mem) == 0);
    CHECK(virtio_serial_new(&mem, 0) == NULL);
    CHECK(virtio_serial_new(&mem, VIRTIO_SERIAL_MAX_PORTS + 1) == NULL);
    ser = virtio_serial_new(&mem, 2);
    CHECK(virtio_serial_add_port(ser, NULL, NULL, 0, false, &err) < 0);
    CHECK(strstr(err.msg, "reserved") != NULL);
    struct error e2 = { 0 };
    CHECK(virtio_serial_add_port(ser, NULL, NULL, 2, true, &e2) < 0);
    CHECK(strstr(e2.msg, "out of range") != NULL);
    struct error e3 = { 0 };
    CHECK_EQ(virtio_serial_add_port(ser, NULL, "a", -1, false, &e3), 1);
    CHECK(virtio_serial_add_port(ser, NULL, NULL, 1, true, &e3) == -EBUSY);
    struct error e4 = { 0 };
    CHECK_EQ(virtio_serial_add_port(ser, NULL, NULL, -1, true, &e4), 0);
    struct error e5 = { 0 };
    CHECK(virtio_serial_add_port(ser, NULL, NULL, -1, true, &e5) == -ENOSPC);
    char longname[300];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    virtio_serial_free(ser);
    ser = virtio_serial_new(&mem, 2);
    struct error e6 = { 0 };
    CHECK(virtio_serial_add_port(ser, NULL, longname, -1, true, &e6) < 0);
    virtio_serial_free(ser);
    mem_free(&mem);
    CHECK(strcmp(virtconsole_model.name, "virtconsole") == 0);
    CHECK(strcmp(virtio_serial_model.name, "virtio-serial-device") == 0);
}

TEST(chardev_open_errors)
{
    const char *bad[] = {
        "bogus,id=x",      "stdio,id=x,signal=maybe",
        "file,id=x",       "socket,id=x,host=h,port=1",
        "null,id=x,foo=1", "socket,id=x,path=/tmp/q,wait=on"
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct error err = { 0 };
        struct opts o;
        CHECK(opts_parse(&o, bad[i], "backend", "-chardev", &err) == 0);
        CHECK(chardev_open(&o, &err) == NULL);
        CHECK(err_is_set(&err) && strstr(err.msg, "-chardev"));
        opts_free(&o);
    }
    struct error err = { 0 };
    struct opts o;
    CHECK(opts_parse(&o, "pty,id=p0", "backend", "-chardev", &err) == 0);
    struct chardev *p = chardev_open(&o, &err);
    opts_free(&o);
    CHECK(p != NULL);
    chardev_write(p, (const uint8_t *)"x", 1);
    chardev_close(p);
    CHECK(opts_parse(&o, "null,id=n0", "backend", "-chardev", &err) == 0);
    p = chardev_open(&o, &err);
    opts_free(&o);
    CHECK(p != NULL);
    chardev_close(p);
}

/* The conformance suite's device: two ports, six queues. */
static struct chardev *conf_chr;

static struct virtio_dev *conf_create(struct mem_map *m, void *arg)
{
    struct error err = { 0 };
    struct opts o;
    (void)arg;
    CHECK(opts_parse(&o, "null,id=cn0", "backend", "-chardev", &err) == 0);
    conf_chr = chardev_open(&o, &err);
    opts_free(&o);
    CHECK(conf_chr != NULL);
    struct virtio_serial *s = virtio_serial_new(m, 2);
    CHECK(s != NULL);
    CHECK_EQ(virtio_serial_add_port(s, conf_chr, NULL, -1, true, &err), 0);
    CHECK_EQ(virtio_serial_add_port(s, NULL, "org.test.conf", -1, false, &err),
             1);
    return virtio_serial_vdev(s);
}

static void conf_destroy(struct virtio_dev *dd)
{
    virtio_serial_free(dd->opaque);
    chardev_close(conf_chr);
    conf_chr = NULL;
}

static void conf_poll(struct virtio_dev *dd)
{
    (void)dd;
    struct loop_timer *t = loop_timer_new(quit_cb, NULL);
    loop_timer_arm(t, loop_now_ns());
    loop_run();
    loop_timer_free(t);
}

TEST(conformance)
{
    CHECK(vd_ram(&mem) == 0);
    struct virtio_serial *s = virtio_serial_new(&mem, 2);
    struct vconf_device cd = {
        .ops = virtio_serial_vdev(s)->ops,
        .create = conf_create,
        .destroy = conf_destroy,
        .poll = conf_poll,
    };
    virtio_serial_free(s);
    mem_free(&mem);
    vconf_run(&cd);
}

int main(void)
{
    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        printf("loop_init: %s\n", err.msg);
        return 1;
    }
    char dir[] = "/tmp/swede-vcon-XXXXXX";
    if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(sock_path, sizeof(sock_path), "%s/con.sock", dir);
    RUN(config);
    RUN(handshake_and_data);
    RUN(control_queued_without_buffers);
    RUN(hostile_control);
    RUN(port_numbers);
    RUN(chardev_open_errors);
    RUN(conformance);
    rmdir(dir);
    HARNESS_END();
}
