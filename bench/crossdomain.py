#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""virtio-gpu cross-domain round trip: guest -> compositor -> guest latency.

Starts an echo compositor on the host (a Unix socket server, as the fake
in tests/functional/test_rutabaga.py: it sends virtgpu-ctx-hello to each
client and echoes whatever it receives), then boots the guest kit under
swede once per run with

  -device virtio-gpu-rutabaga-device,cross-domain=on,hostmem=64M,
          wayland-socket-path=SOCK

and runs the kit's /bin/virtgpu-ctx --bench N SIZE for each message size:
after the setup a Wayland proxy does (CONTEXT_INIT, rings, cross-domain
INIT, the compositor's hello), N round trips, each a SEND of SIZE bytes and
fenced ring-1 POLLs until the whole echo is back in the channel ring,
timed in the guest with CLOCK_MONOTONIC (which follows the host's clock).
Prints the median round trip per size (the median of the runs' medians).
It includes the guest kernel's virtio-gpu driver and the interpreter
running it, as a guest Wayland proxy would see it.

Only swede: Debian's qemu-system-riscv64 has no virtio-gpu-rutabaga device
(the script checks and says so), so there is no ratio. A benchmark, not a
test: nothing here asserts on time. Standard library only.

  python3 bench/crossdomain.py [--swede build/swede] [--runs 3] [--n 50]
                               [--sizes 64,3744]
"""
import argparse
import base64
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELLO = b"virtgpu-ctx-hello"
MAX_SIZE = 3744  # a one-page channel ring less the RECEIVE header
BENCH = re.compile(r"virtgpu-ctx: bench n=(\d+) size=(\d+) "
                   r"median_us=([0-9.]+) p90_us=([0-9.]+) "
                   r"min_us=([0-9.]+) max_us=([0-9.]+)")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class EchoCompositor:
    """A Unix socket server: sends HELLO to each client, echoes what it
    receives; counts connections and bytes echoed."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.conns = 0
        self.echoed = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return  # closed
            with self.lock:
                self.conns += 1
            threading.Thread(target=self._echo, args=(c,),
                             daemon=True).start()

    def _echo(self, c):
        with c:
            try:
                c.sendall(HELLO)
                while True:
                    data = c.recv(65536)
                    if not data:
                        return
                    c.sendall(data)
                    with self.lock:
                        self.echoed += len(data)
            except OSError:
                return

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def qemu_has_rutabaga(qemu):
    """None if it has the device, else one line saying why not."""
    try:
        ver = subprocess.run([qemu, "--version"], capture_output=True,
                             text=True, timeout=30).stdout.split("\n")[0]
        r = subprocess.run([qemu, "-device", "help"], capture_output=True,
                           text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "QEMU: cannot run %s (%s); swede's figures alone" % (qemu, e)
    if "virtio-gpu-rutabaga" in r.stdout + r.stderr:
        return None
    return ("QEMU: %s (%s) has no virtio-gpu-rutabaga device; swede's "
            "figures alone" % (qemu, ver.strip() or "unknown version"))


def qemu_note(qemu):
    """One line on QEMU for the report: these benches run swede only."""
    note = qemu_has_rutabaga(qemu)
    if note is None:
        note = ("QEMU: %s has virtio-gpu-rutabaga, but this script runs "
                "swede only" % qemu)
    return note


def add_boot_args(ap, timeout):
    """The options of a bench that boots the kit under swede."""
    ap.add_argument("--swede", default=os.path.join(ROOT, "build", "swede"))
    ap.add_argument("--qemu", default="qemu-system-riscv64",
                    help="only checked for virtio-gpu-rutabaga")
    ap.add_argument("--kit", default=os.path.join(ROOT, "kit"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=timeout,
                    help="seconds allowed per boot")


def check_kit(a, prog):
    """Exit with one line if the kit is not built."""
    for f in ("vmlinux", "initramfs.cpio.gz"):
        if not os.path.exists(os.path.join(a.kit, f)):
            sys.exit("%s: no %s in %s (scripts/guest-kit)" % (prog, f, a.kit))


def swede_argv(a, command, socket_path, hostmem):
    """swede booting the kit (a.swede, a.kit, a.smp) to run command, with
    a cross-domain device connected to socket_path."""
    append = ("console=ttyS0 quiet swede.cmd64=" +
              base64.b64encode(command.encode()).decode())
    dev = ("virtio-gpu-rutabaga-device,cross-domain=on,hostmem=%s,"
           "wayland-socket-path=%s" % (hostmem, socket_path))
    return [a.swede, "-M", "virt", "-m", "512M", "-smp", str(a.smp),
            "-nographic", "-bios", "default",
            "-kernel", os.path.join(a.kit, "vmlinux"),
            "-initrd", os.path.join(a.kit, "initramfs.cpio.gz"),
            "-append", append, "-device", dev]


def run_swede(a, command, socket_path, hostmem, prog):
    """Boot it (swede_argv) to the end: the CompletedProcess, or exit with
    the console's end after a.timeout seconds."""
    try:
        return subprocess.run(swede_argv(a, command, socket_path, hostmem),
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=a.timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        sys.exit("%s: swede did not finish in %d s:\n%s"
                 % (prog, a.timeout, out[-2000:]))


def run(a, sizes):
    """One boot: {size: (median, p90, min, max)} in microseconds."""
    tmp = tempfile.mkdtemp(prefix="swede-bench-cd-")
    comp = EchoCompositor(os.path.join(tmp, "wayland-0"))
    try:
        cmd = " && ".join("virtgpu-ctx --bench %d %d" % (a.n, s)
                          for s in sizes)
        r = run_swede(a, cmd, comp.path, "64M", "bench/crossdomain.py")
        with comp.lock:
            conns, echoed = comp.conns, comp.echoed
    finally:
        comp.close()
        shutil.rmtree(tmp, ignore_errors=True)
    out = r.stdout.decode(errors="replace")
    got = {}
    for m in BENCH.finditer(out):
        got[int(m.group(2))] = tuple(float(m.group(i)) for i in range(3, 7))
    if sorted(got) != sorted(sizes) or r.returncode != 0:
        sys.exit("bench/crossdomain.py: swede exited %d, bench lines for "
                 "%s of %s:\n%s\n%s" % (r.returncode, sorted(got), sizes,
                                        out[-2000:],
                                        r.stderr.decode(errors="replace")
                                        [-1000:]))
    # Each virtgpu-ctx is one connection; N timed round trips plus one
    # warm-up each echo size bytes.
    want = sum((a.n + 1) * s for s in sizes)
    if conns != len(sizes) or echoed != want:
        log("warning: the compositor saw %d connections and echoed %d "
            "bytes, expected %d and %d" % (conns, echoed, len(sizes), want))
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_boot_args(ap, 600)
    ap.add_argument("--n", type=int, default=50,
                    help="round trips per size per run")
    ap.add_argument("--sizes", default="64,%d" % MAX_SIZE,
                    help="message sizes in bytes, comma-separated (1 to %d)"
                    % MAX_SIZE)
    a = ap.parse_args()
    try:
        sizes = [int(s) for s in a.sizes.split(",")]
    except ValueError:
        ap.error("--sizes: comma-separated integers")
    if any(not 1 <= s <= MAX_SIZE for s in sizes) or len(set(sizes)) != len(
            sizes):
        ap.error("--sizes: distinct sizes from 1 to %d (a SEND carries at "
                 "most %d bytes)" % (MAX_SIZE, MAX_SIZE))
    if a.runs < 1 or a.n < 1:
        ap.error("--runs and --n must be at least 1")
    check_kit(a, "bench/crossdomain.py")
    note = qemu_note(a.qemu)
    res = []
    for i in range(a.runs):
        res.append(run(a, sizes))
        log("run %d: %s" % (i + 1, ", ".join(
            "%d B median %.1f us" % (s, res[-1][s][0]) for s in sizes)))
    print("virtio-gpu cross-domain round trip (guest SEND -> compositor "
          "echo -> guest RECEIVE), swede -smp %d" % a.smp)
    print("%d round trips per size per run, %d runs; median and p90 are "
          "medians of the runs', min and max over all runs" % (a.n, a.runs))
    print("host: %d CPUs, load average at end %.2f"
          % (os.cpu_count(), os.getloadavg()[0]))
    print(note)
    print("%-8s %11s %11s %11s %11s" % ("size", "median us", "p90 us",
                                        "min us", "max us"))
    for s in sizes:
        print("%-8s %11.1f %11.1f %11.1f %11.1f" % (
            "%d B" % s,
            statistics.median(r[s][0] for r in res),
            statistics.median(r[s][1] for r in res),
            min(r[s][2] for r in res), max(r[s][3] for r in res)))


if __name__ == "__main__":
    main()
