#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""virtio-gpu frame rate: swede vs QEMU, side by side in one run.

Boots the guest kit under swede and under qemu-system-riscv64 with the same
command line (-device virtio-gpu-device, -display none), alternating the
two run by run, and runs the kit's /bin/drm-pattern --frames N at the
device's default 1280x800 and at 640x480: N full-screen frames, each a
copy into the dumb buffer and a DIRTYFB, which the Linux driver completes
only after the host's RESOURCE_FLUSH. The guest times it with
CLOCK_MONOTONIC (the guest clock follows the host's). Prints the medians
and the ratio swede/QEMU. Includes the guest CPU's copy of each frame, so
it measures the whole path a guest program sees, interpreter included.
A benchmark, not a test: nothing here asserts on time.

  python3 bench/gfx.py [--swede build/swede] [--qemu qemu-system-riscv64]
                       [--runs 3] [--frames 60]
"""
import argparse
import base64
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = os.path.join(ROOT, "kit")
FPS = re.compile(r"drm-pattern: (\d+) frames (\d+)x(\d+) in ([0-9.]+) s = "
                 r"([0-9.]+) fps")
SIZES = ((1280, 800), (640, 480))


def run(emu, frames):
    cmd = "; ".join("drm-pattern --frames %d %d %d" % (frames, w, h)
                    for w, h in SIZES)
    append = ("console=ttyS0 quiet swede.cmd64=" +
              base64.b64encode(cmd.encode()).decode())
    argv = [emu, "-M", "virt", "-m", "512M", "-nographic", "-bios",
            "default", "-kernel", os.path.join(KIT, "vmlinux"), "-initrd",
            os.path.join(KIT, "initramfs.cpio.gz"), "-append", append,
            "-device", "virtio-gpu-device", "-global",
            "virtio-mmio.force-legacy=false"]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=600)
    out = r.stdout.decode(errors="replace")
    got = {}
    for m in FPS.finditer(out):
        got[(int(m.group(2)), int(m.group(3)))] = float(m.group(5))
    if len(got) != len(SIZES):
        sys.exit("bench/gfx.py: %s printed no frame rate:\n%s" %
                 (emu, out[-2000:]))
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--swede", default=os.path.join(ROOT, "build", "swede"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--frames", type=int, default=60)
    a = ap.parse_args()
    res = {"swede": [], "qemu": []}
    for i in range(a.runs):
        for name, emu in (("swede", a.swede), ("qemu", a.qemu)):
            res[name].append(run(emu, a.frames))
            print("run %d %s: %s" % (i + 1, name, ", ".join(
                "%dx%d %.1f fps" % (w, h, f)
                for (w, h), f in sorted(res[name][-1].items()))),
                file=sys.stderr, flush=True)
    print("virtio-gpu full-frame rate, %d frames, median of %d runs"
          % (a.frames, a.runs))
    print("%-10s %12s %12s %8s" % ("size", "swede fps", "QEMU fps",
                                   "ratio"))
    for size in SIZES:
        s = statistics.median(r[size] for r in res["swede"])
        q = statistics.median(r[size] for r in res["qemu"])
        print("%-10s %12.1f %12.1f %7.2fx" % ("%dx%d" % size, s, q, s / q))


if __name__ == "__main__":
    main()
