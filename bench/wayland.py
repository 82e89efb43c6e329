#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Frames per second of a 1080p wl_shm client, guest (through
swede-wl-proxy) and host, on the same weston.

Starts Debian's weston headless at WIDTHxHEIGHT (default 1920x1080;
tests/functional/weston_host.py, with the test seat module from the build
directory, which kiosk-shell needs to show a window), then, once per run:

  host:  the project's own Wayland client guest/wl-pattern.c, built for
         the host with cc, runs `wl-pattern --frames N W H` on that weston
         directly;
  guest: swede boots the guest kit with
           -device virtio-gpu-rutabaga-device,cross-domain=on,
                   hostmem=128M,wayland-socket-path=<weston's socket>
         and runs the kit's swede-wl-proxy and, through it, the kit's
         riscv64 wl-pattern with the same arguments.

wl-pattern redraws a moving bar into one of two full-screen XRGB8888
wl_shm buffers per frame, commits with full damage and waits for the frame
callback; it reports frames per second (CLOCK_MONOTONIC in the guest, which
follows the host's clock). Through the proxy each commit also copies the
whole buffer (8 MB at 1080p) from the client's pool into the host blob, in
the emulated CPU. The host figure is the ceiling: weston's headless output
repaints about every 25 ms, so about 40 fps. Prints the median per side
and the ratio guest/host.

Only swede: Debian's qemu-system-riscv64 has no virtio-gpu-rutabaga device
(checked and said). A benchmark, not a test: nothing asserts on time.

  python3 bench/wayland.py [--swede build/swede] [--runs 3] [--frames 120]
                           [--size 1920x1080]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "functional"))
sys.path.insert(0, os.path.join(ROOT, "bench"))

import crossdomain  # noqa: E402 (after the path)
import weston_host  # noqa: E402

FPS = re.compile(r"wl-pattern: frames (\d+) seconds ([0-9.]+) fps ([0-9.]+)")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fps_of(out, who):
    m = FPS.search(out)
    if not m:
        sys.exit("bench/wayland.py: no frames line from %s:\n%s"
                 % (who, out[-2000:]))
    return float(m.group(3))


def host_run(a, exe, weston, w, h):
    r = subprocess.run([exe, "--frames", str(a.frames), str(w), str(h)],
                       env=weston.env(), capture_output=True, text=True,
                       timeout=a.timeout)
    return fps_of(r.stdout + r.stderr, "the host's wl-pattern")


def guest_run(a, weston, w, h):
    cmd = ("swede-wl-proxy & i=0; "
           "while [ ! -S $XDG_RUNTIME_DIR/wayland-0 ] && [ $i -lt 300 ]; "
           "do sleep 0.1; i=$((i+1)); done; "
           "wl-pattern --frames %d %d %d" % (a.frames, w, h))
    r = crossdomain.run_swede(a, cmd, weston.socket_path, "128M",
                              "bench/wayland.py")
    return fps_of(r.stdout.decode(errors="replace"), "the guest")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    crossdomain.add_boot_args(ap, 900)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    a = ap.parse_args()
    try:
        w, h = (int(x) for x in a.size.split("x"))
    except ValueError:
        ap.error("--size: WIDTHxHEIGHT, e.g. 1920x1080")
    if a.runs < 1 or a.frames < 1 or w < 1 or h < 1:
        ap.error("--runs, --frames and the size must be at least 1")
    crossdomain.check_kit(a, "bench/wayland.py")
    # weston_host finds the seat module next to the swede binary.
    os.environ["SWEDE"] = os.path.abspath(a.swede)
    if not weston_host.have_weston() or not weston_host.have_seat_module():
        sys.exit("bench/wayland.py: needs weston (scripts/install-deps) and "
                 "the seat module built next to %s (tests/weston)" % a.swede)
    qemu_note = crossdomain.qemu_note(a.qemu)
    tmp = tempfile.mkdtemp(prefix="swede-bench-wl-")
    exe = os.path.join(tmp, "wl-pattern")
    try:
        subprocess.run([a.cc, "-O2", "-std=gnu11", "-o", exe,
                        os.path.join(ROOT, "guest", "wl-pattern.c")],
                       check=True)
        guest, host = [], []
        with weston_host.Weston(w, h, seat=True, pointer=False) as weston:
            for i in range(a.runs):
                host.append(host_run(a, exe, weston, w, h))
                guest.append(guest_run(a, weston, w, h))
                log("run %d: guest %.1f fps, host %.1f fps"
                    % (i + 1, guest[-1], host[-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    g, hh = statistics.median(guest), statistics.median(host)
    print("wl_shm client at %dx%d on weston headless (pixman), %d frames "
          "per run, %d runs, swede -smp %d" % (w, h, a.frames, a.runs, a.smp))
    print("host: %d CPUs, load average at end %.2f"
          % (os.cpu_count(), os.getloadavg()[0]))
    print(qemu_note)
    print("guest through swede-wl-proxy: %.1f fps (runs: %s)"
          % (g, ", ".join("%.1f" % x for x in guest)))
    print("host client, same weston:     %.1f fps (runs: %s)"
          % (hh, ", ".join("%.1f" % x for x in host)))
    print("ratio guest/host: %.2f" % (g / hh if hh else 0.0))


if __name__ == "__main__":
    main()
