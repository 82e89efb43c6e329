/* SPDX-License-Identifier: MIT */
/*
 * Boards (design.md "Board"): the parsed machine configuration, the running
 * machine, and the table of boards. A board's build() creates RAM, the
 * interrupt controllers, the CPU and the devices in a fixed order, loads
 * firmware, kernel and initrd and writes the device tree; it reads every
 * file it needs before returning, so a bad command line fails before any
 * guest code runs. reset() puts the machine back to its power-on state
 * (images reloaded, devices and harts reset) while the vCPU thread is
 * stopped. Both run on the main thread.
 */
#ifndef SWEDE_BOARD_BOARD_H
#define SWEDE_BOARD_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/options.h"
#include "mem/mem.h"

struct blk_backend;
struct net_backend;
struct board_ops;
struct device_instance;
struct bus;
struct chardev;
struct error;
struct rv_cpu;
struct virtio_dev;

/* Everything the command line says about the machine. Strings point into
 * argv or into storage main.c owns for the life of the process. */
struct vm_config {
    const struct board_ops *board;
    uint64_t ram_size;   /* bytes */
    const char *ram_arg; /* -m as typed, for messages ("512M") */
    unsigned smp;        /* number of harts */
    const char *bios;    /* "default", "none" or a path */
    const char *kernel;  /* NULL: none */
    const char *initrd;  /* NULL: none */
    const char *append;  /* NULL: no bootargs */
    const char *dtb;     /* NULL: generate the device tree */
    const char *dumpdtb; /* -machine dumpdtb=FILE: write the DTB, exit */
    const char *serial;  /* -serial spec, NULL when none */
    const char *name;    /* -name, NULL when unset */
    const char *pidfile; /* NULL when unset */
    bool nographic;
    bool no_reboot;
    /* -device, -drive and -chardev, parsed, in command-line order. */
    struct opts *devices;
    unsigned ndevices;
    struct opts *drives;
    unsigned ndrives;
    struct opts *chardevs;
    unsigned nchardevs;
    /* -netdev (and the netdevs -nic makes), parsed, "type" the backend. */
    struct opts *netdevs;
    unsigned nnetdevs;
};

#define VM_MAX_BACKENDS 32

/* A -drive opened before the board is built; taken by one device. */
struct vm_drive {
    const char *id;
    struct blk_backend *blk;
    bool taken;
};

/* A -chardev opened before the board is built; taken by one device. */
struct vm_chardev {
    const char *id;
    struct chardev *chr;
    bool taken;
};

/* A -netdev opened before the board is built; taken by one device. */
struct vm_netdev {
    const char *id;
    struct net_backend *nb;
    bool taken;
};

struct vm {
    const struct vm_config *cfg;
    struct mem_map mem;
    struct bus *bus;
    struct rv_cpu *cpu;
    struct chardev *serial; /* NULL for -serial null/none */
    void *board_state;      /* owned by the board */
    struct vm_drive drives[VM_MAX_BACKENDS];
    unsigned ndrives;
    struct vm_chardev chardevs[VM_MAX_BACKENDS];
    unsigned nchardevs;
    struct vm_netdev netdevs[VM_MAX_BACKENDS];
    unsigned nnetdevs;
    /* Devices created from -device, in order. */
    struct device_instance *devices;
    unsigned ndevices;
};

/* The drive or chardev called id, marked taken; fails (naming optname and
 * id) if there is none or another device has it already. */
struct blk_backend *vm_take_drive(struct vm *vm, const char *id,
                                  const char *optname, struct error *err);
struct chardev *vm_take_chardev(struct vm *vm, const char *id,
                                const char *optname, struct error *err);
struct net_backend *vm_take_netdev(struct vm *vm, const char *id,
                                   const char *optname, struct error *err);

struct board_ops {
    const char *name; /* -machine NAME */
    const char *desc; /* shown by -machine help */
    uint64_t default_ram;
    unsigned max_cpus;
    /* Build the machine described by vm->cfg into vm. On failure the
     * message names the option at fault; vm may be half-built (the process
     * exits). Main thread, before any vCPU thread exists. */
    int (*build)(struct vm *vm, struct error *err);
    /* Power-on reset: harts, devices, and the boot images copied back into
     * RAM. Main thread, vCPU thread stopped. */
    void (*reset)(struct vm *vm);
};

/* The board called name, or NULL. */
const struct board_ops *board_find(const char *name);
/* The i-th board (for -machine help), NULL past the end. */
const struct board_ops *board_at(unsigned i);
/* The board used when -machine is absent. */
const struct board_ops *board_default(void);

extern const struct board_ops riscv_virt_board;

/* Plug dev into the virt board's next free virtio-mmio transport, in
 * QEMU's order (the first at 0x10008000, then downwards); -ENOSPC when all
 * eight are taken. While the board is built, main thread. */
int virt_plug_virtio(struct vm *vm, struct virtio_dev *dev, struct error *err);

#endif
