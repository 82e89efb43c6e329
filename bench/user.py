#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""swede-riscv64 vs qemu-riscv64 vs native, side by side in one run.

Builds tests/user/cpubench.c twice (static riscv64 with Debian's cross gcc,
x86_64 with the host gcc, both -O2), then runs it alternately under
swede-riscv64, under qemu-riscv64 and natively, N rounds, checks that the
three print the same checksum, and prints median wall times and the
ratios. The issue's target: swede-riscv64 at least 0.2x qemu-riscv64's
speed (qemu time / swede time >= 0.2). A benchmark, not a test.

Usage: bench/user.py [--swede PATH] [--rounds N] [--scale N]
Standard library only.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SRC = os.path.join(ROOT, "tests", "user", "cpubench.c")


def timed(argv):
    t = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.monotonic() - t, r.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--swede", default=os.path.join(
        ROOT, "build", "src", "user", "swede-riscv64"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", type=int, default=10)
    a = ap.parse_args()
    qemu = shutil.which("qemu-riscv64")
    if not qemu:
        sys.exit("bench/user.py: qemu-riscv64 not installed")
    d = tempfile.mkdtemp(prefix="swede-bench-")
    rv, x86 = os.path.join(d, "cpubench"), os.path.join(d, "cpubench-x86")
    subprocess.run([os.environ.get("CROSS_CC", "riscv64-linux-gnu-gcc"),
                    "-O2", "-static", "-o", rv, SRC], check=True)
    subprocess.run(["gcc", "-O2", "-o", x86, SRC], check=True)
    runs = {"swede-riscv64": [a.swede, rv], "qemu-riscv64": [qemu, rv],
            "native": [x86]}
    times = {k: [] for k in runs}
    sums = set()
    for _ in range(a.rounds):
        for k, argv in runs.items():
            t, out = timed(argv + [str(a.scale)])
            times[k].append(t)
            sums.add(out)
    if len(sums) != 1:
        sys.exit("bench/user.py: checksums differ: %s" % sums)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k in runs:
        print("%-14s %8.3f s (median of %d)" % (k, med[k], a.rounds))
    speed = med["qemu-riscv64"] / med["swede-riscv64"]
    print("swede-riscv64 speed vs qemu-riscv64: %.2fx  (target >= 0.20x: %s)"
          % (speed, "PASS" if speed >= 0.2 else "MISS"))
    print("swede-riscv64 slowdown vs native:  %.1fx" %
          (med["swede-riscv64"] / med["native"]))
    print("qemu-riscv64 slowdown vs native:   %.1fx" %
          (med["qemu-riscv64"] / med["native"]))
    shutil.rmtree(d)


if __name__ == "__main__":
    main()
