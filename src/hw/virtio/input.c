/* SPDX-License-Identifier: MIT */
/*
 * virtio-input devices (virtio 1.2 spec, section 5.8 "Input Device"):
 * keyboard, mouse and tablet, with QEMU's names, device ids and event
 * bitmaps so guests see the same devices as under QEMU.
 *
 * Config space (5.8.4) is a select/subsel window: the driver writes
 * select and subsel and reads back size and the union. Only those two
 * bytes are writable; the answer is rebuilt on every write, unknown
 * selections answer size 0. The event queue (0) carries
 * struct virtio_input_event to the driver; events are kept in a bounded
 * ring until an EV_SYN and while the driver has posted no buffers, and the
 * oldest are dropped (with a log line) when it is full. The status queue
 * (1) carries events from the driver (LED state); each chain is parsed in
 * 8-byte events, at most STATUS_MAX_EVENTS of them, and anything else is
 * logged and ignored. Everything but the send API runs with the device
 * lock held.
 */
#include "hw/virtio/input.h"

#include <endian.h>
#include <errno.h>
#include <linux/input-event-codes.h>
#include <linux/input.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_input.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "board/board.h"
#include "bus/bus.h"
#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "hw/virtio/virtio.h"
#include "ui/console.h"

#define INPUT_QUEUE_SIZE  64
#define STATUS_MAX_EVENTS 64
#define QEMU_VENDOR       0x0627 /* QEMU's virtio-input vendor id */

struct virtio_input {
    struct virtio_dev vdev;
    enum virtio_input_kind kind;
    char serial[128];

    /* The config window: what the driver selected and the answer. */
    struct virtio_input_config cfg;

    /* Pending events: ring of VIRTIO_INPUT_QUEUED_MAX; head..head+count,
     * of which the first `ready` are complete (up to the last EV_SYN). */
    struct virtio_input_event ring[VIRTIO_INPUT_QUEUED_MAX];
    unsigned head, count, ready;
    uint64_t dropped;

    uint32_t leds;
    struct virtq_elem elem;
    uint32_t ui_buttons; /* tablet: UI_BUTTON_* last sent (main loop) */
};

struct input_kind_info {
    const char *name;
    const char *model;
    uint16_t product;
};

static const struct input_kind_info input_kinds[] = {
    [VIRTIO_INPUT_KEYBOARD] = { "QEMU Virtio Keyboard",
                                "virtio-keyboard-device", 0x0001 },
    [VIRTIO_INPUT_MOUSE] = { "QEMU Virtio Mouse", "virtio-mouse-device",
                             0x0002 },
    [VIRTIO_INPUT_TABLET] = { "QEMU Virtio Tablet", "virtio-tablet-device",
                              0x0003 },
};

static const uint16_t input_buttons[] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE,
                                          BTN_SIDE, BTN_EXTRA };

static void bitmap_set(uint8_t *bm, unsigned bit)
{
    if (bit < 8 * sizeof(((struct virtio_input_config *)0)->u.bitmap)) {
        bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
}

/* The EV_BITS answer for event type ev: fills bm, returns its size. */
static unsigned input_ev_bits(const struct virtio_input *in, unsigned ev,
                              uint8_t *bm)
{
    switch (in->kind) {
    case VIRTIO_INPUT_KEYBOARD:
        if (ev == EV_KEY) {
            /* Every key a PC keyboard and QEMU's key map can produce. */
            for (unsigned k = KEY_ESC; k <= KEY_MICMUTE; k++) {
                if (k != 84) { /* no key has code 84 */
                    bitmap_set(bm, k);
                }
            }
        } else if (ev == EV_LED) {
            bitmap_set(bm, LED_NUML);
            bitmap_set(bm, LED_CAPSL);
            bitmap_set(bm, LED_SCROLLL);
        } else if (ev == EV_REP) {
            return 1; /* as QEMU: present, empty bitmap of one byte */
        }
        break;
    case VIRTIO_INPUT_MOUSE:
    case VIRTIO_INPUT_TABLET:
        if (ev == EV_KEY) {
            for (size_t i = 0;
                 i < sizeof(input_buttons) / sizeof(input_buttons[0]); i++) {
                bitmap_set(bm, input_buttons[i]);
            }
        } else if (ev == EV_REL) {
            if (in->kind == VIRTIO_INPUT_MOUSE) {
                bitmap_set(bm, REL_X);
                bitmap_set(bm, REL_Y);
            }
            bitmap_set(bm, REL_HWHEEL);
            bitmap_set(bm, REL_WHEEL);
        } else if (ev == EV_ABS && in->kind == VIRTIO_INPUT_TABLET) {
            bitmap_set(bm, ABS_X);
            bitmap_set(bm, ABS_Y);
        }
        break;
    }
    unsigned size = 128;
    while (size > 0 && bm[size - 1] == 0) {
        size--;
    }
    return size;
}

/* Rebuild the config answer for the current select/subsel. */
static void input_update_config(struct virtio_input *in)
{
    struct virtio_input_config *c = &in->cfg;
    const struct input_kind_info *k = &input_kinds[in->kind];
    unsigned size = 0;
    memset(&c->u, 0, sizeof(c->u));
    memset(c->reserved, 0, sizeof(c->reserved));
    switch (c->select) {
    case VIRTIO_INPUT_CFG_ID_NAME:
        if (c->subsel == 0) {
            size = strlen(k->name);
            memcpy(c->u.string, k->name, size);
        }
        break;
    case VIRTIO_INPUT_CFG_ID_SERIAL:
        if (c->subsel == 0) {
            size = strlen(in->serial);
            memcpy(c->u.string, in->serial, size);
        }
        break;
    case VIRTIO_INPUT_CFG_ID_DEVIDS:
        if (c->subsel == 0) {
            c->u.ids.bustype = htole16(BUS_VIRTUAL);
            c->u.ids.vendor = htole16(QEMU_VENDOR);
            c->u.ids.product = htole16(k->product);
            c->u.ids.version = htole16(0x0001);
            size = sizeof(c->u.ids);
        }
        break;
    case VIRTIO_INPUT_CFG_PROP_BITS:
        break; /* no input properties, as QEMU */
    case VIRTIO_INPUT_CFG_EV_BITS:
        size = input_ev_bits(in, c->subsel, c->u.bitmap);
        break;
    case VIRTIO_INPUT_CFG_ABS_INFO:
        if (in->kind == VIRTIO_INPUT_TABLET &&
            (c->subsel == ABS_X || c->subsel == ABS_Y)) {
            c->u.abs.min = htole32(0);
            c->u.abs.max = htole32(VIRTIO_INPUT_ABS_MAX);
            size = sizeof(c->u.abs);
        }
        break;
    default:
        break; /* VIRTIO_INPUT_CFG_UNSET and unknown selections */
    }
    c->size = (uint8_t)size;
}

/* ---- event queue ---- */

/* Hand complete events to the driver while it has buffers. */
static void input_flush(struct virtio_input *in)
{
    struct virtio_dev *d = &in->vdev;
    struct virtq *q = &d->vq[0];
    bool pushed = false;
    if (!virtio_driver_ok(d) || !q->ready) {
        return;
    }
    while (in->ready > 0) {
        int r = virtq_pop(q, &in->elem);
        if (r < 0) {
            virtio_set_needs_reset(d, "virtio-input: malformed event queue");
            break;
        }
        if (r == 0) {
            break;
        }
        const struct virtio_input_event *ev = &in->ring[in->head];
        if (virtq_write(&in->elem, 0, ev, sizeof(*ev)) < sizeof(*ev)) {
            /* Too small for an event: give it back empty and keep the
             * event for the next buffer. */
            log_guest("%s: event buffer of %llu bytes is too small",
                      d->ops->name, (unsigned long long)in->elem.in_len);
            virtq_push(q, &in->elem, 0);
            pushed = true;
            continue;
        }
        virtq_push(q, &in->elem, sizeof(*ev));
        pushed = true;
        in->head = (in->head + 1) % VIRTIO_INPUT_QUEUED_MAX;
        in->count--;
        in->ready--;
    }
    if (pushed) {
        virtio_notify(d, 0);
    }
}

static void input_send_locked(struct virtio_input *in, uint16_t type,
                              uint16_t code, uint32_t value)
{
    if (in->count == VIRTIO_INPUT_QUEUED_MAX) {
        /* The guest isn't taking events: forget the oldest. */
        in->head = (in->head + 1) % VIRTIO_INPUT_QUEUED_MAX;
        in->count--;
        if (in->ready > 0) {
            in->ready--;
        }
        if (in->dropped++ == 0 || in->dropped % 1024 == 0) {
            log_guest("%s: guest is not reading input events, %llu dropped",
                      in->vdev.ops->name, (unsigned long long)in->dropped);
        }
    }
    unsigned tail = (in->head + in->count) % VIRTIO_INPUT_QUEUED_MAX;
    in->ring[tail] = (struct virtio_input_event){
        .type = htole16(type),
        .code = htole16(code),
        .value = htole32(value),
    };
    in->count++;
    if (type == EV_SYN) {
        in->ready = in->count;
        input_flush(in);
    }
}

void virtio_input_send(struct virtio_input *in, uint16_t type, uint16_t code,
                       uint32_t value)
{
    dev_lock();
    input_send_locked(in, type, code, value);
    dev_unlock();
}

void virtio_input_sync(struct virtio_input *in)
{
    virtio_input_send(in, EV_SYN, SYN_REPORT, 0);
}

uint32_t virtio_input_leds(struct virtio_input *in)
{
    return __atomic_load_n(&in->leds, __ATOMIC_RELAXED);
}

uint64_t virtio_input_dropped(struct virtio_input *in)
{
    return in->dropped;
}

/* ---- status queue ---- */

static void input_status_event(struct virtio_input *in,
                               const struct virtio_input_event *ev)
{
    uint16_t type = le16toh(ev->type), code = le16toh(ev->code);
    uint32_t value = le32toh(ev->value);
    if (type == EV_LED && code <= LED_MAX) {
        uint32_t leds = in->leds;
        if (value) {
            leds |= 1u << code;
        } else {
            leds &= ~(1u << code);
        }
        __atomic_store_n(&in->leds, leds, __ATOMIC_RELAXED);
        return;
    }
    if (type == EV_SYN) {
        return;
    }
    log_guest("%s: ignoring status event type %u code %u value %u",
              in->vdev.ops->name, type, code, value);
}

static void input_status(struct virtio_input *in)
{
    struct virtio_dev *d = &in->vdev;
    struct virtq *q = &d->vq[1];
    bool pushed = false;
    for (;;) {
        int r = virtq_pop(q, &in->elem);
        if (r < 0) {
            virtio_set_needs_reset(d, "virtio-input: malformed status queue");
            break;
        }
        if (r == 0) {
            break;
        }
        uint64_t len = in->elem.out_len;
        if (len % sizeof(struct virtio_input_event) != 0) {
            log_guest("%s: status buffer of %llu bytes is not a whole "
                      "number of events",
                      d->ops->name, (unsigned long long)len);
        }
        uint64_t n = len / sizeof(struct virtio_input_event);
        if (n > STATUS_MAX_EVENTS) {
            log_guest("%s: status buffer holds %llu events, handling %u",
                      d->ops->name, (unsigned long long)n, STATUS_MAX_EVENTS);
            n = STATUS_MAX_EVENTS;
        }
        for (uint64_t i = 0; i < n; i++) {
            struct virtio_input_event ev;
            virtq_read(&in->elem, i * sizeof(ev), &ev, sizeof(ev));
            input_status_event(in, &ev);
        }
        virtq_push(q, &in->elem, 0);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(d, 1);
    }
}

/* ---- virtio ops ---- */

static void input_queue_notify(struct virtio_dev *d, unsigned n)
{
    struct virtio_input *in = d->opaque;
    if (n == 0) {
        input_flush(in);
    } else if (n == 1) {
        input_status(in);
    }
}

static uint64_t input_features(struct virtio_dev *d)
{
    (void)d;
    return 0;
}

static uint32_t input_config_size(struct virtio_dev *d)
{
    (void)d;
    return sizeof(struct virtio_input_config);
}

static void input_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                              uint32_t len)
{
    struct virtio_input *in = d->opaque;
    if (off > sizeof(in->cfg) || len > sizeof(in->cfg) - off) {
        memset(buf, 0, len);
        return;
    }
    memcpy(buf, (const uint8_t *)&in->cfg + off, len);
}

static void input_config_write(struct virtio_dev *d, uint32_t off,
                               const void *buf, uint32_t len)
{
    struct virtio_input *in = d->opaque;
    const uint8_t *p = buf;
    bool changed = false;
    for (uint32_t i = 0; i < len; i++) {
        uint64_t o = (uint64_t)off + i;
        if (o == offsetof(struct virtio_input_config, select)) {
            in->cfg.select = p[i];
            changed = true;
        } else if (o == offsetof(struct virtio_input_config, subsel)) {
            in->cfg.subsel = p[i];
            changed = true;
        } else {
            log_guest("%s: write to read-only config byte %llu", d->ops->name,
                      (unsigned long long)o);
            break;
        }
    }
    if (changed) {
        input_update_config(in);
    }
}

static void input_reset(struct virtio_dev *d)
{
    struct virtio_input *in = d->opaque;
    in->head = in->count = in->ready = 0;
    __atomic_store_n(&in->leds, 0, __ATOMIC_RELAXED);
    in->cfg.select = in->cfg.subsel = 0;
    input_update_config(in);
}

static void input_driver_ok(struct virtio_dev *d)
{
    input_flush(d->opaque);
}

static const struct virtio_dev_ops input_ops[] = {
    [VIRTIO_INPUT_KEYBOARD] = {
        .name = "virtio-keyboard-device",
        .device_id = VIRTIO_ID_INPUT,
        .features = input_features,
        .config_size = input_config_size,
        .config_read = input_config_read,
        .config_write = input_config_write,
        .driver_ok = input_driver_ok,
        .queue_notify = input_queue_notify,
        .reset = input_reset,
    },
    [VIRTIO_INPUT_MOUSE] = {
        .name = "virtio-mouse-device",
        .device_id = VIRTIO_ID_INPUT,
        .features = input_features,
        .config_size = input_config_size,
        .config_read = input_config_read,
        .config_write = input_config_write,
        .driver_ok = input_driver_ok,
        .queue_notify = input_queue_notify,
        .reset = input_reset,
    },
    [VIRTIO_INPUT_TABLET] = {
        .name = "virtio-tablet-device",
        .device_id = VIRTIO_ID_INPUT,
        .features = input_features,
        .config_size = input_config_size,
        .config_read = input_config_read,
        .config_write = input_config_write,
        .driver_ok = input_driver_ok,
        .queue_notify = input_queue_notify,
        .reset = input_reset,
    },
};

struct virtio_input *virtio_input_new(struct mem_map *mem,
                                      enum virtio_input_kind kind,
                                      const char *serial)
{
    struct virtio_input *in = calloc(1, sizeof(*in));
    if (!in) {
        return NULL;
    }
    in->kind = kind;
    if (serial) {
        /* Truncated to what the config string can hold. */
        strncpy(in->serial, serial, sizeof(in->serial) - 1);
    }
    virtio_dev_init(&in->vdev, &input_ops[kind], in, mem, 2, INPUT_QUEUE_SIZE);
    input_update_config(in);
    return in;
}

void virtio_input_free(struct virtio_input *in)
{
    free(in);
}

struct virtio_dev *virtio_input_vdev(struct virtio_input *in)
{
    return &in->vdev;
}

/* Display backends' input (ui/console.h), main-loop thread. */
static void input_ui_key(void *opaque, uint32_t code, bool down)
{
    struct virtio_input *in = opaque;
    if (code > KEY_MAX) {
        return;
    }
    virtio_input_send(in, EV_KEY, (uint16_t)code, down);
    virtio_input_sync(in);
}

static void input_ui_pointer(void *opaque, uint32_t x, uint32_t y,
                             uint32_t buttons)
{
    static const struct {
        uint32_t bit;
        uint16_t code;
    } map[] = {
        { UI_BUTTON_LEFT, BTN_LEFT },
        { UI_BUTTON_MIDDLE, BTN_MIDDLE },
        { UI_BUTTON_RIGHT, BTN_RIGHT },
    };
    struct virtio_input *in = opaque;
    virtio_input_send(in, EV_ABS, ABS_X, x);
    virtio_input_send(in, EV_ABS, ABS_Y, y);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if ((buttons ^ in->ui_buttons) & map[i].bit) {
            virtio_input_send(in, EV_KEY, map[i].code,
                              (buttons & map[i].bit) != 0);
        }
    }
    /* A wheel bit is one notch: REL_WHEEL +1 (up) or -1 (down). */
    if (buttons & UI_BUTTON_WHEEL_UP) {
        virtio_input_send(in, EV_REL, REL_WHEEL, 1);
    }
    if (buttons & UI_BUTTON_WHEEL_DOWN) {
        virtio_input_send(in, EV_REL, REL_WHEEL, (uint32_t)-1);
    }
    in->ui_buttons =
        buttons & (UI_BUTTON_LEFT | UI_BUTTON_MIDDLE | UI_BUTTON_RIGHT);
    virtio_input_sync(in);
}

static int input_create(struct vm *vm, const struct opts *o,
                        struct device_instance *out, struct error *err,
                        enum virtio_input_kind kind,
                        const struct device_model *model)
{
    const char *serial = opts_get(o, "serial");
    if (serial &&
        strlen(serial) >= sizeof(((struct virtio_input *)0)->serial)) {
        return err_set(err, -EINVAL,
                       "-device %s: serial= is longer than 127 "
                       "characters",
                       model->name);
    }
    struct virtio_input *in = virtio_input_new(&vm->mem, kind, serial);
    if (!in) {
        return err_set(err, -ENOMEM, "-device %s: out of memory", model->name);
    }
    out->model = model;
    out->state = in;
    out->vdev = &in->vdev;
    /* The keyboard and the tablet take the display's input (the mouse
     * is relative and the display reports absolute positions). */
    if (kind == VIRTIO_INPUT_KEYBOARD) {
        ui_input_add_sink(
            &(struct ui_input_sink){ .key = input_ui_key, .opaque = in });
    } else if (kind == VIRTIO_INPUT_TABLET) {
        ui_input_add_sink(&(struct ui_input_sink){ .pointer = input_ui_pointer,
                                                   .opaque = in });
    }
    return 0;
}

static int keyboard_create(struct vm *vm, const struct opts *o,
                           struct device_instance *out, struct error *err)
{
    return input_create(vm, o, out, err, VIRTIO_INPUT_KEYBOARD,
                        &virtio_keyboard_model);
}

static int mouse_create(struct vm *vm, const struct opts *o,
                        struct device_instance *out, struct error *err)
{
    return input_create(vm, o, out, err, VIRTIO_INPUT_MOUSE,
                        &virtio_mouse_model);
}

static int tablet_create(struct vm *vm, const struct opts *o,
                         struct device_instance *out, struct error *err)
{
    return input_create(vm, o, out, err, VIRTIO_INPUT_TABLET,
                        &virtio_tablet_model);
}

static void input_destroy(void *state)
{
    virtio_input_free(state);
}

static const char *const input_props[] = { "serial", NULL };

const struct device_model virtio_keyboard_model = {
    .name = "virtio-keyboard-device",
    .desc = "virtio keyboard",
    .props = input_props,
    .create = keyboard_create,
    .destroy = input_destroy,
};

const struct device_model virtio_mouse_model = {
    .name = "virtio-mouse-device",
    .desc = "virtio mouse (relative pointer)",
    .props = input_props,
    .create = mouse_create,
    .destroy = input_destroy,
};

const struct device_model virtio_tablet_model = {
    .name = "virtio-tablet-device",
    .desc = "virtio tablet (absolute pointer)",
    .props = input_props,
    .create = tablet_create,
    .destroy = input_destroy,
};
