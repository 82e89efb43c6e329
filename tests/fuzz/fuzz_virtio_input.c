/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for virtio-input's guest-facing parsers (src/hw/virtio/
 * input.c): the config window (select/subsel writes at any offset and
 * length, reads of the answer) and the status queue (buffers of any
 * length and contents). The input is a list of operations: one opcode
 * byte, then its operands; a few host events are sent in between so the
 * event queue and its bounded ring are exercised too. Checks: no crash, no
 * sanitizer report.
 */
#include <linux/virtio_input.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../dev/vdev_driver.h"
#include "hw/virtio/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mem_map mem;
static bool mem_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
    struct virtio_input *in = virtio_input_new(&mem, data[0] % 3, "fuzz");
    struct virtio_dev *d = virtio_input_vdev(in);
    struct vd_queue evq, stq;
    vd_features(d, 0);
    vd_queue(&evq, d, 0, 16);
    vd_queue(&stq, d, 1, 16);
    vd_driver_ok(d);
    size_t pos = 1;
    unsigned ops = 0;
    while (pos + 3 <= size && ops++ < 256) {
        uint8_t op = data[pos], a = data[pos + 1], b = data[pos + 2];
        pos += 3;
        switch (op % 5) {
        case 0: { /* config write of up to 8 bytes at offset a */
            uint8_t buf[8] = { 0 };
            size_t n = b % 9;
            if (n > size - pos) {
                n = size - pos;
            }
            memcpy(buf, data + pos, n);
            pos += n;
            vd_cfg_write(d, a, buf, (uint32_t)n);
            break;
        }
        case 1: { /* config read */
            uint8_t buf[256];
            vd_cfg_read(d, a, buf, b % 9);
            break;
        }
        case 2: { /* status buffer of b bytes (a scales it) */
            uint32_t len = b + (a & 0xf) * 256u;
            size_t n = len < size - pos ? len : size - pos;
            mem_write(&mem, VD_DATA_BASE + 0x10000, data + pos, n);
            pos += n;
            struct vd_buf sb = { VD_DATA_BASE + 0x10000, len, false };
            vd_post(&stq, &sb, 1);
            vd_notify(&stq);
            while (vd_used(&stq, NULL, NULL)) {
            }
            break;
        }
        case 3: { /* event buffer of b % 16 bytes */
            struct vd_buf eb = { VD_DATA_BASE + 0x100ull * (a % 16), b % 16,
                                 true };
            vd_post(&evq, &eb, 1);
            vd_notify(&evq);
            while (vd_used(&evq, NULL, NULL)) {
            }
            break;
        }
        case 4: /* host events */
            virtio_input_send(in, a, b, (uint32_t)a << 8 | b);
            if (a & 1) {
                virtio_input_sync(in);
            }
            break;
        }
    }
    virtio_input_free(in);
    return 0;
}
