#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Oracle check for the display and input path: boot the guest kit under an
emulator with virtio-gpu, virtio-keyboard and virtio-tablet devices and a
QMP socket, run guest/drm-pattern in the guest, take a QMP screendump and
compare it pixel for pixel with the image tests/functional/gfx_pattern.py
generates; send keys with QMP send-key and input-send-event and check that
guest/evdev-read reports them.

Two phases in one boot, the keys doubling as the handshake (each
evdev-read in the guest exits after two key events, which moves the guest
script on):
  1. drm-pattern in the connector's preferred mode; screendump (PPM, and
     PNG when the emulator offers it); send-key "a" -> evdev-read must see
     KEY_A (30) press and release on the keyboard.
  2. drm-pattern --cursor X Y at 1024x768; screendump; input-send-event of
     a left-button click -> evdev-read must see BTN_LEFT (272) on the
     tablet.

Runs against Debian's qemu-system-riscv64 by default (--emulator for another
binary taking the same options, e.g. swede).  Prints what it found; exit
status 0 when every check passes, 77 when the kit is missing.
"""

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gfx_pattern  # noqa: E402

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

SIZE2 = (1024, 768)
CURSOR = (100, 50)

GUEST_SCRIPT = f"""
ls /dev/dri/card0 /dev/input/event* | tr '\\n' ' '; echo
echo mods=$(cut -d' ' -f1 /proc/modules | sort | tr '\\n' ' ')
echo gfx-phase=1
drm-pattern & p=$!
evdev-read 2; echo evdev-read-exit=$?
kill $p; wait $p
echo gfx-phase=2
drm-pattern --cursor {CURSOR[0]} {CURSOR[1]} {SIZE2[0]} {SIZE2[1]} & p=$!
evdev-read 2; echo evdev-read-exit=$?
kill $p; wait $p
echo gfx-done
"""


class Console:
    """Collects the emulator's console output as lines, in a thread."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.closed = False
        self.raw = b""
        t = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        t.start()

    def _pump(self, stream):
        buf = b""
        while True:
            chunk = os.read(stream.fileno(), 65536)
            with self.cond:
                if not chunk:
                    if buf:
                        self.lines.append(buf.decode("utf-8", "replace"))
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.raw += chunk
                buf += chunk
                *done, buf = buf.split(b"\n")
                for line in done:
                    self.lines.append(
                        line.rstrip(b"\r").decode("utf-8", "replace"))
                self.cond.notify_all()

    def wait_for(self, pred, start, timeout):
        """Index of the first line from start on with pred(line), or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(min(left, 1.0))

    def text(self):
        with self.cond:
            return self.raw.decode("utf-8", "replace")


class QMP:
    """A minimal QMP client on a unix socket (events are kept aside)."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events = []
        greeting = self._read()
        if "QMP" not in greeting:
            raise RuntimeError(f"no QMP greeting: {greeting}")
        self.version = greeting["QMP"].get("version", {}).get("qemu", {})
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        """Run a command; return ("return", value) or ("error", error)."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "event" in r:
                self.events.append(r)
                continue
            if "return" in r:
                return "return", r["return"]
            if "error" in r:
                return "error", r["error"]

    def close(self):
        self.sock.close()


class Checker:
    def __init__(self):
        self.failed = 0

    def check(self, name, ok, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {name}"
              + (f": {detail}" if detail else ""))
        if not ok:
            self.failed += 1
        return ok


def screendump(qmp, path, fmt):
    """Take a screendump; return (w, h, rgb) or raise RuntimeError."""
    args = {"filename": path}
    if fmt != "default":
        args["format"] = fmt
    kind, val = qmp.cmd("screendump", **args)
    if kind == "error":
        raise RuntimeError(f"screendump ({fmt}): {val.get('desc', val)}")
    return gfx_pattern.read_image(path)


def check_screen(c, qmp, tmp, name, w, h, tries, keep):
    """Compare screendumps with the pattern; retry while the guest's
    update may still be on its way."""
    want = gfx_pattern.pattern_rgb(w, h)
    path = os.path.join(tmp, f"{name}.ppm")
    for attempt in range(1, tries + 1):
        dw, dh, rgb = screendump(qmp, path, "ppm")
        if (dw, dh) == (w, h) and rgb == want:
            break
        time.sleep(0.5)
    with open(path, "rb") as f:
        magic = f.read(2).decode("ascii", "replace")
    print(f"     {name}: screendump format ppm -> {magic} {dw}x{dh}, "
          f"match after {attempt} attempt(s)")
    c.check(f"{name}: screendump size {dw}x{dh} == mode {w}x{h}",
            (dw, dh) == (w, h))
    if (dw, dh) == (w, h):
        bad, ex = gfx_pattern.compare(w, h, rgb, want)
        detail = "" if not bad else f"{bad} pixels differ, first: " + \
            ", ".join(f"({x},{y}) got {g} want {e}" for x, y, g, e in ex[:5])
        c.check(f"{name}: pixels equal gfx_pattern.pattern_rgb({w}, {h})",
                bad == 0, detail)
        if bad and keep:
            for suffix, data in (("got", rgb), ("want", want)):
                out = os.path.join(keep, f"{name}-{suffix}.ppm")
                gfx_pattern.write_ppm(out, w, h, data)
                print(f"     wrote {out}")
    # PNG too, where the emulator can write it (QEMU built with libpng).
    png = os.path.join(tmp, f"{name}.png")
    try:
        screendump(qmp, png, "png")
        pw, ph, prgb, alpha = gfx_pattern.read_png_alpha(png)
    except RuntimeError as e:
        print(f"     {name}: no PNG screendump ({e})")
    except gfx_pattern.ImageError as e:
        c.check(f"{name}: PNG screendump readable", False, str(e))
    else:
        kind = "RGB" if alpha is None else "RGBA"
        c.check(f"{name}: PNG screendump ({kind}) {pw}x{ph} equals the "
                f"pattern", (pw, ph) == (w, h) and prgb == want)


def key_lines(con, start, end):
    out = []
    for line in con.lines[start:end]:
        parts = line.split()
        if len(parts) == 5 and parts[0] == "evdev:" and parts[2] == "key":
            out.append((parts[1], int(parts[3]), int(parts[4])))
    return out


def wait_phase(c, con, phase, start, timeout):
    """Wait for the phase marker, drm-pattern's ok and evdev-read's ready.

    Returns (index of the marker, index after them, (w, h) or None,
    {node: device name}); the indexes are None when there is no marker."""
    i = con.wait_for(lambda s: s == f"gfx-phase={phase}", start, timeout)
    if not c.check(f"phase {phase}: guest reached it", i is not None):
        return None, None, None, {}
    size = None
    ok = con.wait_for(lambda s: s.startswith("drm-pattern: ok ") or
                      s.startswith("drm-pattern: error"), i, timeout)
    ready = con.wait_for(lambda s: s.startswith("evdev-read: ready"), i,
                         timeout)
    for line in con.lines[i:max(ok or i, ready or i) + 1]:
        if line.startswith(("drm-pattern:", "evdev-read:")):
            print(f"     guest: {line}")
    if ok is not None and con.lines[ok].startswith("drm-pattern: ok "):
        w, _, h = con.lines[ok].split()[2].partition("x")
        size = (int(w), int(h))
    c.check(f"phase {phase}: drm-pattern ok", size is not None,
            con.lines[ok] if ok is not None else "no output")
    c.check(f"phase {phase}: evdev-read ready", ready is not None)
    devs = {}
    for line in con.lines[i:(ready or i) + 1]:
        if line.startswith("evdev-read: event"):
            node, _, name = line[len("evdev-read: "):].partition(": ")
            devs[node] = name
    return i, max(ok or i, ready or i) + 1, size, devs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kit", default=os.path.join(PROJECT, "kit"))
    ap.add_argument("--emulator", default="qemu-system-riscv64")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--tries", type=int, default=6,
                    help="screendumps to take before a mismatch counts")
    ap.add_argument("--keep", metavar="DIR",
                    help="write got/want PPMs of a mismatch into DIR")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print the whole console at the end")
    args = ap.parse_args()
    for f in ("vmlinux", "initramfs.cpio.gz"):
        if not os.path.exists(os.path.join(args.kit, f)):
            print(f"SKIP: {args.kit}/{f} missing; run scripts/guest-kit")
            return 77
    c = Checker()
    b64 = base64.b64encode(GUEST_SCRIPT.encode()).decode()
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "qmp.sock")
        cmd = [args.emulator, "-M", "virt", "-m", "1G", "-nographic",
               "-bios", "default",
               "-kernel", os.path.join(args.kit, "vmlinux"),
               "-initrd", os.path.join(args.kit, "initramfs.cpio.gz"),
               # virtio-gpu and virtio-input need modern virtio-mmio.
               "-global", "virtio-mmio.force-legacy=false",
               "-device", "virtio-gpu-device",
               "-device", "virtio-keyboard-device",
               "-device", "virtio-tablet-device",
               "-qmp", f"unix:{sock},server=on,wait=off",
               "-append", f"console=ttyS0 swede.cmd64={b64}"]
        print("$ " + " ".join(cmd[:-1]) + " 'console=ttyS0 swede.cmd64=...'")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        con = Console(p.stdout)
        qmp = None
        try:
            qmp = QMP(sock, 30)
            print(f"     QMP greeting: QEMU {qmp.version.get('major')}."
                  f"{qmp.version.get('minor')}.{qmp.version.get('micro')}")
            run_phases(c, con, qmp, tmp, args)
            qmp.close()
            qmp = None
            try:
                rc = p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                rc = "timeout"
            c.check("guest powered off, emulator exit 0", rc == 0,
                    f"exit {rc}")
        except (OSError, RuntimeError) as e:
            c.check("emulator and QMP", False, str(e))
        finally:
            if qmp:
                qmp.close()
            if p.poll() is None:
                p.kill()
                p.wait()
        if c.failed or args.verbose:
            print("---- console ----")
            print(con.text()[-(100000 if args.verbose else 6000):])
            print("----")
    print(f"{'PASS' if not c.failed else 'FAIL'}: {c.failed} failed")
    return 1 if c.failed else 0


def run_phases(c, con, qmp, tmp, args):
    t0 = time.monotonic()
    i = con.wait_for(lambda s: s.startswith("mods="), 0, args.timeout)
    if i is not None:
        print(f"     guest: {con.lines[i - 1]}")
        print(f"     guest: {con.lines[i]}")
        have = con.lines[i - 1].split()
        c.check("/dev/dri/card0 present", "/dev/dri/card0" in have)
        c.check("/dev/input/event* present",
                any(x.startswith("/dev/input/event") for x in have))

    # Phase 1: preferred mode, send-key.
    _, pos, size, devs = wait_phase(c, con, 1, i or 0, args.timeout)
    if pos is None:
        return
    print(f"     guest booted to phase 1 in {time.monotonic() - t0:.1f}s; "
          f"input devices {devs}")
    if size:
        check_screen(c, qmp, tmp, "phase1", *size, args.tries, args.keep)
    kind, val = qmp.cmd("send-key", keys=[{"type": "qcode", "data": "a"}])
    c.check("send-key a accepted", kind == "return", str(val))
    end = con.wait_for(lambda s: s.startswith("evdev-read-exit="), pos,
                       args.timeout)
    keys = key_lines(con, pos, end)
    for k in keys:
        print(f"     guest: evdev: {k[0]} key {k[1]} {k[2]}")
    kbd = [n for n, name in devs.items() if "Keyboard" in name]
    c.check("evdev-read saw KEY_A (30) press then release on the keyboard",
            [(k[1], k[2]) for k in keys] == [(30, 1), (30, 0)]
            and all(k[0] in kbd for k in keys), str(keys))
    c.check("evdev-read exit 0", end is not None and
            con.lines[end] == "evdev-read-exit=0",
            con.lines[end] if end is not None else "no exit line")

    # Phase 2: a given mode and a cursor, input-send-event.
    start, pos, size, devs = wait_phase(c, con, 2, end or pos, args.timeout)
    if pos is None:
        return
    c.check(f"phase 2: drm-pattern used the asked-for {SIZE2[0]}x"
            f"{SIZE2[1]}", size == SIZE2, str(size))
    cur = con.wait_for(lambda s: s.startswith("drm-pattern: cursor "),
                       start, 0)
    c.check("phase 2: cursor set (CURSOR2) at "
            f"{CURSOR[0]},{CURSOR[1]}", cur is not None and
            con.lines[cur].endswith(f"at {CURSOR[0]},{CURSOR[1]}"))
    if size:
        # QEMU keeps the virtio-gpu cursor out of the surface a screendump
        # saves (a UI draws it), so the image is the bare pattern.
        check_screen(c, qmp, tmp, "phase2", *size, args.tries, args.keep)
    events = [{"type": "btn", "data": {"down": down, "button": "left"}}
              for down in (True, False)]
    for ev in events:
        kind, val = qmp.cmd("input-send-event", events=[ev])
        c.check(f"input-send-event btn left down={ev['data']['down']}",
                kind == "return", str(val))
    end = con.wait_for(lambda s: s.startswith("evdev-read-exit="), pos,
                       args.timeout)
    keys = key_lines(con, pos, end)
    for k in keys:
        print(f"     guest: evdev: {k[0]} key {k[1]} {k[2]}")
    tab = [n for n, name in devs.items() if "Tablet" in name]
    c.check("evdev-read saw BTN_LEFT (272) press then release on the "
            "tablet", [(k[1], k[2]) for k in keys] == [(272, 1), (272, 0)]
            and all(k[0] in tab for k in keys), str(keys))
    done = con.wait_for(lambda s: s == "gfx-done", end or pos, args.timeout)
    c.check("guest script finished", done is not None)


if __name__ == "__main__":
    sys.exit(main())
