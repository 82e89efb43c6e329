/* SPDX-License-Identifier: MIT */
/*
 * swede's entry point: QEMU's command line (the subset in --help, spelled
 * as qemu-system-riscv64 spells it, with -opt or --opt) -> struct
 * vm_config -> board build (every file read, every size checked) -> one
 * vCPU thread -> the main loop. Every error before the guest starts is one
 * line naming the option at fault, and exit status 1. The process exits
 * with the guest's status: the test finisher's code, 0 for a poweroff, a
 * reboot under -no-reboot, Ctrl-A x or SIGINT/SIGTERM.
 *
 * Run-state requests (core/runstate.h) reach the main loop like this:
 * rv_cpu_run() returns on the vCPU thread whenever a request is pending,
 * whoever posted it; the vCPU thread then parks and hands the request to
 * the main loop with loop_call(main_vcpu_stopped), which takes it and
 * either quits, or resets the board and unparks the vCPU. A request posted
 * on the main-loop side (Ctrl-A x in the stdio chardev) finds the CPU
 * possibly asleep in WFI until its next timer; a 20 ms main-loop timer
 * kicks the CPU while a request is pending, so nobody who posts a request
 * needs to know about the CPU. Signals arrive through a signalfd on the
 * main loop (blocked in every thread), never in a signal handler.
 *
 * QMP stop, reset and quit park the vCPU synchronously from the main loop
 * (main_vcpu_park_sync); while stopped (stop, -S) it stays parked, the
 * guest clock is held, and requests posted meanwhile are taken by the
 * poll timer. docs/qmp.md lists the commands and events.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "backend/block.h"
#include "backend/net.h"
#include "board/board.h"
#include "core/chardev.h"
#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/panic_watch.h"
#include "core/runstate.h"
#include "cpu/riscv/rv.h"
#include "hw/models.h"
#include "hw/virtio/input.h"
#include "monitor/qmp.h"
#include "monitor/vm_info.h"
#include "ui/console.h"
#include "ui/screendump.h"
#include "ui/sdl.h"
#include "ui/vnc.h"

#define MAIN_RUNSTATE_POLL_NS (20 * 1000 * 1000ull)

enum main_opt_id {
    OPT_MACHINE,
    OPT_MEM,
    OPT_SMP,
    OPT_BIOS,
    OPT_KERNEL,
    OPT_INITRD,
    OPT_APPEND,
    OPT_DTB,
    OPT_NOGRAPHIC,
    OPT_SERIAL,
    OPT_NO_REBOOT,
    OPT_NAME,
    OPT_PIDFILE,
    OPT_LOG_ITEMS,
    OPT_LOG_FILE,
    OPT_DISPLAY,
    OPT_MONITOR,
    OPT_NODEFAULTS,
    OPT_ACCEL,
    OPT_DEVICE,
    OPT_DRIVE,
    OPT_CHARDEV,
    OPT_NETDEV,
    OPT_NIC,
    OPT_GLOBAL,
    OPT_QMP,
    OPT_MON,
    OPT_VNC,
    OPT_START_PAUSED,
    OPT_VERSION,
    OPT_HELP,
};

struct main_opt {
    const char *name;
    bool has_arg;
    enum main_opt_id id;
};

static const struct main_opt main_opts[] = {
    { "M", true, OPT_MACHINE },
    { "machine", true, OPT_MACHINE },
    { "m", true, OPT_MEM },
    { "smp", true, OPT_SMP },
    { "bios", true, OPT_BIOS },
    { "kernel", true, OPT_KERNEL },
    { "initrd", true, OPT_INITRD },
    { "append", true, OPT_APPEND },
    { "dtb", true, OPT_DTB },
    { "nographic", false, OPT_NOGRAPHIC },
    { "serial", true, OPT_SERIAL },
    { "no-reboot", false, OPT_NO_REBOOT },
    { "name", true, OPT_NAME },
    { "pidfile", true, OPT_PIDFILE },
    { "d", true, OPT_LOG_ITEMS },
    { "D", true, OPT_LOG_FILE },
    { "display", true, OPT_DISPLAY },
    { "monitor", true, OPT_MONITOR },
    { "nodefaults", false, OPT_NODEFAULTS },
    { "accel", true, OPT_ACCEL },
    { "device", true, OPT_DEVICE },
    { "drive", true, OPT_DRIVE },
    { "chardev", true, OPT_CHARDEV },
    { "netdev", true, OPT_NETDEV },
    { "nic", true, OPT_NIC },
    { "global", true, OPT_GLOBAL },
    { "qmp", true, OPT_QMP },
    { "mon", true, OPT_MON },
    { "vnc", true, OPT_VNC },
    { "S", false, OPT_START_PAUSED },
    { "version", false, OPT_VERSION },
    { "h", false, OPT_HELP },
    { "help", false, OPT_HELP },
};

/* What the command line asks for besides running a machine. */
struct main_args {
    bool help, version, machine_help;
    bool device_help;
    const struct device_model *props_help; /* -device NAME,help */
    unsigned drives_none, drives_virtio;   /* for automatic drive ids */
    unsigned nics;                         /* for automatic -nic netdev ids */
    /* -drive ...,if=virtio: the devices made for them, added after the
     * -device list as QEMU does. */
    struct opts *auto_devices;
    unsigned nauto_devices;
    bool nodefaults;
    const char *log_items, *log_file;
    const char *serial_arg; /* -serial as typed */
    unsigned nserial;
    char *name_buf, *process_name; /* owned */
    const char *qmp_specs[8];      /* -qmp, checked */
    unsigned nqmp;
    /* -monitor SPEC (readline on a new chardev) and -mon chardev=ID. */
    struct main_mon {
        const char *spec;    /* -monitor SPEC, or NULL for -mon */
        const char *chardev; /* -mon chardev=ID */
        bool control;
    } mons[8];
    unsigned nmons;
    bool monitor_given;   /* -monitor (even none): no default monitor */
    const char *vnc_spec; /* -vnc or -display vnc=, checked */
    const char *sdl_spec; /* -display sdl[,...], checked */
    bool serial_mon;      /* -serial mon:stdio */
    bool start_paused;    /* -S */
};

static struct vm_config main_cfg;
static struct vm main_vm;
static int main_exit_status;
static const char *main_pidfile_written;
static struct loop_timer *main_poll_timer;

/* The vCPU thread's state machine, guarded by main_vcpu_lock. */
enum main_vcpu_cmd {
    VCPU_RUN,
    VCPU_PARKED,
    VCPU_EXIT,
};
static pthread_mutex_t main_vcpu_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t main_vcpu_cond = PTHREAD_COND_INITIALIZER;
static enum main_vcpu_cmd main_vcpu_cmd;
static long main_vcpu_tid; /* atomic: set by the vCPU thread */

/* QMP and pause state, main-loop thread only. While main_paused (stop,
 * -S) the vCPU stays parked and the guest clock is held at
 * main_paused_time, so the machine timer does not jump on cont. */
static struct qmp_server *main_qmp;
/* Chardevs running monitors, for query-chardev. */
static struct main_mon_chr {
    char label[32];
    struct chardev *chr; /* owned when opened for -monitor SPEC */
    bool owned;
} main_mon_chrs[8];
static unsigned main_nmon_chrs;
static bool main_paused, main_prelaunch, main_shutting_down;
static uint64_t main_paused_time;

static void main_usage(void)
{
    printf(
        "usage: swede [options]\n"
        "A machine emulator with QEMU's command line (qemu-system-riscv64).\n"
        "Options may be written -opt or --opt.\n"
        "\n"
        "Machine:\n"
        "  -M, -machine [type=]NAME[,dumpdtb=FILE]\n"
        "                        machine type (-machine help lists them);\n"
        "                        dumpdtb writes the device tree and exits\n"
        "  -m [size=]SIZE        RAM size, e.g. 512M or 2G; a plain number\n"
        "                        is MiB (default 128M, at least 16M)\n"
        "  -smp [cpus=]N         number of harts (1..8, default 1)\n"
        "  -accel tcg            accepted (the RISC-V CPU emulator)\n"
        "\n"
        "Boot:\n"
        "  -bios default|none|FILE\n"
        "                        firmware at 0x80000000: default is OpenSBI\n"
        "                        fw_dynamic (Debian's opensbi package);\n"
        "                        FILE is raw or ELF\n"
        "  -kernel FILE          Linux Image, ELF or raw binary\n"
        "  -initrd FILE          initial ramdisk (needs -kernel)\n"
        "  -append STRING        kernel command line (needs -kernel)\n"
        "  -dtb FILE             use this device tree (/chosen is updated)\n"
        "  -no-reboot            exit instead of rebooting the guest\n"
        "\n"
        "Devices and backends:\n"
        "  -device NAME[,prop=VALUE...]\n"
        "                        add a device (-device help lists them,\n"
        "                        -device NAME,help its properties); virtio\n"
        "                        devices fill the 8 virtio-mmio slots\n"
        "  -drive file=FILE[,format=raw][,if=none|virtio][,id=ID]\n"
        "         [,readonly=on][,cache=MODE][,aio=io_uring|threads]\n"
        "         [,discard=unmap|ignore]\n"
        "                        a disk image; if=none (the default) waits\n"
        "                        for -device virtio-blk-device,drive=ID,\n"
        "                        if=virtio adds that device itself\n"
        "  -chardev BACKEND,id=ID[,...]\n"
        "                        a character backend for chardev=ID\n"
        "                        (null, file, socket, stdio, pty)\n"
        "  -netdev user,id=ID[,net=ADDR/MASK][,host=ADDR][,restrict=on]\n"
        "          [,hostfwd=tcp:[HOSTADDR]:PORT-[GUESTADDR]:PORT]...\n"
        "  -netdev tap,id=ID[,ifname=NAME][,script=no,downscript=no]\n"
        "                        a network backend for\n"
        "                        -device virtio-net-device,netdev=ID[,mac=MAC]\n"
        "  -nic user|tap[,mac=MAC][,model=virtio-net-device][,...]\n"
        "                        a -netdev and its virtio-net device at once\n"
        "  -global virtio-mmio.force-legacy=false\n"
        "                        accepted (virtio-mmio is always modern)\n"
        "\n"
        "Display and serial:\n"
        "  -nographic            no window, serial and monitor on stdio;\n"
        "                        without -display this is the default\n"
        "  -display none|sdl[,window-close=on|off][,show-cursor=on|off]\n"
        "  -display vnc=HOST:N   where the display goes (default none)\n"
        "  -vnc HOST:N[,websocket=PORT]\n"
        "                        VNC server on port 5900+N (noVNC connects\n"
        "                        to the WebSocket port)\n"
        "  -serial DEV           mon:stdio (default), stdio, null, none,\n"
        "                        file:PATH, unix:PATH,server=on,wait=off\n"
        "  -monitor DEV          human monitor on stdio, null, none,\n"
        "                        file:PATH or unix:PATH,server=on,wait=off\n"
        "  -mon chardev=ID[,mode=readline|control]\n"
        "                        human monitor (readline) or QMP (control)\n"
        "                        on -chardev ID\n"
        "  -qmp unix:PATH,server=on,wait=off\n"
        "  -qmp tcp:HOST:PORT,server=on,wait=off\n"
        "                        QMP monitor socket (docs/qmp.md); may be\n"
        "                        given several times\n"
        "  -nodefaults           no default serial port or monitor\n"
        "                        On stdio, Ctrl-A x quits, Ctrl-A h helps,\n"
        "                        Ctrl-A c switches to the human monitor\n"
        "                        (the default without -serial/-monitor)\n"
        "\n"
        "Process:\n"
        "  -name NAME            name of the guest\n"
        "  -S                    start with the CPUs stopped (QMP cont)\n"
        "  -pidfile FILE         write the process id to FILE\n"
        "  -d ITEM,...           log items (-d help lists them)\n"
        "  -D FILE               write the log to FILE\n"
        "  -h, --help            this help\n"
        "  --version             version\n"
        "\n"
        "Exit status: the guest's (test finisher code, 0 on poweroff), 0 on\n"
        "reboot with -no-reboot, Ctrl-A x or SIGTERM; 1 on a command-line\n"
        "error, reported before any guest code runs.\n");
}

static void main_machine_help(void)
{
    printf("Supported machines are:\n");
    for (unsigned i = 0; board_at(i); i++) {
        const struct board_ops *b = board_at(i);
        printf("%-20s %s%s\n", b->name, b->desc,
               b == board_default() ? " (default)" : "");
    }
}

static const struct main_opt *main_find_opt(const char *arg)
{
    if (arg[0] != '-' || arg[1] == '\0') {
        return NULL;
    }
    const char *name = arg + 1;
    if (name[0] == '-') {
        name++;
    }
    for (size_t i = 0; i < sizeof(main_opts) / sizeof(main_opts[0]); i++) {
        if (strcmp(main_opts[i].name, name) == 0) {
            return &main_opts[i];
        }
    }
    return NULL;
}

static int main_parse_machine(const char *opt, const char *val,
                              struct main_args *a, struct error *err)
{
    static const char *const known[] = { "type", "dumpdtb", "accel", NULL };
    struct opts o = { 0 };
    int r = opts_parse(&o, val, "type", opt, err);
    if (r == 0) {
        r = opts_check_known(&o, known, opt, err);
    }
    const char *type = r == 0 ? opts_get(&o, "type") : NULL;
    const char *accel = r == 0 ? opts_get(&o, "accel") : NULL;
    if (r == 0 && type && strcmp(type, "help") == 0) {
        a->machine_help = true;
    } else if (r == 0 && type) {
        main_cfg.board = board_find(type);
        if (!main_cfg.board) {
            r = err_set(err, -EINVAL,
                        "%s %s: unsupported machine type (use %s help to "
                        "list them)",
                        opt, val, opt);
        }
    }
    if (r == 0 && accel && strcmp(accel, "tcg") != 0) {
        r = err_set(err, -EINVAL, "%s %s: only accel=tcg is supported", opt,
                    val);
    }
    if (r == 0 && opts_get(&o, "dumpdtb")) {
        /* Kept for the life of the process; opts_free frees the original. */
        main_cfg.dumpdtb = strdup(opts_get(&o, "dumpdtb"));
    }
    opts_free(&o);
    return r;
}

static int main_parse_mem(const char *val, struct error *err)
{
    static const char *const known[] = { "size", NULL };
    struct opts o = { 0 };
    int r = opts_parse(&o, val, "size", "-m", err);
    if (r == 0) {
        r = opts_check_known(&o, known, "-m", err);
    }
    const char *size = r == 0 ? opts_get(&o, "size") : NULL;
    uint64_t bytes = 0;
    if (r == 0 && (!size || !parse_size(size, 1ull << 20, &bytes))) {
        r = err_set(err, -EINVAL,
                    "-m %s: invalid size (use e.g. -m 512M or "
                    "-m 2G)",
                    val);
    }
    if (r == 0 && (bytes & 0xfff)) {
        r = err_set(err, -EINVAL,
                    "-m %s: not a multiple of 4 KiB (use e.g. "
                    "-m 512M)",
                    val);
    }
    if (r == 0 && bytes > (1ull << 40)) {
        r = err_set(err, -EINVAL, "-m %s: more than 1 TiB is not supported",
                    val);
    }
    if (r == 0) {
        main_cfg.ram_size = bytes;
        main_cfg.ram_arg = val;
    }
    opts_free(&o);
    return r;
}

static int main_parse_smp(const char *val, struct error *err)
{
    static const char *const known[] = { "cpus",  "maxcpus", "sockets",
                                         "cores", "threads", NULL };
    struct opts o = { 0 };
    uint64_t cpus = 0, maxcpus = 0, sockets = 1, cores = 1, threads = 1;
    int r = opts_parse(&o, val, "cpus", "-smp", err);
    if (r == 0) {
        r = opts_check_known(&o, known, "-smp", err);
    }
    if (r == 0) {
        r = opts_get_uint(&o, "sockets", 1, &sockets, "-smp", err);
    }
    if (r == 0) {
        r = opts_get_uint(&o, "cores", 1, &cores, "-smp", err);
    }
    if (r == 0) {
        r = opts_get_uint(&o, "threads", 1, &threads, "-smp", err);
    }
    if (r == 0 && sockets <= 64 && cores <= 64 && threads <= 64) {
        r = opts_get_uint(&o, "cpus", sockets * cores * threads, &cpus, "-smp",
                          err);
    } else if (r == 0) {
        cpus = UINT32_MAX;
    }
    if (r == 0) {
        r = opts_get_uint(&o, "maxcpus", cpus, &maxcpus, "-smp", err);
    }
    opts_free(&o);
    if (r < 0) {
        return r;
    }
    if (cpus == 0) {
        return err_set(err, -EINVAL,
                       "-smp %s: at least one CPU is needed "
                       "(use -smp 1..%u)",
                       val, RV_MAX_HARTS);
    }
    if (cpus > RV_MAX_HARTS || maxcpus > RV_MAX_HARTS) {
        return err_set(err, -EINVAL,
                       "-smp %s: the virt machine supports at "
                       "most %u CPUs (use -smp 1..%u)",
                       val, RV_MAX_HARTS, RV_MAX_HARTS);
    }
    if (maxcpus < cpus) {
        return err_set(err, -EINVAL, "-smp %s: maxcpus is less than cpus", val);
    }
    main_cfg.smp = (unsigned)cpus;
    return 0;
}

static int main_parse_name(const char *val, struct main_args *a,
                           struct error *err)
{
    static const char *const known[] = { "guest", "process", "debug-threads",
                                         NULL };
    struct opts o = { 0 };
    int r = opts_parse(&o, val, "guest", "-name", err);
    if (r == 0) {
        r = opts_check_known(&o, known, "-name", err);
    }
    bool dbg;
    if (r == 0) {
        r = opts_get_bool(&o, "debug-threads", false, &dbg, "-name", err);
    }
    if (r == 0) {
        free(a->name_buf);
        free(a->process_name);
        a->name_buf =
            opts_get(&o, "guest") ? strdup(opts_get(&o, "guest")) : NULL;
        a->process_name =
            opts_get(&o, "process") ? strdup(opts_get(&o, "process")) : NULL;
        main_cfg.name = a->name_buf;
    }
    opts_free(&o);
    return r;
}

static int main_parse_serial(const char *val, struct main_args *a,
                             struct error *err)
{
    if (++a->nserial > 1) {
        return err_set(err, -EINVAL,
                       "-serial %s: the virt machine has one "
                       "serial port (give -serial once)",
                       val);
    }
    a->serial_arg = val;
    a->serial_mon = false;
    /* mon:stdio: the serial port and a human monitor share stdio, and
     * Ctrl-A c switches between them. */
    if (strcmp(val, "mon:stdio") == 0) {
        main_cfg.serial = "stdio";
        a->serial_mon = true;
    } else if (strncmp(val, "mon:", 4) == 0) {
        return err_set(err, -EINVAL,
                       "-serial %s: only mon:stdio can carry a monitor "
                       "(use -monitor for a separate one)",
                       val);
    } else if (strcmp(val, "none") == 0) {
        main_cfg.serial = NULL;
    } else {
        main_cfg.serial = val;
    }
    return 0;
}

/* Append a parsed option to a growing array (taking over o's contents). */
static int main_opts_push(struct opts **arr, unsigned *n, struct opts *o,
                          const char *opt, struct error *err)
{
    struct opts *a = realloc(*arr, (*n + 1) * sizeof(**arr));
    if (!a) {
        opts_free(o);
        return err_set(err, -ENOMEM, "%s: out of memory", opt);
    }
    a[(*n)++] = *o;
    *arr = a;
    return 0;
}

/* The entry of arr[0..n) whose id is id, or NULL. */
static const struct opts *main_find_id(const struct opts *arr, unsigned n,
                                       const char *id)
{
    for (unsigned i = 0; i < n; i++) {
        const char *other = opts_get(&arr[i], "id");
        if (other && strcmp(other, id) == 0) {
            return &arr[i];
        }
    }
    return NULL;
}

/* QEMU's ids: a letter, then letters, digits, '-', '.', '_'. */
static bool main_id_valid(const char *id)
{
    if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z'))) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
                  *p == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int main_check_id(const char *opt, const char *val, const char *id,
                         const struct opts *arr, unsigned n, struct error *err)
{
    if (!main_id_valid(id)) {
        return err_set(err, -EINVAL,
                       "%s %s: invalid id '%s' (use a letter, then letters, "
                       "digits, '-', '.' or '_')",
                       opt, val, id);
    }
    if (main_find_id(arr, n, id)) {
        return err_set(err, -EINVAL,
                       "%s %s: duplicate id '%s' (give each %s its own id)",
                       opt, val, id, opt);
    }
    return 0;
}

static int main_parse_device(const char *val, struct main_args *a,
                             struct error *err)
{
    struct opts o = { 0 };
    int r = opts_parse(&o, val, "driver", "-device", err);
    if (r < 0) {
        return r;
    }
    const char *name = opts_get(&o, "driver");
    const struct device_model *m = NULL;
    if (!name) {
        r = err_set(err, -EINVAL,
                    "-device %s: no device name (use -device NAME,..., "
                    "-device help lists them)",
                    val);
    } else if (strcmp(name, "help") == 0 || strcmp(name, "?") == 0) {
        a->device_help = true;
    } else if (!(m = model_find(name))) {
        r = err_set(err, -EINVAL,
                    "-device %s: unknown device (use -device help to list "
                    "them)",
                    name);
    } else if (opts_get(&o, "help")) {
        a->props_help = m;
    } else {
        r = model_check_opts(m, &o, err);
        const char *id = opts_get(&o, "id");
        if (r == 0 && id) {
            r = main_check_id("-device", val, id, main_cfg.devices,
                              main_cfg.ndevices, err);
        }
        if (r == 0) {
            return main_opts_push(&main_cfg.devices, &main_cfg.ndevices, &o,
                                  "-device", err);
        }
    }
    opts_free(&o);
    return r;
}

/* Add ",key=value" (value escaped) to an option string; malloc'd. */
static char *main_opts_append(const char *str, const char *key,
                              const char *value)
{
    size_t len = strlen(str) + strlen(key) + 2 * strlen(value) + 3;
    char *out = malloc(len);
    if (!out) {
        return NULL;
    }
    char *p = out + sprintf(out, "%s%s%s=", str, *str ? "," : "", key);
    for (const char *v = value; *v; v++) {
        *p++ = *v;
        if (*v == ',') {
            *p++ = ',';
        }
    }
    *p = '\0';
    return out;
}

static int main_parse_drive(const char *val, struct main_args *a,
                            struct error *err)
{
    struct opts o = { 0 };
    int r = opts_parse(&o, val, NULL, "-drive", err);
    if (r == 0) {
        r = opts_check_known(&o, blk_drive_keys, "-drive", err);
    }
    if (r < 0) {
        opts_free(&o);
        return r;
    }
    const char *file = opts_get(&o, "file");
    const char *ifname = opts_get(&o, "if");
    const char *id = opts_get(&o, "id");
    bool is_virtio = false;
    if (!file || !*file) {
        r = err_set(err, -EINVAL,
                    "-drive %s: file= is required (use -drive "
                    "file=IMAGE,format=raw,...)",
                    val);
    } else if (ifname && strcmp(ifname, "none") != 0 &&
               strcmp(ifname, "virtio") != 0) {
        r = err_set(err, -EINVAL,
                    "-drive %s: if=%s is not supported by the virt machine "
                    "(use if=virtio, or if=none with -device "
                    "virtio-blk-device,drive=ID)",
                    val, ifname);
    } else if (id) {
        r = main_check_id("-drive", val, id, main_cfg.drives, main_cfg.ndrives,
                          err);
    }
    if (r < 0) {
        opts_free(&o);
        return r;
    }
    is_virtio = ifname && strcmp(ifname, "virtio") == 0;
    if (main_cfg.ndrives >= VM_MAX_BACKENDS) {
        opts_free(&o);
        return err_set(err, -EINVAL, "-drive %s: more than %u drives", val,
                       VM_MAX_BACKENDS);
    }
    /* What the backend sees: an id always (QEMU's none0, none1, ... and
     * virtio0, ... when none is given) and if=none (an if=virtio drive is
     * an if=none drive plus the device made below). The last of a
     * repeated key wins, so appending is enough. */
    char auto_id[32];
    if (!id || is_virtio) {
        char *spec = strdup(val);
        if (spec && !id) {
            do {
                snprintf(auto_id, sizeof(auto_id), "%s%u",
                         is_virtio ? "virtio" : "none",
                         is_virtio ? a->drives_virtio++ : a->drives_none++);
            } while (main_find_id(main_cfg.drives, main_cfg.ndrives, auto_id));
            char *t = main_opts_append(spec, "id", auto_id);
            free(spec);
            spec = t;
        }
        if (spec && is_virtio) {
            char *t = main_opts_append(spec, "if", "none");
            free(spec);
            spec = t;
        }
        opts_free(&o);
        r = spec ? opts_parse(&o, spec, NULL, "-drive", err)
                 : err_set(err, -ENOMEM, "-drive: out of memory");
        free(spec);
        if (r < 0) {
            return r;
        }
        id = opts_get(&o, "id");
    }
    if (is_virtio) {
        struct opts dev = { 0 };
        char *spec = main_opts_append("driver=virtio-blk-device", "drive", id);
        r = spec ? opts_parse(&dev, spec, NULL, "-drive", err)
                 : err_set(err, -ENOMEM, "-drive: out of memory");
        free(spec);
        if (r == 0) {
            r = main_opts_push(&a->auto_devices, &a->nauto_devices, &dev,
                               "-drive", err);
        }
        if (r < 0) {
            opts_free(&o);
            return r;
        }
    }
    return main_opts_push(&main_cfg.drives, &main_cfg.ndrives, &o, "-drive",
                          err);
}

static int main_parse_chardev(const char *val, struct error *err)
{
    struct opts o = { 0 };
    int r = opts_parse(&o, val, "backend", "-chardev", err);
    if (r < 0) {
        return r;
    }
    const char *id = opts_get(&o, "id");
    if (!opts_get(&o, "backend")) {
        r = err_set(err, -EINVAL,
                    "-chardev %s: no backend (use -chardev BACKEND,id=ID,...)",
                    val);
    } else if (!id) {
        r = err_set(err, -EINVAL,
                    "-chardev %s: id= is required (use -chardev "
                    "BACKEND,id=ID,...)",
                    val);
    } else {
        r = main_check_id("-chardev", val, id, main_cfg.chardevs,
                          main_cfg.nchardevs, err);
    }
    if (r == 0 && main_cfg.nchardevs >= VM_MAX_BACKENDS) {
        r = err_set(err, -EINVAL, "-chardev %s: more than %u chardevs", val,
                    VM_MAX_BACKENDS);
    }
    if (r < 0) {
        opts_free(&o);
        return r;
    }
    return main_opts_push(&main_cfg.chardevs, &main_cfg.nchardevs, &o,
                          "-chardev", err);
}

static int main_check_netdev_keys(const struct opts *o, const char *opt,
                                  struct error *err)
{
    const char *type = opts_get(o, "type");
    if (type && strcmp(type, "user") == 0) {
        return opts_check_known(o, net_user_keys, "-netdev user", err);
    }
    if (type && strcmp(type, "tap") == 0) {
        return opts_check_known(o, net_tap_keys, "-netdev tap", err);
    }
    return err_set(err, -EINVAL,
                   "%s %s: unknown network backend (use user or tap)", opt,
                   type ? type : "");
}

static int main_push_netdev(struct opts *o, const char *val, const char *opt,
                            struct error *err)
{
    int r = main_check_netdev_keys(o, opt, err);
    if (r == 0 && main_cfg.nnetdevs >= VM_MAX_BACKENDS) {
        r = err_set(err, -EINVAL, "%s %s: more than %u netdevs", opt, val,
                    VM_MAX_BACKENDS);
    }
    if (r < 0) {
        opts_free(o);
        return r;
    }
    return main_opts_push(&main_cfg.netdevs, &main_cfg.nnetdevs, o, opt, err);
}

/* -netdev TYPE,id=ID,... */
static int main_parse_netdev(const char *val, struct error *err)
{
    struct opts o = { 0 };
    int r = opts_parse(&o, val, "type", "-netdev", err);
    if (r < 0) {
        return r;
    }
    const char *id = opts_get(&o, "id");
    if (!id) {
        r = err_set(err, -EINVAL,
                    "-netdev %s: id= is required (use -netdev user,id=ID)",
                    val);
    } else {
        r = main_check_id("-netdev", val, id, main_cfg.netdevs,
                          main_cfg.nnetdevs, err);
    }
    if (r < 0) {
        opts_free(&o);
        return r;
    }
    return main_push_netdev(&o, val, "-netdev", err);
}

/* -nic TYPE[,model=M][,mac=MAC][,backend options]: a -netdev plus a
 * virtio-net-device, added after the -device list as QEMU does. */
static int main_parse_nic(const char *val, struct main_args *a,
                          struct error *err)
{
    struct opts o = { 0 };
    int r = opts_parse(&o, val, "type", "-nic", err);
    if (r < 0) {
        return r;
    }
    const char *type = opts_get(&o, "type");
    const char *model = opts_get(&o, "model");
    if (type && strcmp(type, "none") == 0) {
        opts_free(&o);
        return 0;
    }
    if (model && strcmp(model, "virtio-net-device") != 0 &&
        strcmp(model, "virtio") != 0) {
        opts_free(&o);
        return err_set(err, -EINVAL,
                       "-nic %s: model=%s is not available on the virt "
                       "machine (use model=virtio-net-device)",
                       val, model);
    }
    char id[32];
    const char *given = opts_get(&o, "id");
    if (given) {
        snprintf(id, sizeof(id), "%s", given);
    } else {
        do {
            snprintf(id, sizeof(id), "nic%u", a->nics++);
        } while (main_find_id(main_cfg.netdevs, main_cfg.nnetdevs, id));
    }
    char *nspec = main_opts_append("", "id", id);
    char *dspec = main_opts_append("driver=virtio-net-device", "netdev", id);
    for (unsigned i = 0; i < o.n && nspec && dspec; i++) {
        const char *k = o.kv[i].key, *v = o.kv[i].val;
        char *t;
        if (strcmp(k, "model") == 0 || strcmp(k, "id") == 0) {
            continue;
        }
        if (strcmp(k, "mac") == 0) {
            t = main_opts_append(dspec, k, v);
            free(dspec);
            dspec = t;
        } else {
            t = main_opts_append(nspec, k, v);
            free(nspec);
            nspec = t;
        }
    }
    opts_free(&o);
    struct opts n = { 0 }, d = { 0 };
    r = nspec && dspec ? 0 : err_set(err, -ENOMEM, "-nic: out of memory");
    if (r == 0) {
        r = opts_parse(&n, nspec, NULL, "-nic", err);
    }
    if (r == 0) {
        r = main_check_id("-nic", val, id, main_cfg.netdevs, main_cfg.nnetdevs,
                          err);
        if (r < 0) {
            opts_free(&n);
        }
    }
    if (r == 0) {
        r = opts_parse(&d, dspec, NULL, "-nic", err);
        if (r < 0) {
            opts_free(&n);
        }
    }
    free(nspec);
    free(dspec);
    if (r == 0) {
        r = main_push_netdev(&n, val, "-nic", err);
        if (r < 0) {
            opts_free(&d);
        }
    }
    if (r == 0) {
        r = main_opts_push(&a->auto_devices, &a->nauto_devices, &d, "-nic",
                           err);
    }
    return r;
}

/*
 * -global DRIVER.PROP=VALUE or -global driver=D,property=P,value=V. The
 * only one accepted is virtio-mmio.force-legacy=false, which QEMU command
 * lines carry so that virtio-gpu/input drivers bind: swede's virtio-mmio
 * is always version 2, so it changes nothing.
 */
static int main_parse_global(const char *val, struct error *err)
{
    static const char *const known[] = { "driver", "property", "value", NULL };
    struct opts o = { 0 };
    char drv[64] = "", prop[64] = "";
    const char *value = NULL;
    int r = 0;
    const char *eq = strchr(val, '=');
    const char *dot = strchr(val, '.');
    if (dot && eq && dot < eq) {
        snprintf(drv, sizeof(drv), "%.*s", (int)(dot - val), val);
        snprintf(prop, sizeof(prop), "%.*s", (int)(eq - dot - 1), dot + 1);
        value = eq + 1;
    } else {
        r = opts_parse(&o, val, NULL, "-global", err);
        if (r == 0) {
            r = opts_check_known(&o, known, "-global", err);
        }
        if (r == 0 && opts_get(&o, "driver") && opts_get(&o, "property")) {
            snprintf(drv, sizeof(drv), "%s", opts_get(&o, "driver"));
            snprintf(prop, sizeof(prop), "%s", opts_get(&o, "property"));
            value = opts_get(&o, "value");
        }
    }
    if (r == 0 && strcmp(drv, "virtio-mmio") == 0 &&
        strcmp(prop, "force-legacy") == 0 && value &&
        (strcmp(value, "false") == 0 || strcmp(value, "off") == 0 ||
         strcmp(value, "no") == 0)) {
        r = 0;
    } else if (r == 0 && strcmp(drv, "virtio-mmio") == 0 &&
               strcmp(prop, "force-legacy") == 0) {
        r = err_set(err, -EINVAL,
                    "-global %s: swede's virtio-mmio is always modern "
                    "(version 2); only force-legacy=false is accepted",
                    val);
    } else if (r == 0) {
        r = err_set(err, -EINVAL,
                    "-global %s: not supported (the only global accepted is "
                    "virtio-mmio.force-legacy=false)",
                    val);
    }
    opts_free(&o);
    return r;
}

/* -display none|sdl[,...]|vnc=SPEC */
static int main_parse_display(const char *val, struct main_args *a,
                              struct error *err)
{
    if (strcmp(val, "none") == 0) {
        a->sdl_spec = NULL;
        return 0;
    }
    if (strncmp(val, "vnc=", 4) == 0) {
        if (vnc_check_spec(val + 4, "-display vnc", err) < 0) {
            return -EINVAL;
        }
        a->vnc_spec = val + 4;
        return 0;
    }
    if (strcmp(val, "sdl") == 0 || strncmp(val, "sdl,", 4) == 0) {
        if (sdl_check_spec(val, "-display", err) < 0) {
            return -EINVAL;
        }
        a->sdl_spec = val;
        return 0;
    }
    size_t n = strcspn(val, ",");
    return err_set(err, -EINVAL,
                   "-display %.*s: not supported (use -display sdl, "
                   "-display vnc=HOST:N or -display none)",
                   (int)n, val);
}

/* -mon [chardev=]ID[,mode=readline|control][,pretty=on|off] */
static int main_parse_mon(const char *val, struct main_args *a,
                          struct error *err)
{
    static const char *const known[] = { "chardev", "mode", "pretty", NULL };
    struct opts o;
    if (opts_parse(&o, val, "chardev", "-mon", err) < 0) {
        return -EINVAL;
    }
    int r = opts_check_known(&o, known, "-mon", err);
    const char *id = opts_get(&o, "chardev");
    const char *mode = opts_get(&o, "mode");
    bool pretty = false;
    if (r == 0) {
        r = opts_get_bool(&o, "pretty", false, &pretty, "-mon", err);
    }
    if (r == 0 && (!id || !*id)) {
        r = err_set(err, -EINVAL,
                    "-mon %s: needs chardev=ID (a -chardev to run the "
                    "monitor on)",
                    val);
    }
    if (r == 0 && mode && strcmp(mode, "readline") != 0 &&
        strcmp(mode, "control") != 0) {
        r = err_set(err, -EINVAL,
                    "-mon %s: mode must be readline (human monitor) or "
                    "control (QMP)",
                    val);
    }
    if (r == 0 && pretty) {
        r = err_set(err, -EINVAL, "-mon %s: pretty=on is not supported", val);
    }
    if (r == 0 && a->nmons == sizeof(a->mons) / sizeof(a->mons[0])) {
        r = err_set(err, -EINVAL, "-mon %s: too many monitors", val);
    }
    if (r == 0) {
        char *keep = strdup(id); /* o is freed below */
        if (!keep) {
            r = err_set(err, -ENOMEM, "-mon: out of memory");
        } else {
            a->mons[a->nmons++] = (struct main_mon){
                .chardev = keep,
                .control = mode && strcmp(mode, "control") == 0,
            };
        }
    }
    opts_free(&o);
    return r;
}

static int main_parse_one(const struct main_opt *o, const char *arg,
                          const char *val, struct main_args *a,
                          struct error *err)
{
    switch (o->id) {
    case OPT_MACHINE:
        return main_parse_machine(arg, val, a, err);
    case OPT_MEM:
        return main_parse_mem(val, err);
    case OPT_SMP:
        return main_parse_smp(val, err);
    case OPT_BIOS:
        main_cfg.bios = val;
        return 0;
    case OPT_KERNEL:
        main_cfg.kernel = val;
        return 0;
    case OPT_INITRD:
        main_cfg.initrd = val;
        return 0;
    case OPT_APPEND:
        main_cfg.append = val;
        return 0;
    case OPT_DTB:
        main_cfg.dtb = val;
        return 0;
    case OPT_NOGRAPHIC:
        main_cfg.nographic = true;
        return 0;
    case OPT_SERIAL:
        return main_parse_serial(val, a, err);
    case OPT_NO_REBOOT:
        main_cfg.no_reboot = true;
        return 0;
    case OPT_NAME:
        return main_parse_name(val, a, err);
    case OPT_PIDFILE:
        main_cfg.pidfile = val;
        return 0;
    case OPT_LOG_ITEMS:
        a->log_items = val;
        return 0;
    case OPT_LOG_FILE:
        a->log_file = val;
        return 0;
    case OPT_DISPLAY:
        return main_parse_display(val, a, err);
    case OPT_VNC:
        if (strcmp(val, "none") == 0) {
            a->vnc_spec = NULL;
            return 0;
        }
        if (vnc_check_spec(val, "-vnc", err) < 0) {
            return -EINVAL;
        }
        a->vnc_spec = val;
        return 0;
    case OPT_MONITOR:
        a->monitor_given = true;
        if (strcmp(val, "none") == 0) {
            return 0;
        }
        if (a->nmons == sizeof(a->mons) / sizeof(a->mons[0])) {
            return err_set(err, -EINVAL, "-monitor %s: too many monitors", val);
        }
        a->mons[a->nmons++] = (struct main_mon){ .spec = val };
        return 0;
    case OPT_MON:
        return main_parse_mon(val, a, err);
    case OPT_NODEFAULTS:
        a->nodefaults = true;
        return 0;
    case OPT_ACCEL:
        if (strcmp(val, "tcg") != 0 && strncmp(val, "tcg,", 4) != 0) {
            return err_set(err, -EINVAL,
                           "-accel %s: not supported (use "
                           "-accel tcg)",
                           val);
        }
        return 0;
    case OPT_DEVICE:
        return main_parse_device(val, a, err);
    case OPT_DRIVE:
        return main_parse_drive(val, a, err);
    case OPT_CHARDEV:
        return main_parse_chardev(val, err);
    case OPT_NETDEV:
        return main_parse_netdev(val, err);
    case OPT_NIC:
        return main_parse_nic(val, a, err);
    case OPT_GLOBAL:
        return main_parse_global(val, err);
    case OPT_QMP:
        if (a->nqmp == sizeof(a->qmp_specs) / sizeof(a->qmp_specs[0])) {
            return err_set(err, -EINVAL, "-qmp %s: at most %zu -qmp options",
                           val, sizeof(a->qmp_specs) / sizeof(a->qmp_specs[0]));
        }
        if (qmp_check_spec(val, "-qmp", err) < 0) {
            return -EINVAL;
        }
        a->qmp_specs[a->nqmp++] = val;
        return 0;
    case OPT_START_PAUSED:
        a->start_paused = true;
        return 0;
    case OPT_VERSION:
        a->version = true;
        return 0;
    case OPT_HELP:
        a->help = true;
        return 0;
    }
    return 0;
}

static int main_parse(int argc, char **argv, struct main_args *a,
                      struct error *err)
{
    main_cfg.board = board_default();
    main_cfg.smp = 1;
    main_cfg.bios = "default";
    main_cfg.serial = "stdio";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const struct main_opt *o = main_find_opt(arg);
        if (!o) {
            if (arg[0] == '-' && arg[1] != '\0') {
                return err_set(err, -EINVAL,
                               "%s: invalid option (see swede "
                               "--help)",
                               arg);
            }
            return err_set(err, -EINVAL,
                           "%s: unexpected argument (give disk images "
                           "with -drive file=%s,if=virtio; see swede "
                           "--help)",
                           arg, arg);
        }
        const char *val = NULL;
        if (o->has_arg) {
            if (i + 1 >= argc) {
                return err_set(err, -EINVAL, "%s: requires an argument", arg);
            }
            val = argv[++i];
        }
        int r = main_parse_one(o, arg, val, a, err);
        if (r < 0) {
            return r;
        }
    }
    if (a->help || a->version || a->machine_help || a->device_help ||
        a->props_help) {
        return 0;
    }
    /* -drive if=virtio devices come after the -device list, as in QEMU. */
    for (unsigned i = 0; i < a->nauto_devices; i++) {
        int r = main_opts_push(&main_cfg.devices, &main_cfg.ndevices,
                               &a->auto_devices[i], "-drive", err);
        if (r < 0) {
            return r;
        }
    }
    free(a->auto_devices);
    a->auto_devices = NULL;
    a->nauto_devices = 0;
    if (!main_cfg.ram_arg) {
        static char dflt[32];
        main_cfg.ram_size = main_cfg.board->default_ram;
        snprintf(dflt, sizeof(dflt), "%lluM",
                 (unsigned long long)(main_cfg.ram_size >> 20));
        main_cfg.ram_arg = dflt;
    }
    if (main_cfg.smp > main_cfg.board->max_cpus) {
        return err_set(err, -EINVAL,
                       "-smp %u: the %s machine supports at "
                       "most %u CPUs (use -smp 1..%u)",
                       main_cfg.smp, main_cfg.board->name,
                       main_cfg.board->max_cpus, main_cfg.board->max_cpus);
    }
    if (main_cfg.initrd && !main_cfg.kernel) {
        return err_set(err, -EINVAL, "-initrd %s: only allowed with -kernel",
                       main_cfg.initrd);
    }
    if (main_cfg.append && !main_cfg.kernel) {
        return err_set(err, -EINVAL, "-append: only allowed with -kernel");
    }
    if (a->nodefaults && a->nserial == 0) {
        main_cfg.serial = NULL;
    }
    if (main_cfg.nographic && a->sdl_spec) {
        return err_set(err, -EINVAL,
                       "-nographic cannot be used with -display sdl (drop "
                       "one of them)");
    }
    /* As QEMU with -nographic: with neither -serial nor -monitor given,
     * the serial port and a human monitor share stdio (Ctrl-A c). */
    if (!a->nodefaults && a->nserial == 0 && !a->monitor_given) {
        a->serial_mon = true;
    }
    return 0;
}

static void main_remove_pidfile(void)
{
    if (main_pidfile_written) {
        unlink(main_pidfile_written);
    }
}

static int main_write_pidfile(const char *path, struct error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return err_set(err, -errno, "-pidfile %s: %s", path, strerror(errno));
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    bool ok = write(fd, buf, (size_t)n) == n;
    int e = errno;
    ok = (close(fd) == 0) && ok;
    if (!ok) {
        unlink(path);
        return err_set(err, -e, "-pidfile %s: %s", path, strerror(e));
    }
    main_pidfile_written = path;
    atexit(main_remove_pidfile);
    return 0;
}

static void main_vcpu_set(enum main_vcpu_cmd cmd)
{
    pthread_mutex_lock(&main_vcpu_lock);
    main_vcpu_cmd = cmd;
    pthread_cond_broadcast(&main_vcpu_cond);
    pthread_mutex_unlock(&main_vcpu_lock);
}

static void main_quit(int status)
{
    main_shutting_down = true;
    main_exit_status = status;
    main_vcpu_set(VCPU_EXIT);
    loop_quit();
}

/* Console output passes here (core/panic_watch.h). */
static void main_console_tap(void *opaque, const uint8_t *buf, size_t n)
{
    static struct panic_watch watch;

    (void)opaque;
    if (panic_watch_feed(&watch, buf, n)) {
        runstate_set_guest_panicked(true);
    }
}

static void main_event_guest(const char *event, bool guest, const char *reason)
{
    qmp_event(main_qmp, event,
              json_pack("{s:b,s:s}", "guest", guest, "reason", reason));
}

/* Main-loop thread: stop the vCPU thread and wait until it is parked. */
static void main_vcpu_park_sync(void)
{
    pthread_mutex_lock(&main_vcpu_lock);
    while (main_vcpu_cmd == VCPU_RUN) {
        rv_cpu_stop(main_vm.cpu);
        pthread_cond_wait(&main_vcpu_cond, &main_vcpu_lock);
    }
    pthread_mutex_unlock(&main_vcpu_lock);
}

/* Main-loop thread: run the vCPU unless the machine is paused. */
static void main_vcpu_resume(void)
{
    if (main_paused) {
        main_paused_time = rv_cpu_time(main_vm.cpu);
    } else {
        main_vcpu_set(VCPU_RUN);
    }
}

/* Main-loop thread, vCPU parked: carry out the pending request. */
static void main_vcpu_stopped(void *opaque)
{
    (void)opaque;
    pthread_mutex_lock(&main_vcpu_lock);
    bool parked = main_vcpu_cmd == VCPU_PARKED;
    pthread_mutex_unlock(&main_vcpu_lock);
    if (!parked) {
        /* Restarted meanwhile (cont, QMP reset) or exiting: a pending
         * request makes the vCPU park and call here again. */
        return;
    }
    int code = 0;
    switch (runstate_take(&code)) {
    case RUNSTATE_REQ_SHUTDOWN:
        main_event_guest("SHUTDOWN", true, "guest-shutdown");
        main_quit(code);
        return;
    case RUNSTATE_REQ_QUIT:
        main_event_guest("SHUTDOWN", false, "host-signal");
        main_quit(0);
        return;
    case RUNSTATE_REQ_RESET:
        /* As QEMU: -no-reboot turns a guest reboot into an exit, status 0.
         * A Linux panic with panic=-1 reboots the same way (OpenSBI writes
         * 0x7777 for every SRST reboot, whatever the reason); the console
         * panic watch tells the two apart, and a panic exits with 1. */
        if (main_cfg.no_reboot) {
            main_event_guest("SHUTDOWN", true, "guest-reset");
            if (runstate_guest_panicked()) {
                fprintf(stderr, "swede: the guest kernel panicked; exiting "
                                "(-no-reboot)\n");
                main_quit(1);
            } else {
                main_quit(0);
            }
            return;
        }
        runstate_set_guest_panicked(false);
        main_cfg.board->reset(&main_vm);
        main_event_guest("RESET", true, "guest-reset");
        break;
    case RUNSTATE_REQ_NONE:
        break;
    }
    main_vcpu_resume();
}

static void *main_vcpu_thread(void *opaque)
{
    (void)opaque;
    __atomic_store_n(&main_vcpu_tid, (long)gettid(), __ATOMIC_RELEASE);
    pthread_mutex_lock(&main_vcpu_lock);
    for (;;) {
        while (main_vcpu_cmd == VCPU_PARKED) {
            pthread_cond_wait(&main_vcpu_cond, &main_vcpu_lock);
        }
        if (main_vcpu_cmd == VCPU_EXIT) {
            break;
        }
        pthread_mutex_unlock(&main_vcpu_lock);
        rv_cpu_run(main_vm.cpu);
        pthread_mutex_lock(&main_vcpu_lock);
        if (main_vcpu_cmd == VCPU_EXIT) {
            break;
        }
        main_vcpu_cmd = VCPU_PARKED;
        pthread_cond_broadcast(&main_vcpu_cond); /* main_vcpu_park_sync */
        loop_call(main_vcpu_stopped, NULL);
        loop_wakeup();
    }
    pthread_mutex_unlock(&main_vcpu_lock);
    return NULL;
}

/* ---- QMP's view of the machine (monitor/qmp.h) ---- */

static const char *main_qmp_status(void *opaque, bool *running)
{
    (void)opaque;
    *running = !main_paused && !main_shutting_down;
    if (main_shutting_down) {
        return "shutdown";
    }
    if (main_paused) {
        return main_prelaunch ? "prelaunch" : "paused";
    }
    return "running";
}

static void main_qmp_stop(void *opaque)
{
    (void)opaque;
    if (main_paused || main_shutting_down) {
        return;
    }
    main_vcpu_park_sync();
    main_paused_time = rv_cpu_time(main_vm.cpu);
    main_paused = true;
    qmp_event(main_qmp, "STOP", NULL);
}

static void main_qmp_cont(void *opaque)
{
    (void)opaque;
    if (!main_paused || main_shutting_down) {
        return;
    }
    rv_cpu_set_time(main_vm.cpu, main_paused_time);
    main_paused = false;
    main_prelaunch = false;
    qmp_event(main_qmp, "RESUME", NULL);
    main_vcpu_set(VCPU_RUN);
}

/* Reset and quit run after the reply to the command has been sent, as in
 * QEMU (the RESET/SHUTDOWN event follows the reply). */
static void main_qmp_do_reset(void *opaque)
{
    (void)opaque;
    if (main_shutting_down) {
        return;
    }
    main_vcpu_park_sync();
    if (main_cfg.no_reboot) {
        main_event_guest("SHUTDOWN", false, "host-qmp-system-reset");
        main_quit(0);
        return;
    }
    runstate_set_guest_panicked(false);
    main_cfg.board->reset(&main_vm);
    main_event_guest("RESET", false, "host-qmp-system-reset");
    main_vcpu_resume();
}

static void main_qmp_reset(void *opaque)
{
    loop_call(main_qmp_do_reset, opaque);
}

static void main_qmp_do_quit(void *opaque)
{
    (void)opaque;
    if (main_shutting_down) {
        return;
    }
    main_vcpu_park_sync();
    main_event_guest("SHUTDOWN", false, "host-qmp-quit");
    main_quit(0);
}

static void main_qmp_quit(void *opaque)
{
    loop_call(main_qmp_do_quit, opaque);
}

static long main_qmp_cpu_thread_id(void *opaque, unsigned i)
{
    (void)opaque, (void)i;
    /* One vCPU thread runs every hart. */
    return __atomic_load_n(&main_vcpu_tid, __ATOMIC_ACQUIRE);
}

/* On virt the power button is KEY_POWER on the first virtio keyboard:
 * the board has no other device a guest could be told through (QEMU's
 * riscv virt has none either). */
static void main_qmp_powerdown(void *opaque)
{
    (void)opaque;
    static bool warned;
    qmp_event(main_qmp, "POWERDOWN", NULL);
    for (unsigned i = 0; i < main_vm.ndevices; i++) {
        const struct device_instance *d = &main_vm.devices[i];
        if (d->model == &virtio_keyboard_model) {
            virtio_input_send(d->state, EV_KEY, KEY_POWER, 1);
            virtio_input_sync(d->state);
            virtio_input_send(d->state, EV_KEY, KEY_POWER, 0);
            virtio_input_sync(d->state);
            return;
        }
    }
    if (!warned) {
        warned = true;
        fprintf(stderr, "swede: system_powerdown: the guest cannot see it "
                        "(the virt machine's power button is KEY_POWER on "
                        "-device virtio-keyboard-device)\r\n");
    }
}

/* Run fn with the vCPU parked (state read consistently), then let it go
 * on unless the machine is paused anyway. */
static void main_with_vcpu_parked(void (*fn)(void *), void *arg)
{
    bool running = !main_paused && !main_shutting_down;
    if (running) {
        main_vcpu_park_sync();
    }
    fn(arg);
    if (running) {
        main_vcpu_set(VCPU_RUN);
    }
}

struct main_regs_req {
    unsigned cpu;
    struct rv_hart_state st;
};

static void main_get_regs(void *arg)
{
    struct main_regs_req *q = arg;
    rv_hart_get_state(rv_cpu_hart(main_vm.cpu, q->cpu), &q->st);
}

static void main_qmp_print_registers(void *opaque, unsigned i, FILE *f)
{
    (void)opaque;
    if (i >= rv_cpu_nharts(main_vm.cpu)) {
        return;
    }
    struct main_regs_req q = { .cpu = i };
    main_with_vcpu_parked(main_get_regs, &q);
    rv_hart_state_print(&q.st, f);
}

static void main_qmp_print_mtree(void *opaque, FILE *f)
{
    (void)opaque;
    vm_info_mtree(&main_vm, f);
}

static json_t *main_qmp_query_block(void *opaque)
{
    (void)opaque;
    return vm_info_block(&main_vm);
}

static json_t *main_qmp_query_chardev(void *opaque)
{
    (void)opaque;
    json_t *list = json_array();
    if (!list) {
        return NULL;
    }
    if (main_vm.serial) {
        vm_info_add_chardev(list, "serial0", main_vm.serial, true);
    }
    for (unsigned i = 0; i < main_vm.nchardevs; i++) {
        vm_info_add_chardev(list, main_vm.chardevs[i].id,
                            main_vm.chardevs[i].chr, main_vm.chardevs[i].taken);
    }
    for (unsigned i = 0; i < main_nmon_chrs; i++) {
        if (main_mon_chrs[i].owned) {
            vm_info_add_chardev(list, main_mon_chrs[i].label,
                                main_mon_chrs[i].chr, true);
        }
    }
    return list;
}

static int main_qmp_screendump(void *opaque, const char *device, int64_t head,
                               const char *path, const char *format,
                               struct error *err)
{
    (void)opaque;
    enum screendump_format fmt;
    if (screendump_format_parse(format, &fmt, err) < 0) {
        return -EINVAL;
    }
    struct ui_console *c = ui_console_find(device, head, err);
    if (!c) {
        return -ENODEV;
    }
    pixman_image_t *img = ui_console_snapshot(c);
    if (!img) {
        return err_set(err, -ENODEV, "Display output is not active");
    }
    int r = screendump_write(img, path, fmt, err);
    pixman_image_unref(img);
    return r;
}

static const struct qmp_machine_ops main_qmp_ops = {
    .status = main_qmp_status,
    .stop = main_qmp_stop,
    .cont = main_qmp_cont,
    .reset = main_qmp_reset,
    .quit = main_qmp_quit,
    .cpu_thread_id = main_qmp_cpu_thread_id,
    .powerdown = main_qmp_powerdown,
    .print_registers = main_qmp_print_registers,
    .print_mtree = main_qmp_print_mtree,
    .query_block = main_qmp_query_block,
    .query_chardev = main_qmp_query_chardev,
    .screendump = main_qmp_screendump,
};

/* Open the chardevs of -monitor SPEC and take those of -mon chardev=ID,
 * before the board is built (so a device cannot take them too). */
static int main_open_monitors(const struct main_args *a, struct error *err)
{
    unsigned compat = 0;
    for (unsigned i = 0; i < a->nmons; i++) {
        struct main_mon_chr *m = &main_mon_chrs[main_nmon_chrs++];
        if (a->mons[i].spec) {
            m->chr = chardev_open_serial_spec(a->mons[i].spec, "-monitor", err);
            if (!m->chr) {
                return -EINVAL;
            }
            m->owned = true;
            snprintf(m->label, sizeof(m->label), "compat_monitor%u", compat++);
        } else {
            m->chr = vm_take_chardev(&main_vm, a->mons[i].chardev, "-mon", err);
            if (!m->chr) {
                return -EINVAL;
            }
            snprintf(m->label, sizeof(m->label), "%s", a->mons[i].chardev);
        }
    }
    return 0;
}

static int main_attach_monitors(const struct main_args *a, struct error *err)
{
    for (unsigned i = 0; i < main_nmon_chrs; i++) {
        if (qmp_monitor_attach(main_qmp, main_mon_chrs[i].chr,
                               a->mons[i].control, err) < 0) {
            return -EINVAL;
        }
    }
    if (a->serial_mon && main_vm.serial &&
        qmp_monitor_attach(main_qmp, main_vm.serial, false, err) < 0) {
        return -EINVAL;
    }
    return 0;
}

/* Kick a CPU that may be asleep in WFI so that it sees a request posted
 * outside the vCPU thread (see the top of this file). */
static void main_runstate_poll(void *opaque)
{
    (void)opaque;
    if (runstate_pending() && main_paused) {
        main_vcpu_stopped(NULL); /* parked: nobody else takes it */
    } else if (runstate_pending()) {
        rv_cpu_kick(main_vm.cpu);
    }
    loop_timer_arm(main_poll_timer, loop_now_ns() + MAIN_RUNSTATE_POLL_NS);
}

static void main_signal(void *opaque, uint32_t events)
{
    int fd = (int)(intptr_t)opaque;
    struct signalfd_siginfo si;
    (void)events;
    while (read(fd, &si, sizeof(si)) == sizeof(si)) {
        fprintf(stderr, "swede: terminating on signal %u\r\n", si.ssi_signo);
        runstate_request(RUNSTATE_REQ_QUIT, 0);
        rv_cpu_kick(main_vm.cpu);
    }
}

static int main_setup_signals(const sigset_t *set, struct error *err)
{
    int fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        return err_set(err, -errno, "signalfd: %s", strerror(errno));
    }
    if (loop_add_fd(fd, EPOLLIN, main_signal, (void *)(intptr_t)fd) < 0) {
        close(fd);
        return err_set(err, -EIO, "cannot watch signals");
    }
    return 0;
}

static void main_fail(const struct error *err)
{
    chardev_restore_terminal();
    fprintf(stderr, "swede: %s\n", err->msg);
    exit(1);
}

/* Open every -chardev, -netdev and -drive backend before the board is built, so
 * that the devices can take them (vm_take_chardev/vm_take_drive). */
static int main_open_backends(struct error *err)
{
    for (unsigned i = 0; i < main_cfg.nchardevs; i++) {
        const struct opts *o = &main_cfg.chardevs[i];
        struct chardev *chr = chardev_open(o, err);
        if (!chr) {
            if (!err_is_set(err)) {
                err_set(err, -EINVAL, "-chardev %s,id=%s: cannot open",
                        opts_get(o, "backend"), opts_get(o, "id"));
            }
            return err->code;
        }
        main_vm.chardevs[main_vm.nchardevs++] =
            (struct vm_chardev){ .id = opts_get(o, "id"), .chr = chr };
    }
    for (unsigned i = 0; i < main_cfg.nnetdevs; i++) {
        const struct opts *o = &main_cfg.netdevs[i];
        struct net_backend *nb = net_backend_open(o, err);
        if (!nb) {
            if (!err_is_set(err)) {
                err_set(err, -EINVAL, "-netdev %s,id=%s: cannot open",
                        opts_get(o, "type"), opts_get(o, "id"));
            }
            return err->code;
        }
        main_vm.netdevs[main_vm.nnetdevs++] =
            (struct vm_netdev){ .id = opts_get(o, "id"), .nb = nb };
    }
    for (unsigned i = 0; i < main_cfg.ndrives; i++) {
        const struct opts *o = &main_cfg.drives[i];
        struct blk_backend *blk = blk_backend_open(o, err);
        if (!blk) {
            if (!err_is_set(err)) {
                err_set(err, -EINVAL, "-drive file=%s: cannot open",
                        opts_get(o, "file"));
            }
            return err->code;
        }
        main_vm.drives[main_vm.ndrives++] =
            (struct vm_drive){ .id = opts_get(o, "id"), .blk = blk };
    }
    return 0;
}

/* As QEMU, a -drive no device uses is allowed (if=none is the virt
 * machine's default), but it is almost always a mistake: say so. */
static void main_warn_unused_drives(void)
{
    for (unsigned i = 0; i < main_vm.ndrives; i++) {
        if (!main_vm.drives[i].taken) {
            fprintf(stderr,
                    "swede: warning: -drive file=%s,id=%s: no device uses "
                    "this drive (add -device virtio-blk-device,drive=%s, "
                    "or use if=virtio)\n",
                    opts_get(&main_cfg.drives[i], "file"), main_vm.drives[i].id,
                    main_vm.drives[i].id);
        }
    }
}

int main(int argc, char **argv)
{
    struct error err = { 0 };
    struct main_args args = { 0 };

    if (main_parse(argc, argv, &args, &err) < 0) {
        main_fail(&err);
    }
    if (args.help) {
        main_usage();
        return 0;
    }
    if (args.version) {
        printf("swede version %s (QEMU-compatible command line)\n",
               SWEDE_VERSION);
        return 0;
    }
    if (args.machine_help) {
        main_machine_help();
        return 0;
    }
    if (args.device_help) {
        models_print_help(stdout);
        return 0;
    }
    if (args.props_help) {
        model_print_props(args.props_help, stdout);
        return 0;
    }
    if (args.log_items) {
        bool help = false;
        if (log_set_items(args.log_items, &help, &err) < 0) {
            main_fail(&err);
        }
        if (help) {
            return 0;
        }
    }
    if (args.log_file && log_set_file(args.log_file, &err) < 0) {
        main_fail(&err);
    }
    if (args.process_name) {
        prctl(PR_SET_NAME, args.process_name, 0, 0, 0);
    }

    /* Block the quit signals in every thread (threads inherit the mask);
     * the main loop reads them from a signalfd. */
    sigset_t quit_set;
    sigemptyset(&quit_set);
    sigaddset(&quit_set, SIGINT);
    sigaddset(&quit_set, SIGTERM);
    sigaddset(&quit_set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &quit_set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (loop_init(&err) < 0) {
        main_fail(&err);
    }
    atexit(chardev_restore_terminal);
    main_vm.cfg = &main_cfg;
    if (main_cfg.serial && !main_cfg.dumpdtb) {
        main_vm.serial =
            chardev_open_serial_spec(main_cfg.serial, "-serial", &err);
        if (!main_vm.serial) {
            if (!err_is_set(&err)) {
                err_set(&err, -EINVAL, "-serial %s: cannot open",
                        args.serial_arg ? args.serial_arg : main_cfg.serial);
            }
            main_fail(&err);
        }
    }
    if (main_vm.serial) {
        chardev_set_output_tap(main_vm.serial, main_console_tap, NULL);
    }
    if (main_open_backends(&err) < 0 || main_open_monitors(&args, &err) < 0) {
        main_fail(&err);
    }
    if (main_cfg.board->build(&main_vm, &err) < 0) {
        if (!err_is_set(&err)) {
            err_set(&err, -EINVAL, "-machine %s: cannot build the machine",
                    main_cfg.board->name);
        }
        main_fail(&err);
    }
    main_warn_unused_drives();
    for (unsigned i = 0; i < main_vm.nnetdevs; i++) {
        if (!main_vm.netdevs[i].taken) {
            fprintf(stderr,
                    "swede: warning: netdev %s has no peer (add -device "
                    "virtio-net-device,netdev=%s)\n",
                    main_vm.netdevs[i].id, main_vm.netdevs[i].id);
        }
    }
    /* Loading read whole images into the heap; hand that memory back. */
    malloc_trim(0);
    if (main_cfg.dumpdtb) {
        fprintf(stderr, "swede: info: dtb dumped to %s. Exiting.\n",
                main_cfg.dumpdtb);
        return 0;
    }
    if (main_cfg.pidfile && main_write_pidfile(main_cfg.pidfile, &err) < 0) {
        main_fail(&err);
    }
    if (main_setup_signals(&quit_set, &err) < 0) {
        main_fail(&err);
    }
    main_poll_timer = loop_timer_new(main_runstate_poll, NULL);
    if (main_poll_timer) {
        loop_timer_arm(main_poll_timer, loop_now_ns() + MAIN_RUNSTATE_POLL_NS);
    }

    struct qmp_machine_info info = { .name = main_cfg.name,
                                     .machine = main_cfg.board->name,
                                     .ncpus = main_cfg.smp };
    main_qmp = qmp_server_new(&main_qmp_ops, NULL, &info);
    if (!main_qmp) {
        err_set(&err, -ENOMEM, "monitor: out of memory");
        main_fail(&err);
    }
    if (main_attach_monitors(&args, &err) < 0) {
        main_fail(&err);
    }
    if (args.vnc_spec && vnc_start(args.vnc_spec, "-vnc", &err) < 0) {
        main_fail(&err);
    }
    if (args.sdl_spec && sdl_start(args.sdl_spec, main_cfg.name, &err) < 0) {
        main_fail(&err);
    }
    for (unsigned i = 0; i < args.nqmp; i++) {
        if (qmp_server_listen(main_qmp, args.qmp_specs[i], "-qmp", &err) < 0) {
            main_fail(&err);
        }
    }

    pthread_t vcpu;
    main_vcpu_cmd = VCPU_RUN;
    if (args.start_paused) {
        main_vcpu_cmd = VCPU_PARKED;
        main_paused = main_prelaunch = true;
        main_paused_time = rv_cpu_time(main_vm.cpu);
    }
    int r = pthread_create(&vcpu, NULL, main_vcpu_thread, NULL);
    if (r != 0) {
        err_set(&err, -r, "cannot start the vCPU thread: %s", strerror(r));
        main_fail(&err);
    }
    loop_run();

    /* Normally the vCPU is parked already; if something else quit the
     * loop, stop it first. */
    main_vcpu_set(VCPU_EXIT);
    rv_cpu_stop(main_vm.cpu);
    rv_cpu_kick(main_vm.cpu);
    pthread_join(vcpu, NULL);
    if (args.sdl_spec) {
        sdl_stop();
    }
    if (args.vnc_spec) {
        vnc_stop();
    }
    qmp_server_free(main_qmp);
    for (unsigned i = 0; i < main_nmon_chrs; i++) {
        if (main_mon_chrs[i].owned) {
            chardev_close(main_mon_chrs[i].chr);
        }
    }
    /* Socket chardevs unlink their paths, as QEMU's do at exit. */
    for (unsigned i = 0; i < main_vm.nchardevs; i++) {
        chardev_close(main_vm.chardevs[i].chr);
    }
    return main_exit_status;
}
