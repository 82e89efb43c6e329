#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Oracle check for the noVNC harness (tests/functional/novnc/): boot the
guest kit under an emulator with virtio-gpu and virtio-keyboard and a VNC
server with a WebSocket listener, run guest/drm-pattern, look at the screen
through noVNC in headless Chromium (novnc/novnc-shot.mjs) and compare the
canvas pixel for pixel with tests/functional/gfx_pattern.py's pattern_rgb;
type "a" through noVNC and check that guest/evdev-read reports KEY_A.

One boot, two phases (each evdev-read in the guest exits after two key
events, which moves the guest script on):
  1. drm-pattern in the connector's preferred mode; novnc-shot --view-only
     --expect-size WxH --wait-nonblack --out shot.png must equal the
     pattern; novnc-shot --type a (keysym and KeyboardEvent.code, so noVNC
     uses QEMU's extended key event) -> KEY_A (30) press and release.
  2. novnc-shot --type a --keysym-only (a plain RFB KeyEvent, keysym 0x61)
     -> KEY_A press and release.
Plus two failure checks of the harness itself: an --expect-size the server
never has (phase 1), and a closed port, must both exit 1 with an error.

The emulator gets `-vnc 127.0.0.1:N,websocket=PORT` (QEMU 7.2: the
WebSocket listens on the VNC address at PORT; `websocket=on` would mean
5700+N).  noVNC connects to ws://127.0.0.1:PORT with no path and no
subprotocol, which QEMU accepts.

Runs against Debian's qemu-system-riscv64 by default (--emulator for another
binary taking the same options, e.g. swede).  Needs node, Debian's chromium
and `npm ci` in tests/functional/novnc (scripts/install-node-deps).  Prints
what it found; exit status 0 when every check passes, 77 when the kit, node,
chromium or the node modules are missing.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gfx_pattern  # noqa: E402

PROJECT = os.path.dirname(os.path.dirname(HERE))
NOVNC_DIR = os.path.join(HERE, "novnc")
SHOT = os.path.join(NOVNC_DIR, "novnc-shot.mjs")
KEY_A = 30

GUEST_SCRIPT = """
echo novnc-phase=1
drm-pattern & p=$!
evdev-read 2; echo evdev-read-exit=$?
echo novnc-phase=2
evdev-read 2; echo evdev-read-exit=$?
kill $p; wait $p
echo novnc-done
"""


class Console:
    """Collects the emulator's console output as lines, in a thread."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.closed = False
        self.raw = b""
        threading.Thread(target=self._pump, args=(stream,),
                         daemon=True).start()

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
                self.lines.extend(
                    x.rstrip(b"\r").decode("utf-8", "replace") for x in done)
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
    """A minimal QMP client on a unix socket (events are dropped)."""

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


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def pick_ports():
    """A free VNC display N (port 5900+N) and a free WebSocket port."""
    for n in range(40, 100):
        if port_free(5900 + n):
            break
    else:
        raise RuntimeError("no free VNC display in :40-:99")
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        ws = s.getsockname()[1]
        s.close()
        if ws != 5900 + n:
            return n, ws


def novnc_shot(args, port, *opts):
    """Run novnc-shot.mjs; return (exit status, JSON or None, stderr, s)."""
    cmd = [args.node, SHOT, "--port", str(port),
           "--timeout", str(args.shot_timeout), *opts]
    print("$ " + " ".join(cmd))
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True,
                           timeout=args.shot_timeout + 60)
    except subprocess.TimeoutExpired:
        return "timeout", None, "", time.monotonic() - t0
    took = time.monotonic() - t0
    out = None
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            try:
                out = json.loads(line)
            except ValueError:
                pass
    err = r.stderr.strip()
    print(f"     exit {r.returncode} in {took:.1f}s"
          + (f"; {r.stdout.strip()}" if r.stdout.strip() else "")
          + (f"; stderr: {err}" if err else ""))
    return r.returncode, out, err, took


def key_lines(con, start, end):
    out = []
    for line in con.lines[start:end]:
        parts = line.split()
        if len(parts) == 5 and parts[0] == "evdev:" and parts[2] == "key":
            out.append((parts[1], int(parts[3]), int(parts[4])))
    return out


def wait_keys(c, con, start, devs, what, timeout):
    end = con.wait_for(lambda s: s.startswith("evdev-read-exit="), start,
                       timeout)
    keys = key_lines(con, start, end)
    for k in keys:
        print(f"     guest: evdev: {k[0]} key {k[1]} {k[2]}")
    kbd = [n for n, name in devs.items() if "Keyboard" in name]
    c.check(f"{what}: evdev-read saw KEY_A ({KEY_A}) press then release "
            "on the keyboard",
            [(k[1], k[2]) for k in keys] == [(KEY_A, 1), (KEY_A, 0)]
            and all(k[0] in kbd for k in keys), str(keys))
    c.check(f"{what}: evdev-read exit 0", end is not None and
            con.lines[end] == "evdev-read-exit=0",
            con.lines[end] if end is not None else "no exit line")
    return end


def wait_ready(c, con, phase, start, timeout):
    """Wait for the phase marker and evdev-read's ready line.

    Returns (index after them or None, {node: device name})."""
    i = con.wait_for(lambda s: s == f"novnc-phase={phase}", start, timeout)
    if not c.check(f"phase {phase}: guest reached it", i is not None):
        return None, {}
    ready = con.wait_for(lambda s: s.startswith("evdev-read: ready"), i,
                         timeout)
    c.check(f"phase {phase}: evdev-read ready", ready is not None)
    devs = {}
    for line in con.lines[i:(ready or i) + 1]:
        if line.startswith("evdev-read: event"):
            node, _, name = line[len("evdev-read: "):].partition(": ")
            devs[node] = name
    return (None if ready is None else ready + 1), devs


def run_phases(c, con, qmp, ws, tmp, args):
    t0 = time.monotonic()
    timing = {}

    # What the emulator says about its VNC server.
    kind, val = qmp.cmd("query-vnc-servers")
    if kind == "return":
        for srv in val:
            for s in srv.get("server", []):
                print(f"     query-vnc-servers: {s.get('host')}:"
                      f"{s.get('service')} websocket={s.get('websocket')} "
                      f"auth={s.get('auth')}")
        c.check(f"the VNC server has a WebSocket listener on {ws}",
                any(s.get("websocket") and str(s.get("service")) == str(ws)
                    for srv in val for s in srv.get("server", [])), str(val))
    else:
        print(f"     query-vnc-servers: {val}")

    # Phase 1: the picture, then keys with codes.
    pos, devs = wait_ready(c, con, 1, 0, args.timeout)
    if pos is None:
        return timing
    ok = con.wait_for(lambda s: s.startswith(("drm-pattern: ok ",
                                              "drm-pattern: error")),
                      0, args.timeout)
    line = con.lines[ok] if ok is not None else "no output"
    print(f"     guest: {line}")
    timing["boot"] = time.monotonic() - t0
    print(f"     guest booted to phase 1 in {timing['boot']:.1f}s; input "
          f"devices {devs}")
    if not c.check("phase 1: drm-pattern ok",
                   line.startswith("drm-pattern: ok ")):
        return timing
    w, _, h = line.split()[2].partition("x")
    w, h = int(w), int(h)
    want = gfx_pattern.pattern_rgb(w, h)
    png = os.path.join(tmp, "novnc.png")
    for attempt in range(1, args.tries + 1):
        if os.path.exists(png):
            os.unlink(png)
        rc, out, err, took = novnc_shot(
            args, ws, "--view-only", "--expect-size", f"{w}x{h}",
            "--wait-nonblack", "--out", png)
        timing.setdefault("shot", took)
        if rc != 0 or not os.path.exists(png):
            got = None
            bad, ex = -1, []
        else:
            pw, ph, got = gfx_pattern.read_png(png)
            bad, ex = gfx_pattern.compare(w, h, got, want) \
                if (pw, ph) == (w, h) else (-1, [])
        if bad == 0:
            break
        time.sleep(0.5)
    print(f"     result after {attempt} attempt(s)")
    c.check("novnc-shot --view-only exit 0 with JSON {width, height, "
            "connected: true}",
            rc == 0 and out is not None and out.get("connected") is True
            and (out.get("width"), out.get("height")) == (w, h),
            err or str(out))
    if got is not None:
        pw, ph, _ = gfx_pattern.read_png(png)
        c.check(f"noVNC canvas PNG {pw}x{ph} == mode {w}x{h}",
                (pw, ph) == (w, h))
        detail = "" if bad <= 0 else f"{bad} pixels differ, first: " + \
            ", ".join(f"({x},{y}) got {g} want {e}" for x, y, g, e in ex[:5])
        c.check(f"noVNC canvas pixels equal gfx_pattern.pattern_rgb({w}, "
                f"{h})", bad == 0, detail)
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            shutil.copy(png, os.path.join(args.keep, "novnc.png"))
            if bad:
                gfx_pattern.write_ppm(os.path.join(args.keep, "want.ppm"),
                                      w, h, want)
            print(f"     kept {args.keep}/novnc.png")

    # The harness fails when it should: a size the server never has
    # (view-only, while the guest still shows the pattern).
    rc, out, err, _ = novnc_shot(args, ws, "--view-only", "--timeout", "4",
                                 "--expect-size", f"{w + 1}x{h}")
    c.check("novnc-shot --expect-size of another size fails with an error",
            rc == 1 and out is None and "timed out" in err, f"exit {rc}")

    rc, out, err, took = novnc_shot(args, ws, "--type", "a")
    timing["type"] = took
    c.check("novnc-shot --type a exit 0", rc == 0 and out is not None
            and out.get("keys_sent") == 2, err or str(out))
    end = wait_keys(c, con, pos, devs, "phase 1 (keysym + code)",
                    args.timeout)

    # Phase 2: keysym only.
    pos, devs = wait_ready(c, con, 2, end or pos, args.timeout)
    if pos is None:
        return timing
    rc, out, err, _ = novnc_shot(args, ws, "--type", "a", "--keysym-only")
    c.check("novnc-shot --type a --keysym-only exit 0", rc == 0 and
            out is not None and out.get("keys_sent") == 2, err or str(out))
    end = wait_keys(c, con, pos, devs, "phase 2 (keysym only)", args.timeout)

    closed = pick_ports()[1]
    rc, out, err, _ = novnc_shot(args, closed, "--timeout", "10")
    c.check("novnc-shot on a closed port fails with an error",
            rc == 1 and out is None and "error" in err, f"exit {rc}")

    done = con.wait_for(lambda s: s == "novnc-done", end or pos,
                        args.timeout)
    c.check("guest script finished", done is not None)
    return timing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kit", default=os.path.join(PROJECT, "kit"))
    ap.add_argument("--emulator", default="qemu-system-riscv64")
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--timeout", type=float, default=180,
                    help="seconds to wait for each guest step")
    ap.add_argument("--shot-timeout", type=float, default=30,
                    help="novnc-shot.mjs --timeout")
    ap.add_argument("--tries", type=int, default=3,
                    help="screenshots to take before a mismatch counts")
    ap.add_argument("--keep", metavar="DIR",
                    help="copy the noVNC PNG (and want.ppm on a mismatch) "
                    "into DIR")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print the whole console at the end")
    args = ap.parse_args()
    for f in ("vmlinux", "initramfs.cpio.gz"):
        if not os.path.exists(os.path.join(args.kit, f)):
            print(f"SKIP: {args.kit}/{f} missing; run scripts/guest-kit")
            return 77
    if not shutil.which(args.node):
        print("SKIP: node missing")
        return 77
    chromium = os.environ.get("NOVNC_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        print(f"SKIP: {chromium} missing; run scripts/install-deps")
        return 77
    for mod in ("@novnc/novnc", "playwright-core"):
        if not os.path.isdir(os.path.join(NOVNC_DIR, "node_modules", mod)):
            print(f"SKIP: {mod} not installed in {NOVNC_DIR}; run "
                  "scripts/install-node-deps")
            return 77
    c = Checker()
    t0 = time.monotonic()
    b64 = base64.b64encode(GUEST_SCRIPT.encode()).decode()
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "qmp.sock")
        display, ws = pick_ports()
        cmd = [args.emulator, "-M", "virt", "-m", "1G", "-nographic",
               "-bios", "default",
               "-kernel", os.path.join(args.kit, "vmlinux"),
               "-initrd", os.path.join(args.kit, "initramfs.cpio.gz"),
               # virtio-gpu and virtio-input need modern virtio-mmio.
               "-global", "virtio-mmio.force-legacy=false",
               "-device", "virtio-gpu-device",
               "-device", "virtio-keyboard-device",
               "-vnc", f"127.0.0.1:{display},websocket={ws}",
               "-qmp", f"unix:{sock},server=on,wait=off",
               "-append", f"console=ttyS0 swede.cmd64={b64}"]
        print("$ " + " ".join(cmd[:-1]) + " 'console=ttyS0 swede.cmd64=...'")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        con = Console(p.stdout)
        qmp = None
        timing = {}
        try:
            qmp = QMP(sock, 30)
            print(f"     QMP greeting: QEMU {qmp.version.get('major')}."
                  f"{qmp.version.get('minor')}.{qmp.version.get('micro')}")
            timing = run_phases(c, con, qmp, ws, tmp, args)
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
    print("     timing: " + ", ".join(f"{k} {v:.1f}s" for k, v in
                                      timing.items())
          + f", total {time.monotonic() - t0:.1f}s")
    print(f"{'PASS' if not c.failed else 'FAIL'}: {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
