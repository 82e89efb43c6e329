#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Guest-to-host TCP throughput, swede vs qemu-system-riscv64, one run.

Both emulators boot the same guest kit with the same command line and the
same backend (-netdev user, libslirp, with a virtio-net-device); the
guest takes its address by DHCP and sends SIZE MiB of zeros with busybox
nc to a TCP sink on the host through the gateway 10.0.2.2. The sink times
first byte to end of stream. The two emulators run alternately (never at
once), --rounds times each; medians and the swede/QEMU ratio are printed.
This is a benchmark, not a test. Standard library only.

  bench/net.py [--swede build/swede] [--qemu qemu-system-riscv64]
               [--size 64] [--rounds 1]
"""
import argparse
import base64
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GUEST = (
    r"""printf '#!/bin/sh\n[ "$1" = bound ] && ifconfig $interface $ip """
    r"""netmask $subnet && route add default gw $router\nexit 0\n' > /tmp/dh;"""
    r""" chmod +x /tmp/dh; ip link set eth0 up; """
    r"""udhcpc -i eth0 -q -n -t 5 -s /tmp/dh >/dev/null; """
    r"""dd if=/dev/zero bs=65536 count=%d 2>/dev/null | nc 10.0.2.2 %d; """
    r"""echo "bench-net rc=$?" """)


class Sink:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.n, self.secs = 0, None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        c, _ = self.sock.accept()
        t0 = None
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            if t0 is None:
                t0 = time.monotonic()
            self.n += len(d)
        self.secs = time.monotonic() - t0 if t0 else None
        c.close()
        self.sock.close()


def run_one(exe, kit, size_mib, timeout):
    sink = Sink()
    cmd = GUEST % (size_mib * 16, sink.port)
    append = "console=ttyS0 quiet swede.cmd64=" + \
        base64.b64encode(cmd.encode()).decode()
    argv = [exe, "-M", "virt", "-m", "512M", "-smp", "1", "-nographic",
            "-bios", "default", "-kernel", os.path.join(kit, "vmlinux"),
            "-initrd", os.path.join(kit, "initramfs.cpio.gz"),
            "-append", append, "-netdev", "user,id=n0",
            "-device", "virtio-net-device,netdev=n0"]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    sink.t.join(5)
    ok = b"bench-net rc=0" in p.stdout and sink.n == size_mib << 20
    if not ok or not sink.secs:
        sys.stderr.write("%s: transfer failed (%d bytes)\n%s\n" % (
            exe, sink.n, p.stdout[-2000:].decode(errors="replace")))
        return None
    return sink.n / sink.secs / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--swede", default=os.path.join(ROOT, "build", "swede"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--kit", default=os.path.join(ROOT, "kit"))
    ap.add_argument("--size", type=int, default=64, help="MiB (default 64)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    res = {"swede": [], "qemu": []}
    for r in range(a.rounds):
        for kind, exe in (("swede", a.swede), ("qemu", a.qemu)):
            v = run_one(exe, a.kit, a.size, a.timeout)
            print("round %d %-5s %s" % (r + 1, kind,
                  "%.1f MB/s" % v if v else "failed"), flush=True)
            if v:
                res[kind].append(v)
    if not res["swede"] or not res["qemu"]:
        print("guest-to-host TCP: no ratio (a run failed)")
        return 1
    s, q = statistics.median(res["swede"]), statistics.median(res["qemu"])
    print("guest-to-host TCP over -netdev user, %d MiB: swede %.1f MB/s, "
          "QEMU %.1f MB/s, ratio swede/QEMU %.2fx" % (a.size, s, q, s / q))
    return 0


if __name__ == "__main__":
    sys.exit(main())
