/* SPDX-License-Identifier: MIT */
/*
 * The monitor's views of a machine (see vm_info.h). query-block follows
 * QEMU's BlockInfo: the device name is the drive id, "qdev" the QOM path
 * QEMU would give the virtio-blk device that took the drive
 * (/machine/peripheral/ID/virtio-backend for a -device with id=,
 * /machine/peripheral-anon/device[N]/virtio-backend otherwise), and
 * "inserted" the image (always raw here) with its cache flags.
 */
#include "monitor/vm_info.h"

#include <inttypes.h>
#include <string.h>

#include "backend/block.h"
#include "board/board.h"
#include "bus/bus.h"
#include "core/chardev.h"
#include "core/options.h"

/* QOM path of the -device that uses drive id, or NULL. */
static char *vm_info_qdev(const struct vm *vm, const char *id, char *buf,
                          size_t len)
{
    unsigned anon = 0;
    for (unsigned i = 0; i < vm->cfg->ndevices; i++) {
        const struct opts *o = &vm->cfg->devices[i];
        const char *did = opts_get(o, "id");
        const char *drive = opts_get(o, "drive");
        if (drive && strcmp(drive, id) == 0) {
            if (did) {
                snprintf(buf, len, "/machine/peripheral/%s/virtio-backend",
                         did);
            } else {
                snprintf(buf, len,
                         "/machine/peripheral-anon/device[%u]/virtio-backend",
                         anon);
            }
            return buf;
        }
        anon += did == NULL;
    }
    return NULL;
}

json_t *vm_info_block(const struct vm *vm)
{
    json_t *list = json_array();
    for (unsigned i = 0; list && i < vm->ndrives; i++) {
        const struct vm_drive *d = &vm->drives[i];
        struct blk_info bi;
        blk_backend_info(d->blk, &bi);
        char node[32], qdev[256];
        snprintf(node, sizeof(node), "#block%03u", 100 + i);
        json_t *image =
            json_pack("{s:s,s:s,s:I,s:b}", "filename", bi.file, "format", "raw",
                      "virtual-size", (json_int_t)blk_backend_size(d->blk),
                      "dirty-flag", 0);
        json_t *ins = json_pack(
            "{s:s,s:s,s:b,s:s,s:i,s:b,s:s,s:{s:b,s:b,s:b},s:o,"
            "s:i,s:i,s:i,s:i,s:i,s:i,s:i}",
            "file", bi.file, "node-name", node, "ro",
            blk_backend_readonly(d->blk), "drv", "raw", "backing_file_depth", 0,
            "encrypted", 0, "detect_zeroes", "off", "cache", "writeback",
            bi.writeback, "direct", bi.direct, "no-flush", bi.no_flush, "image",
            image, "bps", 0, "bps_rd", 0, "bps_wr", 0, "iops", 0, "iops_rd", 0,
            "iops_wr", 0, "write_threshold", 0);
        json_t *e =
            json_pack("{s:s,s:b,s:b,s:s,s:o}", "device", d->id, "locked", 0,
                      "removable", 0, "type", "unknown", "inserted", ins);
        const char *q = vm_info_qdev(vm, d->id, qdev, sizeof(qdev));
        if (e && q) {
            json_object_set_new(e, "qdev", json_string(q));
        }
        json_array_append_new(list, e);
    }
    return list;
}

void vm_info_add_chardev(json_t *list, const char *label, struct chardev *chr,
                         bool frontend_open)
{
    char name[320];
    chardev_filename(chr, name, sizeof(name));
    json_t *e = json_pack("{s:s,s:s,s:b}", "label", label, "filename", name,
                          "frontend-open", frontend_open);
    if (e && !json_is_string(json_object_get(e, "filename"))) {
        json_decref(e);
        return;
    }
    json_array_append_new(list, e);
}

void vm_info_mtree(const struct vm *vm, FILE *f)
{
    fprintf(f, "address-space: memory\n");
    fprintf(f, "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n");
    unsigned nb = vm->bus ? bus_count(vm->bus) : 0;
    unsigned im = 0, ib = 0;
    while (im < vm->mem.n || ib < nb) {
        const struct mem_block *m = im < vm->mem.n ? &vm->mem.blocks[im] : NULL;
        const struct bus_region *r =
            ib < nb ? bus_region_at(vm->bus, ib) : NULL;
        if (m && (!r || m->gpa < r->base)) {
            fprintf(f, "    %016" PRIx64 "-%016" PRIx64 " (prio 0, %s): %s\n",
                    m->gpa, m->gpa + m->size - 1, m->readonly ? "rom" : "ram",
                    m->name ? m->name : "ram");
            im++;
        } else {
            fprintf(f, "    %016" PRIx64 "-%016" PRIx64 " (prio 0, i/o): %s\n",
                    r->base, r->base + r->len - 1, r->name ? r->name : "mmio");
            ib++;
        }
    }
}
