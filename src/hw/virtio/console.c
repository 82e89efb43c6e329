/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial-device (virtio 1.2 spec, section 5.3 "Console Device")
 * with VIRTIO_CONSOLE_F_MULTIPORT and VIRTIO_CONSOLE_F_EMERG_WRITE.
 *
 * Queues: port 0 uses 0 (rx) and 1 (tx), the control queues c_ivq and
 * c_ovq are 2 and 3, port n > 0 uses 2n+2 and 2n+3 (5.3.2). The control
 * protocol (5.3.6.2) as Linux drives it: the driver sends DEVICE_READY,
 * we answer PORT_ADD for each port; it sends PORT_READY per port, we
 * answer CONSOLE_PORT (console ports), PORT_NAME (named ports) and
 * PORT_OPEN (the host side is always open); it sends PORT_OPEN when a
 * guest program opens the port. Every control message is 8 bytes, and
 * its port id and value are checked; anything else is logged and
 * dropped. Messages to the driver wait in a bounded queue until it posts
 * c_ivq buffers.
 *
 * Data: tx chains are written straight from guest memory to the port's
 * chardev. rx is pulled by the chardev: can_read() peeks at the next
 * posted rx buffer (pop + unpop), so input stays in the chardev (and the
 * peer is throttled) while the guest has no room; new rx buffers or the
 * guest opening the port call chardev_accept_input(). Without MULTIPORT
 * only port 0 exists and it is open once the driver is ready.
 *
 * Chardev callbacks run on the main-loop thread and take the device lock;
 * the virtio ops run with it held. Not here: hot-plug, RESIZE, F_SIZE.
 */
#include "hw/virtio/console.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board/board.h"
#include "bus/bus.h"
#include "core/chardev.h"
#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "hw/virtio/virtio.h"

#define SERIAL_QUEUE_SIZE 128
#define SERIAL_RX_MAX     (64u * 1024) /* bytes per can_read answer */
#define CTRL_MSG_SIZE     sizeof(struct virtio_console_control)

struct virtio_serial;

struct vser_port {
    struct virtio_serial *ser;
    unsigned id;
    bool used;
    bool console;
    bool guest_ready; /* PORT_READY(1) seen */
    bool guest_open;  /* PORT_OPEN(1) seen */
    struct chardev *chr;
    char *name;
};

struct vser_ctrl {
    uint32_t id;
    uint16_t event, value;
};

struct virtio_serial {
    struct virtio_dev vdev;
    unsigned max_ports;
    bool device_ready;
    struct vser_port ports[VIRTIO_SERIAL_MAX_PORTS];
    struct vser_ctrl ctrl[VIRTIO_SERIAL_CTRL_PENDING];
    unsigned ctrl_head, ctrl_count;
    struct virtio_console_config cfg;
    struct virtq_elem elem;
};

static bool ser_multiport(const struct virtio_serial *s)
{
    return virtio_has_feature(&s->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
}

static unsigned port_rx_queue(unsigned id)
{
    return id == 0 ? 0 : 2 * id + 2;
}

/* May the guest receive on p now? */
static bool port_rx_open(const struct vser_port *p)
{
    const struct virtio_serial *s = p->ser;
    if (!virtio_driver_ok(&s->vdev)) {
        return false;
    }
    if (!ser_multiport(s)) {
        return p->id == 0;
    }
    return p->guest_open;
}

/* ---- control queue, device to driver ---- */

static void ctrl_flush(struct virtio_serial *s)
{
    struct virtio_dev *d = &s->vdev;
    struct virtq *q = &d->vq[2];
    bool pushed = false;
    if (!virtio_driver_ok(d) || !q->ready) {
        return;
    }
    while (s->ctrl_count > 0) {
        int r = virtq_pop(q, &s->elem);
        if (r < 0) {
            virtio_set_needs_reset(d, "virtio-serial: malformed c_ivq");
            break;
        }
        if (r == 0) {
            break;
        }
        const struct vser_ctrl *c = &s->ctrl[s->ctrl_head];
        struct virtio_console_control msg = {
            .id = htole32(c->id),
            .event = htole16(c->event),
            .value = htole16(c->value),
        };
        size_t w = virtq_write(&s->elem, 0, &msg, sizeof(msg));
        if (c->event == VIRTIO_CONSOLE_PORT_NAME && w == sizeof(msg) &&
            c->id < s->max_ports && s->ports[c->id].name) {
            const char *name = s->ports[c->id].name;
            w += virtq_write(&s->elem, w, name, strlen(name));
        }
        if (w < sizeof(msg)) {
            log_guest("virtio-serial: c_ivq buffer of %llu bytes is too "
                      "small for a control message",
                      (unsigned long long)s->elem.in_len);
        }
        virtq_push(q, &s->elem, (uint32_t)w);
        pushed = true;
        s->ctrl_head = (s->ctrl_head + 1) % VIRTIO_SERIAL_CTRL_PENDING;
        s->ctrl_count--;
    }
    if (pushed) {
        virtio_notify(d, 2);
    }
}

static void ctrl_send(struct virtio_serial *s, uint32_t id, uint16_t event,
                      uint16_t value)
{
    if (s->ctrl_count == VIRTIO_SERIAL_CTRL_PENDING) {
        /* Only a driver that keeps asking without posting c_ivq buffers
         * gets here. */
        log_guest("virtio-serial: control queue full, dropping event %u "
                  "for port %u",
                  event, id);
        return;
    }
    unsigned tail = (s->ctrl_head + s->ctrl_count) % VIRTIO_SERIAL_CTRL_PENDING;
    s->ctrl[tail] = (struct vser_ctrl){ id, event, value };
    s->ctrl_count++;
}

/* ---- control queue, driver to device ---- */

static struct vser_port *ctrl_port(struct virtio_serial *s, uint32_t id,
                                   uint16_t event)
{
    if (id >= s->max_ports || !s->ports[id].used) {
        log_guest("virtio-serial: control event %u for invalid port %u", event,
                  id);
        return NULL;
    }
    return &s->ports[id];
}

static void ctrl_handle(struct virtio_serial *s,
                        const struct virtio_console_control *msg)
{
    uint32_t id = le32toh(msg->id);
    uint16_t event = le16toh(msg->event), value = le16toh(msg->value);
    struct vser_port *p;

    switch (event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
        if (value != 1) {
            log_guest("virtio-serial: driver failed to initialise (%u)", value);
            return;
        }
        if (s->device_ready) {
            log_guest("virtio-serial: repeated DEVICE_READY");
            return;
        }
        s->device_ready = true;
        for (unsigned i = 0; i < s->max_ports; i++) {
            if (s->ports[i].used) {
                ctrl_send(s, i, VIRTIO_CONSOLE_PORT_ADD, 1);
            }
        }
        break;
    case VIRTIO_CONSOLE_PORT_READY:
        if (!(p = ctrl_port(s, id, event))) {
            return;
        }
        if (value != 1) {
            log_guest("virtio-serial: guest failed to add port %u (%u)", id,
                      value);
            return;
        }
        if (!s->device_ready || p->guest_ready) {
            log_guest("virtio-serial: unexpected PORT_READY for port %u", id);
            return;
        }
        p->guest_ready = true;
        if (p->console) {
            ctrl_send(s, id, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
        }
        if (p->name) {
            ctrl_send(s, id, VIRTIO_CONSOLE_PORT_NAME, 1);
        }
        ctrl_send(s, id, VIRTIO_CONSOLE_PORT_OPEN, 1);
        break;
    case VIRTIO_CONSOLE_PORT_OPEN:
        if (!(p = ctrl_port(s, id, event))) {
            return;
        }
        if (value > 1 || !p->guest_ready) {
            log_guest("virtio-serial: bad PORT_OPEN %u for port %u", value, id);
            return;
        }
        p->guest_open = value == 1;
        if (p->guest_open) {
            chardev_accept_input(p->chr);
        }
        break;
    default:
        log_guest("virtio-serial: unexpected control event %u (port %u, "
                  "value %u)",
                  event, id, value);
        break;
    }
}

static void ctrl_receive(struct virtio_serial *s)
{
    struct virtio_dev *d = &s->vdev;
    struct virtq *q = &d->vq[3];
    bool pushed = false;
    for (;;) {
        int r = virtq_pop(q, &s->elem);
        if (r < 0) {
            virtio_set_needs_reset(d, "virtio-serial: malformed c_ovq");
            break;
        }
        if (r == 0) {
            break;
        }
        struct virtio_console_control msg;
        if (virtq_read(&s->elem, 0, &msg, sizeof(msg)) < sizeof(msg)) {
            log_guest("virtio-serial: short control message (%llu bytes)",
                      (unsigned long long)s->elem.out_len);
        } else {
            ctrl_handle(s, &msg);
        }
        virtq_push(q, &s->elem, 0);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(d, 3);
    }
    ctrl_flush(s);
}

/* ---- data ---- */

static void port_transmit(struct virtio_serial *s, unsigned id, unsigned n)
{
    struct virtio_dev *d = &s->vdev;
    struct virtq *q = &d->vq[n];
    struct vser_port *p = id < s->max_ports ? &s->ports[id] : NULL;
    bool pushed = false;
    for (;;) {
        int r = virtq_pop(q, &s->elem);
        if (r < 0) {
            virtio_set_needs_reset(d, "virtio-serial: malformed tx queue");
            break;
        }
        if (r == 0) {
            break;
        }
        /* A port nobody added: the bytes go nowhere, as with QEMU. */
        if (p && p->used && p->chr) {
            for (unsigned i = 0; i < s->elem.n_out; i++) {
                chardev_write(p->chr, s->elem.out[i].iov_base,
                              s->elem.out[i].iov_len);
            }
        }
        virtq_push(q, &s->elem, 0);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(d, n);
    }
}

static size_t port_can_read(void *opaque)
{
    struct vser_port *p = opaque;
    struct virtio_serial *s = p->ser;
    size_t room = 0;
    dev_lock();
    unsigned n = port_rx_queue(p->id);
    struct virtq *q = &s->vdev.vq[n];
    bool pushed = false;
    if (port_rx_open(p) && n < s->vdev.num_queues && q->ready) {
        for (unsigned tries = 0; tries < q->num; tries++) {
            int r = virtq_pop(q, &s->elem);
            if (r < 0) {
                virtio_set_needs_reset(&s->vdev,
                                       "virtio-serial: malformed rx queue");
                break;
            }
            if (r == 0) {
                break;
            }
            if (s->elem.in_len == 0) {
                log_guest("virtio-serial: rx buffer with no writable space");
                virtq_push(q, &s->elem, 0);
                pushed = true;
                continue;
            }
            room =
                s->elem.in_len < SERIAL_RX_MAX ? s->elem.in_len : SERIAL_RX_MAX;
            virtq_unpop(q);
            break;
        }
    }
    if (pushed) {
        virtio_notify(&s->vdev, n);
    }
    dev_unlock();
    return room;
}

static void port_read(void *opaque, const uint8_t *buf, size_t len)
{
    struct vser_port *p = opaque;
    struct virtio_serial *s = p->ser;
    dev_lock();
    unsigned n = port_rx_queue(p->id);
    struct virtq *q = &s->vdev.vq[n];
    bool pushed = false;
    size_t off = 0;
    while (off < len && port_rx_open(p) && q->ready) {
        int r = virtq_pop(q, &s->elem);
        if (r < 0) {
            virtio_set_needs_reset(&s->vdev,
                                   "virtio-serial: malformed rx queue");
            break;
        }
        if (r == 0) {
            break;
        }
        size_t w = virtq_write(&s->elem, 0, buf + off, len - off);
        virtq_push(q, &s->elem, (uint32_t)w);
        pushed = true;
        off += w;
    }
    if (pushed) {
        virtio_notify(&s->vdev, n);
    }
    dev_unlock();
}

static const struct chardev_receiver port_receiver = {
    .can_read = port_can_read,
    .read = port_read,
};

/* ---- virtio ops ---- */

static void ser_queue_notify(struct virtio_dev *d, unsigned n)
{
    struct virtio_serial *s = d->opaque;
    if (n == 2) {
        ctrl_flush(s);
        return;
    }
    if (n == 3) {
        ctrl_receive(s);
        return;
    }
    unsigned id = n < 2 ? 0 : n / 2 - 1;
    if (n & 1) {
        port_transmit(s, id, n);
    } else if (id < s->max_ports && s->ports[id].used) {
        chardev_accept_input(s->ports[id].chr); /* new rx buffers */
    }
}

static uint64_t ser_features(struct virtio_dev *d)
{
    (void)d;
    return (1ull << VIRTIO_CONSOLE_F_MULTIPORT) |
           (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE);
}

static uint32_t ser_config_size(struct virtio_dev *d)
{
    (void)d;
    return sizeof(struct virtio_console_config);
}

static void ser_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                            uint32_t len)
{
    struct virtio_serial *s = d->opaque;
    if (off > sizeof(s->cfg) || len > sizeof(s->cfg) - off) {
        memset(buf, 0, len);
        return;
    }
    memcpy(buf, (const uint8_t *)&s->cfg + off, len);
}

static void ser_config_write(struct virtio_dev *d, uint32_t off,
                             const void *buf, uint32_t len)
{
    struct virtio_serial *s = d->opaque;
    if (off == offsetof(struct virtio_console_config, emerg_wr) && len >= 1) {
        /* Emergency write: one character to port 0, whatever its state. */
        uint8_t ch = *(const uint8_t *)buf;
        if (s->ports[0].used && s->ports[0].chr) {
            chardev_write(s->ports[0].chr, &ch, 1);
        }
        return;
    }
    log_guest("virtio-serial: write to read-only config offset %u", off);
}

static void ser_driver_ok(struct virtio_dev *d)
{
    struct virtio_serial *s = d->opaque;
    if (!ser_multiport(s) && s->ports[0].used) {
        chardev_accept_input(s->ports[0].chr);
    }
    ctrl_flush(s);
}

static void ser_reset(struct virtio_dev *d)
{
    struct virtio_serial *s = d->opaque;
    s->device_ready = false;
    s->ctrl_head = s->ctrl_count = 0;
    for (unsigned i = 0; i < s->max_ports; i++) {
        s->ports[i].guest_ready = false;
        s->ports[i].guest_open = false;
    }
}

static const struct virtio_dev_ops ser_ops = {
    .name = "virtio-serial-device",
    .device_id = VIRTIO_ID_CONSOLE,
    .features = ser_features,
    .config_size = ser_config_size,
    .config_read = ser_config_read,
    .config_write = ser_config_write,
    .driver_ok = ser_driver_ok,
    .queue_notify = ser_queue_notify,
    .reset = ser_reset,
};

struct virtio_serial *virtio_serial_new(struct mem_map *mem, unsigned max_ports)
{
    if (max_ports < 1 || max_ports > VIRTIO_SERIAL_MAX_PORTS) {
        return NULL;
    }
    struct virtio_serial *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->max_ports = max_ports;
    for (unsigned i = 0; i < max_ports; i++) {
        s->ports[i].ser = s;
        s->ports[i].id = i;
    }
    s->cfg.max_nr_ports = htole32(max_ports);
    virtio_dev_init(&s->vdev, &ser_ops, s, mem, 2 * (max_ports + 1),
                    SERIAL_QUEUE_SIZE);
    return s;
}

void virtio_serial_free(struct virtio_serial *s)
{
    if (!s) {
        return;
    }
    for (unsigned i = 0; i < s->max_ports; i++) {
        if (s->ports[i].chr) {
            chardev_set_receiver(s->ports[i].chr, NULL);
        }
        free(s->ports[i].name);
    }
    free(s);
}

struct virtio_dev *virtio_serial_vdev(struct virtio_serial *s)
{
    return &s->vdev;
}

int virtio_serial_add_port(struct virtio_serial *s, struct chardev *chr,
                           const char *name, int nr, bool console,
                           struct error *err)
{
    const char *what = console ? "virtconsole" : "virtserialport";
    if (nr < 0) {
        for (unsigned i = console ? 0 : 1; i < s->max_ports; i++) {
            if (!s->ports[i].used) {
                nr = (int)i;
                break;
            }
        }
        if (nr < 0) {
            return err_set(err, -ENOSPC,
                           "-device %s: all %u ports of the virtio-serial "
                           "device are in use (raise max_ports)",
                           what, s->max_ports);
        }
    } else if (nr == 0 && !console) {
        return err_set(err, -EINVAL,
                       "-device %s: port number 0 is reserved for "
                       "virtconsole devices",
                       what);
    } else if ((unsigned)nr >= s->max_ports) {
        return err_set(err, -EINVAL,
                       "-device %s: nr=%d is out of range (max_ports is %u)",
                       what, nr, s->max_ports);
    } else if (s->ports[nr].used) {
        return err_set(err, -EBUSY, "-device %s: port %d is already in use",
                       what, nr);
    }
    if (name && strlen(name) > VIRTIO_SERIAL_NAME_MAX) {
        return err_set(err, -EINVAL,
                       "-device %s: name= is longer than %u characters", what,
                       VIRTIO_SERIAL_NAME_MAX);
    }
    struct vser_port *p = &s->ports[nr];
    p->name = NULL;
    if (name && *name && !(p->name = strdup(name))) {
        return err_set(err, -ENOMEM, "-device %s: out of memory", what);
    }
    p->used = true;
    p->console = console;
    p->chr = chr;
    if (chr) {
        struct chardev_receiver rx = port_receiver;
        rx.opaque = p;
        chardev_set_receiver(chr, &rx);
    }
    return nr;
}

/* ---- device models ---- */

static int ser_create(struct vm *vm, const struct opts *o,
                      struct device_instance *out, struct error *err)
{
    uint64_t max_ports;
    if (opts_get_uint(o, "max_ports", VIRTIO_SERIAL_MAX_PORTS, &max_ports,
                      "-device virtio-serial-device", err) < 0) {
        return err->code;
    }
    if (max_ports < 1 || max_ports > VIRTIO_SERIAL_MAX_PORTS) {
        return err_set(err, -EINVAL,
                       "-device virtio-serial-device: max_ports=%llu is out "
                       "of range (1..%u)",
                       (unsigned long long)max_ports, VIRTIO_SERIAL_MAX_PORTS);
    }
    struct virtio_serial *s = virtio_serial_new(&vm->mem, (unsigned)max_ports);
    if (!s) {
        return err_set(err, -ENOMEM,
                       "-device virtio-serial-device: out of memory");
    }
    out->model = &virtio_serial_model;
    out->state = s;
    out->vdev = &s->vdev;
    return 0;
}

static void ser_destroy(void *state)
{
    virtio_serial_free(state);
}

static int port_create(struct vm *vm, const struct opts *o,
                       struct device_instance *out, struct error *err,
                       bool console)
{
    const char *what = console ? "virtconsole" : "virtserialport";
    char optname[64];
    snprintf(optname, sizeof(optname), "-device %s", what);

    /* Like QEMU's bus auto-assignment: the newest virtio-serial bus. */
    struct virtio_serial *s = NULL;
    for (unsigned i = vm->ndevices; i-- > 0;) {
        if (vm->devices[i].model == &virtio_serial_model) {
            s = vm->devices[i].state;
            break;
        }
    }
    if (!s) {
        return err_set(err, -ENODEV,
                       "%s: no virtio-serial-device to attach to (add "
                       "-device virtio-serial-device before it)",
                       optname);
    }
    int nr = -1;
    if (opts_get(o, "nr")) {
        uint64_t v;
        if (opts_get_uint(o, "nr", 0, &v, optname, err) < 0) {
            return err->code;
        }
        if (v >= VIRTIO_SERIAL_MAX_PORTS) {
            return err_set(err, -EINVAL,
                           "%s: nr=%llu is out of range (max_ports is %u)",
                           optname, (unsigned long long)v, s->max_ports);
        }
        nr = (int)v;
    }
    struct chardev *chr = NULL;
    const char *id = opts_get(o, "chardev");
    if (id) {
        chr = vm_take_chardev(vm, id, optname, err);
        if (!chr) {
            return err->code ? err->code : -ENOENT;
        }
    }
    int r =
        virtio_serial_add_port(s, chr, opts_get(o, "name"), nr, console, err);
    if (r < 0) {
        return r;
    }
    out->model = console ? &virtconsole_model : &virtserialport_model;
    out->state = &s->ports[r];
    out->vdev = NULL; /* a port, not a virtio device of its own */
    return 0;
}

static int virtconsole_create(struct vm *vm, const struct opts *o,
                              struct device_instance *out, struct error *err)
{
    return port_create(vm, o, out, err, true);
}

static int virtserialport_create(struct vm *vm, const struct opts *o,
                                 struct device_instance *out, struct error *err)
{
    return port_create(vm, o, out, err, false);
}

static void port_destroy(void *state)
{
    (void)state; /* the port belongs to its virtio-serial-device */
}

static const char *const ser_props[] = { "max_ports", NULL };
static const char *const port_props[] = { "chardev", "name", "nr", NULL };

const struct device_model virtio_serial_model = {
    .name = "virtio-serial-device",
    .desc = "virtio serial bus (ports: virtconsole, virtserialport)",
    .props = ser_props,
    .create = ser_create,
    .destroy = ser_destroy,
};

const struct device_model virtconsole_model = {
    .name = "virtconsole",
    .desc = "console port on a virtio-serial-device (hvc)",
    .props = port_props,
    .create = virtconsole_create,
    .destroy = port_destroy,
};

const struct device_model virtserialport_model = {
    .name = "virtserialport",
    .desc = "named port on a virtio-serial-device",
    .props = port_props,
    .create = virtserialport_create,
    .destroy = port_destroy,
};
