/* SPDX-License-Identifier: MIT */
/*
 * The board table (design.md "Board"): the machines -machine can name, in
 * the order -machine help lists them. The first entry is the default, as
 * QEMU's "(default)" marker says. Boards themselves live in their own files.
 */
#include "board/board.h"

#include <stddef.h>
#include <string.h>

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
