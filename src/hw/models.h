/* SPDX-License-Identifier: MIT */
/*
 * The one registry of device models (design.md "Device model"): -device
 * NAME,props... looks NAME up here. Boards create instances in
 * command-line order; a model never decides for itself whether it exists.
 * Virtio models hand back their struct virtio_dev for the board to plug
 * into a transport. Main thread, while the board is built.
 */
#ifndef SWEDE_HW_MODELS_H
#define SWEDE_HW_MODELS_H

#include <stdint.h>
#include <stdio.h>

struct error;
struct opts;
struct virtio_dev;
struct vm;

struct device_instance {
    const struct device_model *model;
    void *state;
    struct virtio_dev *vdev; /* virtio models: to plug into a transport */
    /* A virtio shared memory region (virtio 1.2, 2.10) the board must
     * place in guest physical memory as RAM-like memory (the CPU and
     * devices access it through host pointers) and report through the
     * transport; size 0: none. host stays mapped at the same address
     * while the device exists. */
    struct {
        uint8_t id;
        uint64_t size;
        uint8_t *host;
        const uint8_t *ro_pages; /* mem_add_block_host's, or NULL */
    } shm;
};

struct device_model {
    const char *name; /* QEMU's name: "virtio-blk-device" */
    const char *desc;
    /* Properties accepted besides "id" (checked before create is called),
     * NULL-terminated. */
    const char *const *props;
    int (*create)(struct vm *vm, const struct opts *o,
                  struct device_instance *out, struct error *err);
    void (*reset)(void *state); /* optional: virtio devices reset via core */
    void (*destroy)(void *state);
};

/* The model called name, or NULL. */
const struct device_model *model_find(const char *name);
/* -device help: one line per model. */
void models_print_help(FILE *f);
/* -device NAME,help: the model's properties, one a line. */
void model_print_props(const struct device_model *m, FILE *f);
/* Check that o (a parsed -device, "driver" being the model's name) has
 * only "driver", "id" and the model's properties; the message names the
 * device and the property. */
int model_check_opts(const struct device_model *m, const struct opts *o,
                     struct error *err);

#endif
