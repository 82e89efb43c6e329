/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the virtio-serial control protocol (src/hw/virtio/
 * console.c): the input is a sequence of driver -> device control
 * messages, each one length byte (0..255) then that many bytes, sent on
 * c_ovq to a device with a console port and a named port; the first byte
 * picks how many c_ivq buffers are posted (some too small for a message)
 * and some messages are followed by posting more. Checks: no crash, no
 * sanitizer report, and the device never writes outside the buffers.
 */
#include <linux/virtio_console.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../dev/vdev_driver.h"
#include "hw/virtio/console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mem_map mem;
static bool mem_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct error err = { 0 };
    if (!mem_ready) {
        if (vd_ram(&mem) < 0) {
            return 0;
        }
        mem_ready = true;
    }
    if (size < 1) {
        return 0;
    }
    vd_ring_next = VD_RAM_BASE;
    struct virtio_serial *s = virtio_serial_new(&mem, 3);
    struct virtio_dev *d = virtio_serial_vdev(s);
    virtio_serial_add_port(s, NULL, NULL, -1, true, &err);
    virtio_serial_add_port(s, NULL, "org.fuzz.0", -1, false, &err);
    struct vd_queue civ, cov;
    vd_features(d, 1ull << VIRTIO_CONSOLE_F_MULTIPORT);
    vd_queue(&civ, d, 2, 32);
    vd_queue(&cov, d, 3, 32);
    unsigned nbufs = data[0] % 16;
    for (unsigned i = 0; i < nbufs; i++) {
        struct vd_buf b = { VD_DATA_BASE + 0x100ull * i, (i & 3) ? 0x40 : 4,
                            true };
        vd_post(&civ, &b, 1);
    }
    vd_driver_ok(d);
    size_t pos = 1;
    unsigned sent = 0;
    while (pos < size && sent < 64) {
        size_t len = data[pos++];
        if (len > size - pos) {
            len = size - pos;
        }
        mem_write(&mem, VD_DATA_BASE + 0x10000, data + pos, len);
        pos += len;
        struct vd_buf b = { VD_DATA_BASE + 0x10000, (uint32_t)len, false };
        vd_post(&cov, &b, 1);
        vd_notify(&cov);
        if (len & 1) {
            struct vd_buf c = { VD_DATA_BASE + 0x100ull * (sent % 16), 0x40,
                                true };
            vd_post(&civ, &c, 1);
            vd_notify(&civ);
        }
        sent++;
    }
    while (vd_used(&civ, NULL, NULL)) {
    }
    virtio_serial_free(s);
    return 0;
}
