/* SPDX-License-Identifier: MIT */
/*
 * The human monitor (HMP): QEMU's "(qemu)" prompt with a small line
 * editor, and the commands people type into it (help, info status|
 * version|name|registers|mtree|block|chardev|cpus|kvm|commands, stop,
 * cont, system_reset, system_powerdown, quit). The commands reach the
 * machine through the same struct qmp_machine_ops as QMP, and QMP's
 * human-monitor-command runs them through hmp_execute(). Output lines end
 * in CRLF, as QEMU's. Main-loop thread only.
 */
#ifndef SWEDE_MONITOR_HMP_H
#define SWEDE_MONITOR_HMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "monitor/qmp.h"

/* Longest command line kept; further characters are refused (bell). */
#define HMP_MAX_LINE 1024

struct hmp_client;

/* A human monitor whose output goes to out. Nothing is printed until
 * hmp_client_greet(). NULL without memory. */
struct hmp_client *hmp_client_new(struct qmp_server *s, qmp_out_fn out,
                                  void *opaque);
/* Print the banner and the prompt (a peer connected, or a mux gave the
 * monitor the terminal for the first time). */
void hmp_client_greet(struct hmp_client *c);
/* Print the prompt again on a fresh line (mux focus came back). */
void hmp_client_prompt(struct hmp_client *c);
/* Typed bytes: edited, echoed, and executed at each end of line. */
void hmp_client_input(struct hmp_client *c, const uint8_t *buf, size_t n);
void hmp_client_free(struct hmp_client *c);

/* Run one command line, writing what it prints to f ("\n" line ends;
 * the callers turn them into CRLF). */
void hmp_execute(struct qmp_server *s, const char *line, FILE *f);

#endif
