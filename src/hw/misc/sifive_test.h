/* SPDX-License-Identifier: MIT */
/*
 * The SiFive test finisher (QEMU's sifive_test): a 32-bit write of 0x5555
 * powers off with status 0, 0x3333 with status (value >> 16) (1 if zero),
 * 0x7777 resets. Requests go through runstate_request().
 */
#ifndef SWEDE_HW_MISC_SIFIVE_TEST_H
#define SWEDE_HW_MISC_SIFIVE_TEST_H

#include <stdint.h>

struct bus;
struct error;

#define SIFIVE_TEST_SIZE 0x1000u

int sifive_test_new(struct bus *bus, uint64_t base, struct error *err);

#endif
