/* SPDX-License-Identifier: MIT */
/*
 * The Goldfish RTC (Android emulator's, as on QEMU virt): TIME_LOW/HIGH
 * in nanoseconds of host wall-clock time (guest writes set an offset),
 * one alarm with an interrupt, IRQ_ENABLED, CLEAR_ALARM, CLEAR_INTERRUPT.
 */
#ifndef SWEDE_HW_RTC_GOLDFISH_RTC_H
#define SWEDE_HW_RTC_GOLDFISH_RTC_H

#include <stdint.h>

#include "bus/irq.h"

struct bus;
struct error;
struct goldfish_rtc;

#define GOLDFISH_RTC_SIZE 0x1000u

struct goldfish_rtc *goldfish_rtc_new(struct bus *bus, uint64_t base,
                                      struct irq_line irq, struct error *err);
void goldfish_rtc_free(struct goldfish_rtc *r);
void goldfish_rtc_reset(struct goldfish_rtc *r);

#endif
