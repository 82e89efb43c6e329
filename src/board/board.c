/* SPDX-License-Identifier: MIT */
/*
 * The board table (design.md "Board"): the machines -machine can name, in
 * the order -machine help lists them. The first entry is the default, as
 * QEMU's "(default)" marker says. Boards themselves live in their own files.
 * Also the hand-over of -drive, -chardev and -netdev backends (opened by main.c
 * before the board is built) to the one device that names each.
 */
#include "board/board.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/error.h"

static const struct board_ops *const boards[] = {
    &riscv_virt_board,
};

const struct board_ops *board_find(const char *name)
{
    for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++) {
        if (strcmp(boards[i]->name, name) == 0) {
            return boards[i];
        }
    }
    return NULL;
}

const struct board_ops *board_at(unsigned i)
{
    return i < sizeof(boards) / sizeof(boards[0]) ? boards[i] : NULL;
}

const struct board_ops *board_default(void)
{
    return boards[0];
}

struct blk_backend *vm_take_drive(struct vm *vm, const char *id,
                                  const char *optname, struct error *err)
{
    if (!id || !*id) {
        err_set(err, -EINVAL,
                "%s: drive= is required (add -drive file=IMAGE,if=none,"
                "id=ID and drive=ID)",
                optname);
        return NULL;
    }
    for (unsigned i = 0; i < vm->ndrives; i++) {
        struct vm_drive *d = &vm->drives[i];
        if (strcmp(d->id, id) != 0) {
            continue;
        }
        if (d->taken) {
            err_set(err, -EBUSY,
                    "%s: drive=%s is already in use by another device "
                    "(give each device its own -drive)",
                    optname, id);
            return NULL;
        }
        d->taken = true;
        return d->blk;
    }
    err_set(err, -ENOENT,
            "%s: drive=%s: no such drive (add -drive "
            "file=IMAGE,if=none,id=%s)",
            optname, id, id);
    return NULL;
}

struct chardev *vm_take_chardev(struct vm *vm, const char *id,
                                const char *optname, struct error *err)
{
    if (!id || !*id) {
        err_set(err, -EINVAL,
                "%s: chardev= is required (add -chardev BACKEND,id=ID and "
                "chardev=ID)",
                optname);
        return NULL;
    }
    for (unsigned i = 0; i < vm->nchardevs; i++) {
        struct vm_chardev *c = &vm->chardevs[i];
        if (strcmp(c->id, id) != 0) {
            continue;
        }
        if (c->taken) {
            err_set(err, -EBUSY,
                    "%s: chardev=%s is already in use by another device "
                    "(give each device its own -chardev)",
                    optname, id);
            return NULL;
        }
        c->taken = true;
        return c->chr;
    }
    err_set(err, -ENOENT,
            "%s: chardev=%s: no such chardev (add -chardev "
            "BACKEND,id=%s)",
            optname, id, id);
    return NULL;
}

struct net_backend *vm_take_netdev(struct vm *vm, const char *id,
                                   const char *optname, struct error *err)
{
    if (!id || !*id) {
        err_set(err, -EINVAL,
                "%s: netdev= is required (add -netdev user,id=ID and "
                "netdev=ID)",
                optname);
        return NULL;
    }
    for (unsigned i = 0; i < vm->nnetdevs; i++) {
        struct vm_netdev *n = &vm->netdevs[i];
        if (strcmp(n->id, id) != 0) {
            continue;
        }
        if (n->taken) {
            err_set(err, -EBUSY,
                    "%s: netdev=%s is already in use by another device "
                    "(give each device its own -netdev)",
                    optname, id);
            return NULL;
        }
        n->taken = true;
        return n->nb;
    }
    err_set(err, -ENOENT,
            "%s: netdev=%s: no such netdev (add -netdev user,id=%s)", optname,
            id, id);
    return NULL;
}
