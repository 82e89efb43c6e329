#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot the guest kit (scripts/guest-kit output) under an emulator and check
the /init contract: the ready marker, the CPU count, a command passed on the
kernel command line (base64, URL-encoded and quoted forms), its exit status,
the virtio drivers it loads, the interactive shell, and that the machine
powers off (or resets with swede.reboot=1) so the emulator exits.

Runs against Debian's qemu-system-riscv64 by default (--emulator to point it
at another binary taking the same options, e.g. swede).  Prints the
wall-clock time from process start to "swede-init: ready" for each boot.
Exit status 0 when every check passes.
"""

import argparse
import base64
import os
import selectors
import subprocess
import sys
import tempfile
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MARKER = "swede-init: ready"


def boot(args, append, extra=(), stdin_text=None, timeout=None):
    """Run one boot; return (output, seconds_to_marker, exit_code)."""
    cmd = [args.emulator, "-M", "virt", "-m", "512M", "-smp", str(args.smp),
           "-nographic", "-bios", "default",
           "-kernel", os.path.join(args.kit, "vmlinux"),
           "-initrd", os.path.join(args.kit, "initramfs.cpio.gz"),
           "-append", append, *extra]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    out = b""
    t_marker = None
    sent = False
    deadline = t0 + (timeout or args.timeout)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            p.kill()
            p.wait()
            return out.decode("utf-8", "replace"), t_marker, "timeout"
        if not sel.select(min(left, 1.0)):
            continue
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        out += chunk
        if t_marker is None and MARKER.encode() in out:
            t_marker = time.monotonic() - t0
        if stdin_text and not sent and b"swede-init: cpus=" in out:
            # Give the shell a moment to print its prompt, then type.
            time.sleep(2)
            p.stdin.write(stdin_text.encode())
            p.stdin.flush()
            sent = True
    rc = p.wait()
    return out.decode("utf-8", "replace"), t_marker, rc


class Checker:
    """Prints ok/FAIL lines; dumps the console tail once per failing boot."""

    def __init__(self, verbose):
        self.failed = 0
        self.tail = 8000 if verbose else 1500
        self.dumped = None

    def check(self, name, ok, output=None):
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
        if not ok:
            self.failed += 1
            if output is not None and self.dumped is not output:
                self.dumped = output
                print("---- console tail ----")
                print(output[-self.tail:])
                print("----")


def lines(out):
    return [line.rstrip("\r") for line in out.splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kit", default=os.path.join(PROJECT, "kit"))
    ap.add_argument("--emulator", default="qemu-system-riscv64")
    ap.add_argument("--smp", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--quick", action="store_true",
                    help="only the main command boot")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print the console of failed boots")
    args = ap.parse_args()
    for f in ("vmlinux", "initramfs.cpio.gz"):
        if not os.path.exists(os.path.join(args.kit, f)):
            print(f"SKIP: {args.kit}/{f} missing; run scripts/guest-kit")
            return 77
    c = Checker(args.verbose)
    with open(os.path.join(args.kit, "kernel-version")) as f:
        release = f.read().strip()

    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(8 << 20)
        # Modern (v2) virtio-mmio: virtio-gpu and virtio-input refuse
        # legacy devices, and QEMU's virtio-mmio defaults to legacy.
        devices = [
            "-global", "virtio-mmio.force-legacy=false",
            "-device", "virtio-rng-device",
            "-device", "virtio-keyboard-device",
            "-device", "virtio-gpu-device",
            "-drive", f"if=none,id=d0,format=raw,file={disk}",
            "-device", "virtio-blk-device,drive=d0",
            "-netdev", "user,id=n0,restrict=on",
            "-device", "virtio-net-device,netdev=n0",
        ]
        script = ("echo out-$((6*7)); uname -r; "
                  "echo rng=$(cat /sys/class/misc/hw_random/rng_current); "
                  "for d in /dev/vda /dev/dri/card0 /dev/input/event0 "
                  "/sys/class/net/eth0; do [ -e $d ] && echo have=$d; done; "
                  "echo mods=$(cut -d' ' -f1 /proc/modules | sort | "
                  "tr '\\n' ' '); exit 3")
        b64 = base64.b64encode(script.encode()).decode()
        out, tm, rc = boot(args, f"console=ttyS0 swede.cmd64={b64}", devices)
        ls = lines(out)
        print(f"boot 1 (swede.cmd64, {args.smp} cpus, virtio devices): "
              f"marker after {tm:.2f}s" if tm else "boot 1: no marker")
        c.check("ready marker on its own line", MARKER in ls, out)
        c.check(f"cpus={args.smp}", f"swede-init: cpus={args.smp}" in ls,
                out)
        c.check("command output", "out-42" in ls and release in ls, out)
        c.check("cmd exit status", "swede-init: cmd exit=3" in ls, out)
        c.check("virtio-rng bound", any(x.startswith("rng=virtio_rng")
                                        for x in ls), out)
        for d in ("/dev/vda", "/dev/dri/card0", "/dev/input/event0",
                  "/sys/class/net/eth0"):
            c.check(f"{d} present", f"have={d}" in ls, out)
        c.check("powered off, emulator exit 0", rc == 0, out)

        if args.quick:
            return 1 if c.failed else 0

        out, tm, rc = boot(args, "console=ttyS0 swede.reboot=1 "
                           "swede.cmd=echo%20url%20%25ok", ["-no-reboot"],
                           timeout=args.timeout)
        ls = lines(out)
        print(f"boot 2 (swede.cmd URL form, swede.reboot=1): marker after "
              f"{tm:.2f}s" if tm else "boot 2: no marker")
        c.check("URL-decoded command", "url %ok" in ls, out)
        c.check("cmd exit=0", "swede-init: cmd exit=0" in ls, out)
        c.check("reset makes -no-reboot exit 0", rc == 0, out)

        out, tm, rc = boot(args, 'console=ttyS0 swede.cmd="echo  quoted  '
                           'form"')
        ls = lines(out)
        c.check("quoted command", "quoted form" in ls, out)

        out, tm, rc = boot(args, "console=ttyS0",
                           stdin_text="echo inter$((1+1))active; "
                           "[ -t 0 ] && echo tty-ok; exit\n")
        ls = lines(out)
        print(f"boot 4 (interactive shell): marker after {tm:.2f}s"
              if tm else f"boot 4: no marker (exit {rc})")
        c.check("interactive shell runs input",
                any(x.endswith("inter2active") or x == "inter2active"
                    for x in ls), out)
        c.check("shell has a tty", "tty-ok" in ls, out)
        c.check("shell exit powers off", rc == 0, out)

    print(f"{'PASS' if not c.failed else 'FAIL'}: {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
