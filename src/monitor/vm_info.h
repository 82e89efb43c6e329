/* SPDX-License-Identifier: MIT */
/*
 * What the monitor reports about a built machine, in QEMU's shapes:
 * query-block entries for the -drive backends, query-chardev entries, and
 * the "info mtree" listing of RAM, ROM and MMIO regions. Read-only views of
 * struct vm; they never touch guest memory. Main-loop thread.
 */
#ifndef SWEDE_MONITOR_VM_INFO_H
#define SWEDE_MONITOR_VM_INFO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct chardev;
struct vm;

/* query-block: one entry per -drive (QEMU's BlockInfo). New reference. */
json_t *vm_info_block(const struct vm *vm);
/* Append a query-chardev entry (QEMU's ChardevInfo) to list. */
void vm_info_add_chardev(json_t *list, const char *label, struct chardev *chr,
                         bool frontend_open);
/* HMP "info mtree": every RAM/ROM block and MMIO region by address. */
void vm_info_mtree(const struct vm *vm, FILE *f);

#endif
