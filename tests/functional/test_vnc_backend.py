# SPDX-License-Identifier: MIT
"""The VNC backend without a guest: tests/ui/vnc_fake_display runs the main
loop with one console showing gfx_pattern's test image and the VNC server,
and prints what reaches the input sinks.  A small RFB 3.8 client written
here (stdlib only, over a TCP socket or over a WebSocket with hand-made
RFC 6455 framing) checks:

- the pixels, exactly, over TCP and over WebSocket (on the websocket= port,
  with and without a subprotocol, and on the VNC port itself);
- damage, resizes (DesktopSize), SetDesktopSize reaching the producer,
  output disabled and no console at all (a black 640x480 screen);
- keys (X keysyms to Linux codes, the added Shift) and the pointer
  (scaling to 0..0x7fff, buttons and wheel);
- the guest cursor: as a RichCursor shape with its hot spot and PointerPos
  for clients that ask, drawn into the framebuffer at its position for
  clients that do not;
- no CPU used while idle with clients connected;
- Debian's vncsnapshot sees the picture (it writes JPEG only, at quality
  100 in RGB: compared within 2 levels a channel);
- noVNC in headless Chromium (tests/functional/novnc) shows the picture,
  exactly, and types through it; skipped when that harness or its
  node_modules is not installed.

The helper is $VNC_FAKE_DISPLAY, default tests/ui/vnc_fake_display in the
build directory of $SWEDE (build/swede).
"""
import base64
import hashlib
import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gfx_pattern  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
SWEDE = os.environ.get("SWEDE", os.path.join(ROOT, "build", "swede"))
HELPER = os.environ.get("VNC_FAKE_DISPLAY") or os.path.join(
    os.path.dirname(os.path.abspath(SWEDE)), "tests", "ui",
    "vnc_fake_display")
NOVNC = os.path.join(HERE, "novnc")
TIMEOUT = 10

# Encodings and pseudo-encodings (RFC 6143 7.7, 7.8).
RAW = 0
CURSOR = -239
XCURSOR = -240
POINTER_POS = -232
DESKTOP_SIZE = -223
EXT_DESKTOP_SIZE = -308

# Pixel formats: the server's (x8r8g8b8 little-endian: bytes B, G, R, X)
# and one that makes libvncserver translate (bytes R, G, B, X).
BGRX = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
RGBX = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 0, 8, 16)

# Linux key codes (linux/input-event-codes.h).
KEY_ESC, KEY_1, KEY_ENTER, KEY_A, KEY_LEFTSHIFT = 1, 2, 28, 30, 42
KEY_F1, KEY_UP, KEY_KP7, KEY_SPACE, KEY_CAPSLOCK = 59, 103, 71, 57, 58

CURSOR_HOT = (3, 5)


def to_rgb(data, fmt):
    """32-bit pixels in fmt (BGRX or RGBX) -> RGB bytes."""
    out = bytearray(len(data) // 4 * 3)
    r, b = (2, 0) if fmt == BGRX else (0, 2)
    out[0::3] = data[r::4]
    out[1::3] = data[1::4]
    out[2::3] = data[b::4]
    return bytes(out)


def first_difference(got, want, w):
    for i in range(0, min(len(got), len(want)), 3):
        if got[i:i + 3] != want[i:i + 3]:
            p = i // 3
            return "pixel (%d, %d): got %s, want %s" % (
                p % w, p // w, got[i:i + 3].hex(), want[i:i + 3].hex())
    return "sizes %d and %d" % (len(got), len(want))


# --------------------------------------------------------------------------
# the helper


class FakeDisplay:
    def __init__(self, *args):
        self.p = subprocess.Popen([HELPER, *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  bufsize=1)
        self.lines = queue.Queue()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        ready = self.expect(lambda l: l.startswith("ready "))
        _, port, ws = ready.split()
        self.port, self.ws_port = int(port), int(ws)

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def expect(self, pred, timeout=TIMEOUT):
        """The next line that satisfies pred (others are dropped)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("helper: no expected line in time")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("helper exited: %s"
                                     % self.p.stderr.read().strip())
            if pred(line):
                return line

    def sync(self):
        """Every event and command so far has been handled."""
        self.cmd("sync")
        self.expect(lambda l: l == "sync")

    def events(self):
        """Lines up to the next sync (sent now)."""
        self.cmd("sync")
        out = []
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            if line is None or line == "sync":
                return out
            out.append(line)

    def close(self):
        """Quit; return the exit status and what was said on stderr."""
        if self.p.poll() is None:
            try:
                self.cmd("quit")
            except OSError:
                pass
            try:
                self.p.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        err = self.p.stderr.read()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass
        return self.p.returncode, err

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf(
            "SC_CLK_TCK")


# --------------------------------------------------------------------------
# transports


class Tcp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=TIMEOUT)

    def send(self, data):
        self.s.sendall(data)

    def recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("server closed the connection")
            buf += chunk
        return bytes(buf)

    def close(self):
        self.s.close()


class WebSocket(Tcp):
    """A WebSocket client (RFC 6455): binary frames out, masked, and the
    payload of the server's frames in."""

    GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, port, protocol=None):
        super().__init__(port)
        key = base64.b64encode(os.urandom(16))
        req = [b"GET / HTTP/1.1", b"Host: 127.0.0.1:%d" % port,
               b"Upgrade: websocket", b"Connection: Upgrade",
               b"Sec-WebSocket-Key: " + key, b"Sec-WebSocket-Version: 13",
               b"Origin: http://127.0.0.1"]
        if protocol:
            req.append(b"Sec-WebSocket-Protocol: " + protocol.encode())
        self.s.sendall(b"\r\n".join(req) + b"\r\n\r\n")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            c = self.s.recv(1)
            if not c:
                raise EOFError("no WebSocket handshake answer")
            head += c
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise AssertionError("WebSocket handshake: " + lines[0])
        fields = {k.strip().lower(): v.strip() for k, v in
                  (l.split(":", 1) for l in lines[1:] if ":" in l)}
        want = base64.b64encode(hashlib.sha1(key + self.GUID).digest())
        if fields.get("sec-websocket-accept", "").encode() != want:
            raise AssertionError("bad Sec-WebSocket-Accept")
        self.protocol = fields.get("sec-websocket-protocol")
        self.buf = bytearray()

    def send(self, data):
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack(">BB", 0x82, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack(">BBH", 0x82, 0x80 | 126, n)
        else:
            hdr = struct.pack(">BBQ", 0x82, 0x80 | 127, n)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        self.s.sendall(hdr + mask + body)

    def _frame(self):
        b0, b1 = Tcp.recv(self, 2)
        n = b1 & 0x7f
        if n == 126:
            n, = struct.unpack(">H", Tcp.recv(self, 2))
        elif n == 127:
            n, = struct.unpack(">Q", Tcp.recv(self, 8))
        mask = Tcp.recv(self, 4) if b1 & 0x80 else None
        data = Tcp.recv(self, n) if n else b""
        if mask:
            data = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        return b0 & 0x0f, data

    def recv(self, n):
        while len(self.buf) < n:
            op, data = self._frame()
            if op in (0, 2):
                self.buf += data
            elif op == 1:  # text: base64 (the old websockify subprotocol)
                self.buf += base64.b64decode(data)
            elif op == 8:
                raise EOFError("WebSocket closed")
            elif op == 9:
                self.s.sendall(b"\x8a\x80" + os.urandom(4))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


# --------------------------------------------------------------------------
# RFB


class Rfb:
    def __init__(self, transport, fmt=BGRX, encodings=(RAW,)):
        self.t = transport
        self.fmt = fmt
        assert self.t.recv(12) == b"RFB 003.008\n"
        self.t.send(b"RFB 003.008\n")
        n = self.t.recv(1)[0]
        types = self.t.recv(n)
        assert 1 in types, types
        self.t.send(b"\x01")
        assert self.t.recv(4) == b"\0\0\0\0"
        self.t.send(b"\x01")  # shared
        self.w, self.h = struct.unpack(">HH", self.t.recv(4))
        self.server_format = self.t.recv(16)
        n, = struct.unpack(">I", self.t.recv(4))
        self.name = self.t.recv(n).decode()
        self.t.send(b"\0\0\0\0" + fmt)
        self.t.send(struct.pack(">BxH", 2, len(encodings)) +
                    b"".join(struct.pack(">i", e) for e in encodings))
        self.fb = bytearray(self.w * self.h * 4)
        self.cursor = None   # (hot_x, hot_y, w, h, pixels, mask)
        self.pointer = None  # (x, y) from PointerPos
        self.ext_size = None

    def request(self, incremental=False, x=0, y=0, w=None, h=None):
        self.t.send(struct.pack(">BBHHHH", 3, incremental, x, y,
                                self.w if w is None else w,
                                self.h if h is None else h))

    def key(self, sym, down):
        self.t.send(struct.pack(">BBxxI", 4, down, sym))

    def tap(self, sym):
        self.key(sym, True)
        self.key(sym, False)

    def pointer_event(self, x, y, buttons):
        self.t.send(struct.pack(">BBHH", 5, buttons, x, y))

    def set_desktop_size(self, w, h):
        self.t.send(struct.pack(">BxHHBx", 251, w, h, 1) +
                    struct.pack(">IHHHHI", 1, 0, 0, w, h, 0))

    def update(self):
        """Read one FramebufferUpdate; return its rectangles'
        (encoding, x, y, w, h)."""
        while True:
            t = self.t.recv(1)[0]
            if t == 0:
                break
            if t == 2:  # Bell
                continue
            if t == 3:  # ServerCutText
                self.t.recv(3)
                n, = struct.unpack(">I", self.t.recv(4))
                self.t.recv(n)
                continue
            raise AssertionError("unexpected server message %d" % t)
        self.t.recv(1)
        n, = struct.unpack(">H", self.t.recv(2))
        rects = []
        for _ in range(n):
            x, y, w, h, enc = struct.unpack(">HHHHi", self.t.recv(12))
            rects.append((enc, x, y, w, h))
            if enc == RAW:
                for row in range(h):
                    o = ((y + row) * self.w + x) * 4
                    self.fb[o:o + w * 4] = self.t.recv(w * 4)
            elif enc == CURSOR:
                pixels = self.t.recv(w * h * 4) if w * h else b""
                mask = self.t.recv((w + 7) // 8 * h) if w * h else b""
                self.cursor = (x, y, w, h, pixels, mask)
            elif enc == XCURSOR:
                if w * h:
                    self.t.recv(6 + 2 * ((w + 7) // 8 * h))
            elif enc == POINTER_POS:
                self.pointer = (x, y)
            elif enc == DESKTOP_SIZE:
                self.resize(w, h)
            elif enc == EXT_DESKTOP_SIZE:
                screens = self.t.recv(4)[0]
                self.t.recv(16 * screens)
                self.ext_size = (x, y, w, h)
                self.resize(w, h)
            else:
                raise AssertionError("unexpected encoding %d" % enc)
        return rects

    def resize(self, w, h):
        self.w, self.h = w, h
        self.fb = bytearray(w * h * 4)

    def rgb(self):
        return to_rgb(self.fb, self.fmt)

    def full(self):
        """A non-incremental request and the updates up to one whose raw
        rectangles cover the screen (libvncserver answers clients with
        ExtendedDesktopSize with a size-only update first)."""
        self.request(False)
        for _ in range(10):
            rects = self.update()
            if sum(w * h for e, x, y, w, h in rects if e == RAW) >= \
                    self.w * self.h:
                return rects
        raise AssertionError("no full update")

    def barrier(self):
        """Everything sent before has been handled by the server: a 1x1
        request is answered after them."""
        self.request(False, 0, 0, 1, 1)
        for _ in range(10):
            if any(e == RAW and x == 0 and y == 0
                   for e, x, y, w, h in self.update()):
                return
        raise AssertionError("no answer to the barrier request")

    def wait_for(self, pred, tries=20):
        """Incremental updates until pred(self) holds."""
        for _ in range(tries):
            if pred(self):
                return True
            self.request(True)
            self.update()
        return pred(self)

    def close(self):
        self.t.close()


# --------------------------------------------------------------------------
# the tests


def expected_with_cursor(w, h, pos, blend=True):
    """pattern_rgb with drm-pattern's cursor drawn at hot spot pos the way
    libvncserver draws it: opaque pixels copied, the half-transparent
    white blended as (a * 255) / 255 + ((255 - a) * dst) / 255; or, with
    blend False, as a client draws the cursor shape it is sent: the
    pixels whose alpha is at least 0x80, unblended."""
    out = bytearray(gfx_pattern.pattern_rgb(w, h))
    ox, oy = pos[0] - CURSOR_HOT[0], pos[1] - CURSOR_HOT[1]
    for cy in range(gfx_pattern.CURSOR_SIZE):
        for cx in range(gfx_pattern.CURSOR_SIZE):
            x, y = ox + cx, oy + cy
            if not (0 <= x < w and 0 <= y < h):
                continue
            p = gfx_pattern.cursor_pixel(cx, cy)
            a = p >> 24
            if a == 0:
                continue
            i = (y * w + x) * 3
            if not blend:
                if a >= 0x80:
                    out[i:i + 3] = (p & 0xffffff).to_bytes(3, "big")
                continue
            for c in range(3):
                src = (p >> (16 - 8 * c)) & 255
                out[i + c] = (a * src) // 255 + ((255 - a) * out[i + c]) // 255
    return bytes(out)


class VncBackend(unittest.TestCase):

    def setUp(self):
        if not (os.path.isfile(HELPER) and os.access(HELPER, os.X_OK)):
            self.fail("vnc_fake_display not found at %s (build it, or set "
                      "VNC_FAKE_DISPLAY)" % HELPER)
        self.displays = []
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        for d in self.displays:
            # A clean exit: vnc_stop and ui_shutdown with clients still
            # connected (and, under ASan, no leak).
            rc, err = d.close()
            self.assertEqual(rc, 0, err[-3000:])
            # Quiet: nothing logged but the keysyms test_keys sends on
            # purpose (LeakSanitizer's report of suppressions may follow).
            noise = [l for l in err.splitlines() if l.startswith("vnc: ")
                     and not l.startswith("vnc: keysym ")]
            self.assertEqual(noise, [])

    def display(self, *args):
        d = FakeDisplay(*args)
        self.displays.append(d)
        return d

    def client(self, transport, **kw):
        c = Rfb(transport, **kw)
        self.clients.append(c)
        return c

    def assertPattern(self, c, w=640, h=480, want=None):
        self.assertEqual((c.w, c.h), (w, h))
        want = want if want is not None else gfx_pattern.pattern_rgb(w, h)
        got = c.rgb()
        if got != want:
            self.fail(first_difference(got, want, w))

    # ---- pixels

    def test_tcp_exact(self):
        d = self.display()
        c = self.client(Tcp(d.port))
        self.assertEqual(c.name, "swede")
        self.assertEqual(c.server_format, BGRX)
        c.full()
        self.assertPattern(c)

    def test_translated_format(self):
        d = self.display("--size", "333x222")
        c = self.client(Tcp(d.port), fmt=RGBX)
        c.full()
        self.assertPattern(c, 333, 222)

    def test_websocket_port(self):
        d = self.display()
        self.assertEqual(d.ws_port, 5700 + d.port - 5900)
        for proto in (None, "binary"):
            with self.subTest(protocol=proto):
                ws = WebSocket(d.ws_port, proto)
                self.assertEqual(ws.protocol, proto)
                c = self.client(ws, fmt=RGBX)
                c.full()
                self.assertPattern(c)

    def test_websocket_on_vnc_port(self):
        d = self.display("--spec", "127.0.0.1:100,to=199")
        self.assertEqual(d.ws_port, -1)
        c = self.client(WebSocket(d.port))
        c.full()
        self.assertPattern(c)

    def test_websocket_explicit_port(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        d = self.display("--spec", "127.0.0.1:100,to=199,websocket=%d"
                         % port)
        self.assertEqual(d.ws_port, port)
        c = self.client(WebSocket(port))
        c.full()
        self.assertPattern(c)

    def test_damage(self):
        d = self.display()
        c = self.client(Tcp(d.port))
        c.full()
        d.cmd("fill 100 50 40 30 123456")
        want = bytearray(gfx_pattern.pattern_rgb(640, 480))
        for y in range(50, 80):
            for x in range(100, 140):
                want[(y * 640 + x) * 3:(y * 640 + x) * 3 + 3] = \
                    b"\x12\x34\x56"
        self.assertTrue(c.wait_for(lambda c: c.rgb() == bytes(want)),
                        first_difference(c.rgb(), bytes(want), 640))

    def test_resize_and_disable(self):
        d = self.display()
        c = self.client(Tcp(d.port), encodings=(RAW, DESKTOP_SIZE))
        c.full()
        d.cmd("size 800 600")
        self.assertTrue(c.wait_for(lambda c: (c.w, c.h) == (800, 600)))
        c.full()
        self.assertPattern(c, 800, 600)
        # Output disabled: a black 640x480 screen.
        d.cmd("size 0 0")
        self.assertTrue(c.wait_for(lambda c: (c.w, c.h) == (640, 480)))
        c.full()
        self.assertEqual(c.rgb(), bytes(640 * 480 * 3))

    def test_set_desktop_size(self):
        d = self.display("--follow")
        c = self.client(Tcp(d.port), encodings=(RAW, EXT_DESKTOP_SIZE))
        c.full()
        c.set_desktop_size(1024, 768)
        d.expect(lambda l: l == "request-size 0 1024 768")
        self.assertTrue(c.wait_for(lambda c: (c.w, c.h) == (1024, 768)))
        c.full()
        self.assertPattern(c, 1024, 768)

    def test_no_console(self):
        d = self.display("--no-console")
        c = self.client(Tcp(d.port))
        c.full()
        self.assertEqual((c.w, c.h), (640, 480))
        self.assertEqual(c.rgb(), bytes(640 * 480 * 3))
        c.pointer_event(10, 10, 1)
        c.tap(ord("a"))
        c.barrier()
        self.assertEqual(d.events(), ["key %d 1" % KEY_A,
                                      "key %d 0" % KEY_A])

    # ---- input

    def test_keys(self):
        d = self.display()
        c = self.client(Tcp(d.port))
        c.full()

        def keys(*syms_down):
            for sym, down in syms_down:
                c.key(sym, down)
            c.barrier()
            return [tuple(map(int, l.split()[1:])) for l in d.events()
                    if l.startswith("key ")]

        self.assertEqual(keys((ord("a"), 1), (ord("a"), 0)),
                         [(KEY_A, 1), (KEY_A, 0)])
        # A shifted keysym without the client's Shift gets one around it.
        self.assertEqual(keys((ord("A"), 1), (ord("A"), 0)),
                         [(KEY_LEFTSHIFT, 1), (KEY_A, 1), (KEY_A, 0),
                          (KEY_LEFTSHIFT, 0)])
        self.assertEqual(keys((ord("!"), 1), (ord("!"), 0)),
                         [(KEY_LEFTSHIFT, 1), (KEY_1, 1), (KEY_1, 0),
                          (KEY_LEFTSHIFT, 0)])
        # With the client's Shift down, none is added.
        self.assertEqual(keys((0xffe1, 1), (ord("A"), 1), (ord("A"), 0),
                              (0xffe1, 0)),
                         [(KEY_LEFTSHIFT, 1), (KEY_A, 1), (KEY_A, 0),
                          (KEY_LEFTSHIFT, 0)])
        # Caps Lock on: 'A' is the bare key.
        self.assertEqual(keys((0xffe5, 1), (0xffe5, 0), (ord("A"), 1),
                              (ord("A"), 0), (0xffe5, 1), (0xffe5, 0)),
                         [(KEY_CAPSLOCK, 1), (KEY_CAPSLOCK, 0), (KEY_A, 1),
                          (KEY_A, 0), (KEY_CAPSLOCK, 1),
                          (KEY_CAPSLOCK, 0)])
        for sym, code in ((0xff0d, KEY_ENTER), (0xff1b, KEY_ESC),
                          (0xffbe, KEY_F1), (0xff52, KEY_UP),
                          (0xff95, KEY_KP7), (0xffb7, KEY_KP7),
                          (ord(" "), KEY_SPACE)):
            with self.subTest(keysym=hex(sym)):
                self.assertEqual(keys((sym, 1), (sym, 0)),
                                 [(code, 1), (code, 0)])
        # Unknown keysyms (the euro sign) are dropped.
        self.assertEqual(keys((0x20ac, 1), (0x20ac, 0)), [])
        # A key still down when the client goes is released.
        c.key(ord("z"), True)
        c.barrier()
        c.close()
        self.clients.remove(c)
        d.expect(lambda l: l == "key 44 0")

    def test_pointer(self):
        d = self.display()
        c = self.client(Tcp(d.port))
        c.full()
        for x, y, mask, want in ((0, 0, 0, (0, 0, 0)),
                                 (639, 479, 1, (0x7fff, 0x7fff, 1)),
                                 (320, 240, 4, (320 * 0x7fff // 639,
                                                240 * 0x7fff // 479, 4)),
                                 (10, 20, 2, (10 * 0x7fff // 639,
                                              20 * 0x7fff // 479, 2)),
                                 (10, 20, 8, None), (10, 20, 16, None)):
            with self.subTest(x=x, y=y, mask=mask):
                c.pointer_event(x, y, mask)
                c.barrier()
                ev = [tuple(map(int, l.split()[1:])) for l in d.events()
                      if l.startswith("pointer ")]
                want = want or (10 * 0x7fff // 639, 20 * 0x7fff // 479,
                                mask)
                self.assertEqual(ev, [want])

    # ---- cursor

    def test_cursor_shape(self):
        d = self.display()
        c = self.client(Tcp(d.port),
                        encodings=(RAW, CURSOR, POINTER_POS))
        c.full()
        self.assertIsNone(c.cursor)  # none defined yet: the client's own
        d.cmd("cursor")
        d.cmd("move 100 120")
        self.assertTrue(c.wait_for(lambda c: c.cursor is not None and
                                   c.pointer == (100, 120)))
        hx, hy, w, h, pixels, mask = c.cursor
        self.assertEqual((hx, hy, w, h), (3, 5, 64, 64))
        stride = (w + 7) // 8

        def at(x, y):
            px = pixels[(y * w + x) * 4:(y * w + x) * 4 + 4]
            bit = mask[y * stride + x // 8] >> (7 - x % 8) & 1
            return to_rgb(px, BGRX).hex(), bit

        self.assertEqual(at(0, 0), ("ff0000", 1))
        self.assertEqual(at(63, 30), ("ff0000", 1))
        self.assertEqual(at(20, 20), ("00ff00", 1))
        self.assertEqual(at(5, 9), ("0000ff", 1))
        self.assertEqual(at(30, 10)[1], 0)
        self.assertEqual(at(10, 30)[1], 0)
        # The shape alone: the framebuffer holds no cursor.
        c.full()
        self.assertPattern(c)
        d.cmd("move 300 200")
        self.assertTrue(c.wait_for(lambda c: c.pointer == (300, 200)))
        d.cmd("nocursor")
        self.assertTrue(c.wait_for(lambda c: c.cursor[2:4] == (0, 0)))

    def test_cursor_in_framebuffer(self):
        d = self.display()
        c = self.client(Tcp(d.port))
        c.full()
        d.cmd("cursor")
        d.cmd("move 200 150")
        want = expected_with_cursor(640, 480, (200, 150))
        self.assertTrue(c.wait_for(lambda c: c.rgb() == want),
                        first_difference(c.rgb(), want, 640))
        # Moved: drawn at the new place, the old one repaired.
        d.cmd("move 400 300")
        want = expected_with_cursor(640, 480, (400, 300))
        self.assertTrue(c.wait_for(lambda c: c.rgb() == want),
                        first_difference(c.rgb(), want, 640))
        # Damage under the cursor keeps the cursor on top.
        d.cmd("fill 390 290 30 30 000000")
        d.sync()
        c.full()
        base = bytearray(gfx_pattern.pattern_rgb(640, 480))
        for y in range(290, 320):
            for x in range(390, 420):
                base[(y * 640 + x) * 3:(y * 640 + x) * 3 + 3] = b"\0\0\0"
        self.assertEqual(c.rgb()[(300 * 640 + 397) * 3:
                                 (300 * 640 + 397) * 3 + 3],
                         b"\xff\0\0")  # the cursor's left border
        d.cmd("nocursor")
        self.assertTrue(c.wait_for(lambda c: c.rgb() == bytes(base)),
                        first_difference(c.rgb(), bytes(base), 640))

    # ---- idle

    def test_idle_costs_nothing(self):
        d = self.display()
        a = self.client(Tcp(d.port))
        b = self.client(WebSocket(d.ws_port))
        for c in (a, b):
            c.full()
            c.request(True)  # pending, nothing to send
        time.sleep(0.3)
        t0 = d.cpu_seconds()
        time.sleep(2)
        used = d.cpu_seconds() - t0
        self.assertLess(used, 0.05, "%.3f s of CPU in 2 s idle" % used)

    # ---- other clients

    def test_vncsnapshot(self):
        snap, djpeg = shutil.which("vncsnapshot"), shutil.which("djpeg")
        if not snap or not djpeg:
            self.skipTest("vncsnapshot or djpeg (libjpeg-turbo-progs) not "
                          "installed; scripts/install-deps installs them")
        d = self.display()
        with tempfile.TemporaryDirectory() as tmp:
            for cursor in (False, True):
                with self.subTest(cursor=cursor):
                    if cursor:
                        d.cmd("cursor")
                        d.cmd("move 200 150")
                        d.sync()
                    jpg = os.path.join(tmp, "shot%d.jpg" % cursor)
                    # -cursor: ask for no cursor shape, so the server
                    # draws the cursor into the picture.
                    r = subprocess.run(
                        [snap, "-quiet", "-allowblank", "-nojpeg",
                         "-cursor" if cursor else "-nocursor",
                         "127.0.0.1:%d" % (d.port - 5900), jpg],
                        stdin=subprocess.DEVNULL, capture_output=True,
                        text=True, timeout=30)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    ppm = subprocess.run([djpeg, "-pnm", jpg],
                                         capture_output=True, check=True,
                                         timeout=30).stdout
                    w, h, got = gfx_pattern.read_ppm(ppm)
                    self.assertEqual((w, h), (640, 480))
                    # vncsnapshot -cursor takes the cursor shape and
                    # draws it itself.
                    want = (expected_with_cursor(640, 480, (200, 150),
                                                 blend=False)
                            if cursor else gfx_pattern.pattern_rgb(640, 480))
                    worst = max(abs(a - b) for a, b in zip(got, want))
                    self.assertLessEqual(worst, 2, "JPEG differs by %d"
                                         % worst)

    def test_novnc(self):
        shot = os.path.join(NOVNC, "novnc-shot.mjs")
        if not (os.path.exists(shot) and
                os.path.isdir(os.path.join(NOVNC, "node_modules")) and
                shutil.which("node") and shutil.which("chromium")):
            self.skipTest("the noVNC harness is not installed "
                          "(scripts/install-deps, scripts/install-node-deps)")
        d = self.display()
        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, "novnc.png")
            r = subprocess.run(
                ["node", shot, "--port", str(d.ws_port), "--out", png,
                 "--expect-size", "640x480", "--type", "aA"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            w, h, got = gfx_pattern.read_png(png)
            self.assertEqual((w, h), (640, 480))
            want = gfx_pattern.pattern_rgb(640, 480)
            self.assertEqual(got, want, first_difference(got, want, 640))
        downs = []
        while True:  # up to the last key's release
            line = d.expect(lambda l: l.startswith("key "))
            code, down = map(int, line.split()[1:])
            if down:
                downs.append(code)
            elif code == KEY_A and len(downs) == 3:
                break
        self.assertEqual(downs, [KEY_A, KEY_LEFTSHIFT, KEY_A])


if __name__ == "__main__":
    unittest.main()
