/* SPDX-License-Identifier: MIT */
/*
 * The one registry of device models (design.md "Device model", principle
 * 2): a static table that -device NAME looks up and -device help lists,
 * in the order listed. The models themselves live with their devices;
 * this file only names them. Main thread.
 */
#include "hw/models.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "hw/virtio/blk.h"
#include "hw/virtio/console.h"
#include "hw/virtio/gpu/gpu.h"
#include "hw/virtio/input.h"
#include "hw/virtio/net.h"
#include "hw/virtio/rng.h"

static const struct device_model *const models[] = {
    &virtio_blk_model,          &virtio_rng_model,     &virtio_serial_model,
    &virtconsole_model,         &virtserialport_model, &virtio_keyboard_model,
    &virtio_tablet_model,       &virtio_mouse_model,   &virtio_gpu_model,
    &virtio_gpu_rutabaga_model, &virtio_net_model,
};

const struct device_model *model_find(const char *name)
{
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        if (strcmp(models[i]->name, name) == 0) {
            return models[i];
        }
    }
    return NULL;
}

void models_print_help(FILE *f)
{
    fprintf(f, "Devices (use -device NAME,help to list a device's "
               "properties):\n");
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        fprintf(f, "name \"%s\", desc \"%s\"\n", models[i]->name,
                models[i]->desc ? models[i]->desc : "");
    }
}

void model_print_props(const struct device_model *m, FILE *f)
{
    fprintf(f, "%s options:\n", m->name);
    fprintf(f, "  id=<str>\n");
    for (unsigned i = 0; m->props && m->props[i]; i++) {
        fprintf(f, "  %s\n", m->props[i]);
    }
}

int model_check_opts(const struct device_model *m, const struct opts *o,
                     struct error *err)
{
    for (unsigned i = 0; i < o->n; i++) {
        const char *key = o->kv[i].key;
        bool ok = strcmp(key, "driver") == 0 || strcmp(key, "id") == 0;
        for (unsigned k = 0; !ok && m->props && m->props[k]; k++) {
            ok = strcmp(key, m->props[k]) == 0;
        }
        if (!ok) {
            return err_set(err, -EINVAL,
                           "-device %s: unknown property '%s' (use "
                           "-device %s,help to list them)",
                           m->name, key, m->name);
        }
    }
    return 0;
}
