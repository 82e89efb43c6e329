# SPDX-License-Identifier: MIT
"""The host's weston for functional tests of guest Wayland clients.

Weston(...) runs Debian 12's weston 10 headless (pixman renderer,
kiosk-shell, --debug for the weston_screenshooter global, no config, no
idle) with a private XDG_RUNTIME_DIR, and loads tests/weston's
weston-test-seat.so from the build directory (dirname of $SWEDE, or
$SWEDE_WESTON_SEAT_MODULE).  That module matters: the headless backend has
no wl_seat, and without a seat clients get no keyboard, no keymap, no
selection, and kiosk-shell shows no window at all (it puts a toplevel in
its layer only when it activates it for a seat).

kiosk-shell makes every toplevel fullscreen: it configures it to the
output's size and centres its buffer on a black background, so a buffer of
exactly the output's size is shown at 0,0 with nothing else visible, and
screenshot() of it is the client's image pixel for pixel.  A newly mapped
toplevel gets keyboard focus; when it goes away the previous one gets it
back.  The seat's pointer (pointer=True) rests at 100,100, so a client
that binds wl_pointer gets an enter there, and the cursor image it may set
shows in screenshots: exact checks of such clients want pointer=False.

screenshot() speaks the weston_screenshooter protocol itself (WaylandClient
below, a minimal wire-protocol client) and reads the raw pixels from a
shm buffer.  weston-screenshooter can't be used for exact checks: weston
copies an opaque XRGB8888 surface into its framebuffer with the padding
byte as is, which the screenshot then carries as alpha, and the client's
cairo PNG writer turns every pixel with alpha 0 (a client that leaves the
padding byte 0, as many do) into transparent black.

Clipboard: copy() and paste() go through the module's control socket,
with the compositor itself as the data source (copy) or reading the
selection's owner through a pipe (paste).  Both are synchronous (copy()
returns once the selection is set and offered to the focused client) and
map no surface, so focus never moves.  wl-copy/wl-paste 2.1.0 do work with
the seat, but each maps a 1x1 toplevel to get keyboard focus, which
kiosk-shell shows fullscreen (black) over the guest's window and takes
focus from it until the helper's surface goes away, and wl-copy returns
before its forked child has set the selection: neither is deterministic.
The module also lets any later set_selection replace a selection whatever
its serial (see weston-test-seat.c), so a client without input events can
copy again after the host did.  libweston's own clipboard reads every new
selection (its first type) as soon as it is set, so a client's
wl_data_source gets a send at once, and it keeps the text offered after
the owner has gone: there is no clearing the selection.

Standard library only.
"""

import array
import mmap
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

SEAT_MODULE = "weston-test-seat.so"
XRGB8888 = 1  # wl_shm.format


class WestonError(Exception):
    """weston failed, or a request to it did."""


def have_weston():
    """True when weston is installed."""
    return shutil.which("weston") is not None


def seat_module_path():
    """The built weston-test-seat.so, or None when it wasn't built."""
    path = os.environ.get("SWEDE_WESTON_SEAT_MODULE")
    if not path and os.environ.get("SWEDE"):
        build = os.path.dirname(os.path.abspath(os.environ["SWEDE"]))
        path = os.path.join(build, "tests", "weston", SEAT_MODULE)
    return path if path and os.path.isfile(path) else None


def have_seat_module():
    return seat_module_path() is not None


def skip_unless_weston(seat=True):
    """Raise unittest.SkipTest when Weston(seat=seat) can't run here."""
    if not have_weston():
        raise unittest.SkipTest("weston is not installed "
                                "(scripts/install-deps installs it)")
    if seat and not have_seat_module():
        raise unittest.SkipTest(
            f"{SEAT_MODULE} not built (needs libweston-10-dev at meson "
            "setup; set SWEDE to the build's swede)")


class Weston:
    """A headless weston; a context manager (start() ... stop())."""

    def __init__(self, width=640, height=480, seat=True, pointer=True,
                 timeout=10.0):
        skip_unless_weston(seat)
        self.width, self.height = width, height
        self.seat, self.pointer, self.timeout = seat, pointer, timeout
        self.proc = None
        self.runtime_dir = tempfile.mkdtemp(prefix="swede-weston-")
        os.chmod(self.runtime_dir, 0o700)
        self.display = "wayland-swede"
        self.socket_path = os.path.join(self.runtime_dir, self.display)
        self.control_path = os.path.join(self.runtime_dir, "test-seat.ctl")
        self.log_path = os.path.join(self.runtime_dir, "weston.log")

    def env(self, extra=None):
        """The environment for a host Wayland client of this weston."""
        env = dict(os.environ)
        env.pop("WAYLAND_SOCKET", None)
        env["XDG_RUNTIME_DIR"] = self.runtime_dir
        env["WAYLAND_DISPLAY"] = self.display
        env.update(extra or {})
        return env

    def start(self):
        args = ["weston", "--backend=headless-backend.so", "--use-pixman",
                "--shell=kiosk-shell.so", "--debug", "--no-config",
                "--idle-time=0", f"--width={self.width}",
                f"--height={self.height}", f"--socket={self.display}",
                f"--log={self.log_path}"]
        env = self.env()
        env.pop("WAYLAND_DISPLAY")
        env.pop("DISPLAY", None)
        if self.seat:
            args.append("--modules=" + seat_module_path())
            env["SWEDE_TEST_SEAT_CONTROL"] = self.control_path
            env["SWEDE_TEST_SEAT_POINTER"] = "1" if self.pointer else "0"
        self.proc = subprocess.Popen(
            args, env=env, cwd=self.runtime_dir, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True)
        # weston listens on its display socket before it loads --modules;
        # the seat module makes its control socket last thing in its init.
        deadline = time.monotonic() + self.timeout
        while not (self._connectable(self.socket_path) and
                   (not self.seat or os.path.exists(self.control_path))):
            if self.proc.poll() is not None:
                self._fail("weston exited at start, status "
                           f"{self.proc.returncode}")
            if time.monotonic() > deadline:
                self._fail("weston's sockets didn't appear in "
                           f"{self.timeout}s")
            time.sleep(0.02)
        return self

    @staticmethod
    def _connectable(path):
        if not os.path.exists(path):
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(path)
                return True
            except OSError:
                return False

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _fail(self, why):
        log = self.log()
        self._kill()
        self.proc = None
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
        raise WestonError(f"{why}\n--- weston log ---\n{log}")

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def stop(self, check=True):
        """Terminate weston; WestonError (with its log) if it had failed.

        With check=False a failure is only printed to stderr.
        """
        if self.proc is None:
            return
        crashed = self.proc.poll()
        if crashed is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill()
                status = "killed after SIGTERM timed out"
        else:
            status = crashed
        self._kill()  # anything left in its session
        log = self.log()
        self.proc = None
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
        if crashed is not None or status != 0:
            why = (f"weston exited early, status {crashed}"
                   if crashed is not None else f"weston: status {status}")
            if check:
                raise WestonError(f"{why}\n--- weston log ---\n{log}")
            sys.stderr.write(f"{why}\n--- weston log ---\n{log}\n")

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop(check=exc_type is None)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # Screenshots

    def screenshot(self, timeout=10.0):
        """The output: (width, height, rgb bytes, row-major).

        weston copies its whole framebuffer to our buffer after its next
        repaint of the output, so anything committed before is in it.
        """
        c = WaylandClient(self.socket_path, timeout)
        try:
            if "weston_screenshooter" not in c.globals:
                raise WestonError("no weston_screenshooter (needs --debug)")
            output = c.bind("wl_output", 2)
            shm = c.bind("wl_shm", 1)
            shooter = c.bind("weston_screenshooter", 1)
            c.roundtrip()
            w, h = c.output_mode
            fd = os.memfd_create("screenshot")
            try:
                os.ftruncate(fd, w * h * 4)
                buffer = c.shm_buffer(shm, fd, w, h, XRGB8888)
                c.request(shooter, 0, output, buffer)  # shoot
                c.wait(lambda: c.shot_done, "weston_screenshooter.done")
                with mmap.mmap(fd, w * h * 4, mmap.MAP_SHARED,
                               mmap.PROT_READ) as m:
                    px = m[:]
            finally:
                os.close(fd)
        finally:
            c.close()
        # Little-endian XRGB/ARGB8888 is B G R X; X isn't shown.
        rgb = bytearray(w * h * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = px[2::4], px[1::4], px[0::4]
        return w, h, bytes(rgb)

    def wait_screenshot(self, predicate, timeout=10.0, interval=0.1):
        """Screenshot until predicate(w, h, rgb) holds; return that one.

        On timeout, WestonError (the last screenshot is its .shot).
        """
        deadline = time.monotonic() + timeout
        while True:
            shot = self.screenshot(timeout=max(1.0, timeout))
            if predicate(*shot):
                return shot
            if time.monotonic() > deadline:
                err = WestonError(f"no matching screenshot in {timeout}s")
                err.shot = shot
                raise err
            time.sleep(interval)

    # The seat module's control socket

    def _request(self, request, timeout=5.0):
        """Send a request; return (reply line, fd or None)."""
        if not self.seat:
            raise WestonError("no seat module: Weston(seat=True) needed")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.control_path)
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
            data, fds, _, _ = socket.recv_fds(s, 4096, 1)
            while data and not data.endswith(b"\n"):
                more = s.recv(4096)
                if not more:
                    break
                data += more
        line = data.decode(errors="replace").strip()
        if not line or line.startswith("ERR"):
            for fd in fds:
                os.close(fd)
            raise WestonError(f"seat module: {request[:8]!r} -> {line!r}")
        return line, (fds[0] if fds else None)

    def copy(self, text, timeout=5.0):
        """Make text the selection, owned by the compositor.

        Returns once the selection is set; the focused client has been
        sent it (wl_data_device.data_offer + selection) by then.
        """
        self._request(b"COPY\n" + text.encode(), timeout)

    def paste(self, timeout=5.0, expect=None):
        """The selection's text, read from its owner.

        Waits up to timeout for there to be a text selection (and, with
        expect, for its text to be expect); TimeoutError if there's none.
        """
        deadline = time.monotonic() + timeout
        last = "no selection"
        while True:
            left = max(0.1, deadline - time.monotonic())
            line, fd = self._request(b"PASTE\n", left)
            if fd is not None:
                # Give the owner time to write even at the deadline.
                until = max(deadline, time.monotonic() + 2.0)
                text = _read_all(fd, until).decode(errors="replace")
                if expect is None or text == expect:
                    return text
                last = f"selection {text!r}"
            elif line == "NOTEXT":
                last = "a selection without a text type"
            if time.monotonic() > deadline:
                raise TimeoutError(f"paste: {last} after {timeout}s"
                                   + (f", expected {expect!r}"
                                      if expect is not None else ""))
            time.sleep(0.05)

    def focus_pid(self, timeout=5.0):
        """The pid of the client with keyboard focus, 0 for none."""
        line, _ = self._request(b"FOCUS\n", timeout)
        return int(line.split()[1])


def _read_all(fd, deadline):
    """Read fd to EOF by deadline (TimeoutError otherwise); closes fd."""
    chunks = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("paste: the selection's owner didn't "
                                   "finish writing in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


class WaylandClient:
    """Just enough of the Wayland wire protocol, standard library only.

    Connects, reads the registry (globals: interface -> name), sends
    requests (int args as uint32, str as string, fds as SCM_RIGHTS) and
    dispatches events to on_<interface>_<event>(object id, *args) methods.
    Subclasses add to EVENTS (signatures: u uint, i int, f fixed, s
    string, o object, n new id of the interface NEW_ID names, a array,
    h fd).
    """

    EVENTS = {
        "wl_display": {0: ("error", "ous"), 1: ("delete_id", "u")},
        "wl_registry": {0: ("global", "usu"), 1: ("global_remove", "u")},
        "wl_callback": {0: ("done", "u")},
        "wl_shm": {0: ("format", "u")},
        "wl_buffer": {0: ("release", "")},
        "wl_output": {0: ("geometry", "iiiiissi"), 1: ("mode", "uiii"),
                      2: ("done", ""), 3: ("scale", "i")},
        "weston_screenshooter": {0: ("done", "")},
    }
    NEW_ID = {}

    def __init__(self, path, timeout=10.0):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf, self.fds = b"", []
        self.objects = {1: "wl_display"}
        self.next_id = 2
        self.globals = {}
        self.output_mode = None
        self.shot_done = False
        self.registry = self.new("wl_registry")
        self.request(1, 1, self.registry)  # get_registry
        self.roundtrip()

    def close(self):
        self.sock.close()
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def new(self, interface):
        oid = self.next_id
        self.next_id += 1
        self.objects[oid] = interface
        return oid

    def request(self, oid, opcode, *args, fds=()):
        body = b""
        for a in args:
            if isinstance(a, str):
                b = a.encode() + b"\0"
                body += struct.pack("<I", len(b)) + b + b"\0" * (-len(b) % 4)
            else:
                body += struct.pack("<I", a & 0xFFFFFFFF)
        msg = struct.pack("<II", oid, (8 + len(body)) << 16 | opcode) + body
        anc = ([(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                 array.array("i", fds))] if fds else [])
        self.sock.sendmsg([msg], anc)

    def bind(self, interface, version):
        oid = self.new(interface)
        self.request(self.registry, 0, self.globals[interface], interface,
                     version, oid)
        return oid

    def shm_buffer(self, shm, fd, w, h, fmt):
        """A wl_buffer of w x h pixels (stride w * 4) at the start of fd."""
        pool = self.new("wl_shm_pool")
        self.request(shm, 0, pool, w * h * 4, fds=[fd])  # create_pool
        buffer = self.new("wl_buffer")
        self.request(pool, 0, buffer, 0, w, h, w * 4, fmt)
        self.request(pool, 1)  # destroy: the buffer keeps the memory
        return buffer

    def dispatch(self, timeout):
        """Handle what arrives within timeout (returns on the first read)."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, anc, _, _ = self.sock.recvmsg(
                65536, socket.CMSG_SPACE(28 * 4))
        except socket.timeout:
            return
        if not data:
            raise WestonError("weston closed the connection")
        for level, kind, fdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(fdata[:len(fdata) - len(fdata) % 4])
                self.fds.extend(fds)
        self.buf += data
        while len(self.buf) >= 8:
            oid, word = struct.unpack_from("<II", self.buf)
            size = word >> 16
            if len(self.buf) < size:
                break
            body, self.buf = self.buf[8:size], self.buf[size:]
            self._event(oid, word & 0xFFFF, body)

    def _event(self, oid, opcode, body):
        iface = self.objects.get(oid)
        if iface is None:
            return  # an object we destroyed
        name, sig = self.EVENTS[iface][opcode]
        args, pos = [], 0
        for t in sig:
            if t == "h":
                args.append(self.fds.pop(0))
            elif t in "sa":
                n, = struct.unpack_from("<I", body, pos)
                raw = body[pos + 4:pos + 4 + n]
                pos += 4 + n + (-n % 4)
                if t == "a":
                    args.append(raw)
                else:
                    args.append(raw[:-1].decode(errors="replace")
                                if n else None)
            else:
                v, = struct.unpack_from("<i" if t in "if" else "<I",
                                        body, pos)
                pos += 4
                if t == "n":
                    self.objects[v] = self.NEW_ID[(iface, name)]
                args.append(v)
        handler = getattr(self, f"on_{iface}_{name}", None)
        if handler:
            handler(oid, *args)
        else:
            for a, t in zip(args, sig):
                if t == "h":
                    os.close(a)

    def wait(self, cond, what, timeout=None):
        """Dispatch until cond(); WestonError after timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                raise WestonError(f"timed out waiting for {what}")
            self.dispatch(left)

    def roundtrip(self):
        cb = self.new("wl_callback")
        self.done = None
        self.request(1, 0, cb)  # sync
        self.wait(lambda: self.done == cb, "wl_display.sync")

    def on_wl_display_error(self, oid, obj, code, message):
        raise WestonError(f"protocol error on object {obj}: {code} "
                          f"{message}")

    def on_wl_display_delete_id(self, oid, id_):
        self.objects.pop(id_, None)

    def on_wl_registry_global(self, oid, name, iface, version):
        self.globals.setdefault(iface, name)

    def on_wl_callback_done(self, oid, data):
        self.done = oid

    def on_wl_output_mode(self, oid, flags, w, h, refresh):
        if flags & 1:  # current
            self.output_mode = (w, h)

    def on_weston_screenshooter_done(self, oid):
        self.shot_done = True
