# SPDX-License-Identifier: MIT
"""The SDL window backend (src/ui/sdl.c) under Xvfb, through the fake
display tests/ui/sdl_fake_display (built next to $SWEDE): one console shows
drm-pattern's test image and the helper prints what reaches the input
sinks. Checked: the window's pixels against gfx_pattern.pattern_rgb (xwd
screenshots parsed here, with both the default and the software renderer),
the window following guest mode changes, user resizes asking the guest for
a size and scaling meanwhile, keys as Linux key codes (xdotool, through
XTEST), pointer positions and buttons through the scaling and letterbox,
the guest cursor as the host cursor (XFixes), window close quitting (or
not, with window-close=off), the blank window without a console, the
error without a display, and that an idle window costs no CPU.

Skips with a message when the helper, Xvfb, xdotool or xwd is missing or
Xvfb cannot start. Packages: xvfb, xdotool, x11-apps (scripts/install-deps).
"""
import ctypes
import ctypes.util
import os
import queue
import shutil
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gfx_pattern  # noqa: E402

SWEDE = os.environ.get("SWEDE", "build/swede")
HELPER = os.path.join(os.path.dirname(os.path.abspath(SWEDE)), "tests", "ui",
                      "sdl_fake_display")
TOOLS = ("Xvfb", "xdotool", "xwd")
TIMEOUT = 10.0


def absolute(v, size):
    """console.c's scaling of a pixel coordinate to 0..0x7fff."""
    return v * 0x7FFF // (size - 1)


# --------------------------------------------------------------------------
# X helpers


def read_xwd(data):
    """An XWD dump (xwd -id) -> (w, h, RGB bytes row-major)."""
    (hsize, _ver, fmt, _depth, w, h, _xoff, byte_order, _bunit, _bbo,
     _bpad, bpp, bpl, _vclass, rmask, gmask, bmask, _bprgb, _cmapent,
     ncolors) = struct.unpack(">20I", data[:80])
    if fmt != 2 or bpp != 32:
        raise ValueError("xwd: expected a 32-bit ZPixmap, got format %d, "
                         "%d bpp" % (fmt, bpp))
    off = hsize + ncolors * 12

    def shift(m):
        return (m & -m).bit_length() - 1

    rs, gs, bs = shift(rmask), shift(gmask), shift(bmask)
    e = "<" if byte_order == 0 else ">"
    out = bytearray(w * h * 3)
    i = 0
    for y in range(h):
        row = struct.unpack_from(e + "%dI" % w, data, off + y * bpl)
        for v in row:
            out[i] = (v & rmask) >> rs
            out[i + 1] = (v & gmask) >> gs
            out[i + 2] = (v & bmask) >> bs
            i += 3
    return w, h, bytes(out)


def first_difference(got, want, w):
    for i in range(0, min(len(got), len(want)), 3):
        if got[i:i + 3] != want[i:i + 3]:
            p = i // 3
            return "(%d, %d): got %s, want %s" % (
                p % w, p // w, got[i:i + 3].hex(), want[i:i + 3].hex())
    return "sizes differ: %d vs %d bytes" % (len(got), len(want))


class Xlib:
    """The few Xlib and XFixes calls xdotool has no command for: the
    cursor image under the pointer and a window manager's close."""

    class CursorImage(ctypes.Structure):
        _fields_ = [("x", ctypes.c_short), ("y", ctypes.c_short),
                    ("width", ctypes.c_ushort), ("height", ctypes.c_ushort),
                    ("xhot", ctypes.c_ushort), ("yhot", ctypes.c_ushort),
                    ("cursor_serial", ctypes.c_ulong),
                    ("pixels", ctypes.POINTER(ctypes.c_ulong)),
                    ("atom", ctypes.c_ulong), ("name", ctypes.c_char_p)]

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                    ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p),
                    ("window", ctypes.c_ulong),
                    ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int),
                    ("data", ctypes.c_long * 5),
                    ("pad", ctypes.c_long * 24)]  # XEvent is 24 longs

    def __init__(self, display):
        x11 = ctypes.util.find_library("X11")
        xfixes = ctypes.util.find_library("Xfixes")
        if not x11 or not xfixes:
            raise unittest.SkipTest("libX11 or libXfixes not found")
        self.x = ctypes.CDLL(x11)
        self.xf = ctypes.CDLL(xfixes)
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x.XInternAtom.restype = ctypes.c_ulong
        self.x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                       ctypes.c_int]
        self.x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                      ctypes.c_int, ctypes.c_long,
                                      ctypes.c_void_p]
        self.x.XFlush.argtypes = [ctypes.c_void_p]
        self.x.XFree.argtypes = [ctypes.c_void_p]
        self.x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.xf.XFixesQueryVersion.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_int)]
        self.xf.XFixesGetCursorImage.restype = ctypes.POINTER(
            Xlib.CursorImage)
        self.xf.XFixesGetCursorImage.argtypes = [ctypes.c_void_p]
        self.dpy = self.x.XOpenDisplay(display.encode())
        if not self.dpy:
            raise unittest.SkipTest("cannot open display %s" % display)
        major, minor = ctypes.c_int(4), ctypes.c_int(0)
        self.xf.XFixesQueryVersion(self.dpy, ctypes.byref(major),
                                   ctypes.byref(minor))

    def close(self):
        self.x.XCloseDisplay(self.dpy)

    def cursor(self):
        """(w, h, xhot, yhot, {(x, y): 0xAARRGGBB}) under the pointer."""
        p = self.xf.XFixesGetCursorImage(self.dpy)
        if not p:
            return None
        c = p.contents
        px = {}
        for y in range(c.height):
            for x in range(c.width):
                px[(x, y)] = c.pixels[y * c.width + x] & 0xFFFFFFFF
        res = (c.width, c.height, c.xhot, c.yhot, px)
        self.x.XFree(p)
        return res

    def close_window(self, win):
        """What a window manager sends when its close button is hit."""
        ev = Xlib.ClientMessage()
        ev.type = 33  # ClientMessage
        ev.window = win
        ev.message_type = self.x.XInternAtom(self.dpy, b"WM_PROTOCOLS", 0)
        ev.format = 32
        ev.data[0] = self.x.XInternAtom(self.dpy, b"WM_DELETE_WINDOW", 0)
        ev.data[1] = 0  # CurrentTime
        self.x.XSendEvent(self.dpy, win, 0, 0, ctypes.byref(ev))
        self.x.XFlush(self.dpy)


# --------------------------------------------------------------------------
# the fake display


class Helper:
    """sdl_fake_display on display `display`; its stdout lines queued."""

    def __init__(self, display, *args, env=None):
        e = dict(os.environ, SDL_VIDEODRIVER="x11")
        e.pop("WAYLAND_DISPLAY", None)
        # Under ASan: SDL's D-Bus use and the GL driver it unloads leave
        # allocations behind at exit that are not swede's.
        e["ASAN_OPTIONS"] = ":".join(
            filter(None, (e.get("ASAN_OPTIONS"), "detect_leaks=0")))
        if display is None:
            e.pop("DISPLAY", None)
        else:
            e["DISPLAY"] = display
        e.update(env or {})
        self.p = subprocess.Popen([HELPER, *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=e)
        self.lines = queue.Queue()
        self.seen = []
        self.err = []
        threading.Thread(target=self._read, args=(self.p.stdout, self.lines),
                         daemon=True).start()
        self.err_thread = threading.Thread(target=self._read_err, daemon=True)
        self.err_thread.start()

    @staticmethod
    def _read(f, q):
        for line in f:
            q.put(line.rstrip("\n"))
        q.put(None)

    def _read_err(self):
        for line in self.p.stderr:
            self.err.append(line.rstrip("\n"))

    def expect(self, pred, timeout=TIMEOUT, what="a line"):
        """The next line for which pred(line) holds (others are kept in
        self.seen); fails after timeout."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = ""
                if left <= 0:
                    raise AssertionError(
                        "timed out waiting for %s; saw %r; stderr %r" %
                        (what, self.seen[-20:], self.err))
                continue
            if line is None:
                raise AssertionError("helper exited waiting for %s; saw %r;"
                                     " stderr %r" % (what, self.seen[-20:],
                                                     self.err))
            self.seen.append(line)
            if pred(line):
                return line

    def drain(self, wait=0.3):
        """Lines that arrive within wait seconds."""
        out = []
        end = time.monotonic() + wait
        while True:
            try:
                line = self.lines.get(timeout=max(end - time.monotonic(),
                                                  0.01))
            except queue.Empty:
                if time.monotonic() >= end:
                    return out
                continue
            if line is None:
                return out
            self.seen.append(line)
            out.append(line)

    def send(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()

    def stop(self):
        if self.p.poll() is None:
            try:
                self.send("quit")
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.err_thread.join(timeout=5)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass


def have_tools():
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        return "not installed: %s (scripts/install-deps)" % " ".join(missing)
    if not os.path.exists(HELPER):
        return "no helper at %s (build with meson)" % HELPER
    return None


class SdlBackendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = have_tools()
        if why:
            raise unittest.SkipTest(why)
        r, w = os.pipe()
        try:
            cls.xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x1024x24",
                 "-nolisten", "tcp", "-noreset"], pass_fds=(w,),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
        finally:
            os.close(w)
        num = b""
        end = time.monotonic() + TIMEOUT
        with os.fdopen(r, "rb") as f:
            os.set_blocking(f.fileno(), False)
            while not num.endswith(b"\n") and time.monotonic() < end:
                if cls.xvfb.poll() is not None:
                    break
                try:
                    chunk = f.read()
                except BlockingIOError:
                    chunk = None
                if chunk:
                    num += chunk
                else:
                    time.sleep(0.05)
        if not num.strip():
            cls.stop_xvfb()
            raise unittest.SkipTest("Xvfb did not start")
        cls.display = ":" + num.decode().strip()
        cls.env = dict(os.environ, DISPLAY=cls.display)
        cls.xlib = Xlib(cls.display)

    @classmethod
    def stop_xvfb(cls):
        if cls.xvfb.poll() is None:
            cls.xvfb.terminate()
            try:
                cls.xvfb.wait(timeout=5)
            except subprocess.TimeoutExpired:
                cls.xvfb.kill()
                cls.xvfb.wait()
        cls.xvfb.stderr.close()

    @classmethod
    def tearDownClass(cls):
        cls.xlib.close()
        cls.stop_xvfb()

    # ---- helpers ----

    def start(self, *args, name=None, env=None):
        name = name or self.id().rsplit(".", 1)[-1]
        h = Helper(self.display, "--name", name, *args, env=env)
        self.addCleanup(h.stop)
        h.expect(lambda s: s == "ready", what="ready")
        return h, self.window("swede - " + name)

    def window(self, title):
        out = self.x("xdotool", "search", "--sync", "--name",
                     "^%s$" % title.replace(".", "\\."))
        return int(out.split()[0])

    def x(self, *cmd):
        r = subprocess.run(cmd, env=self.env, capture_output=True,
                           timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, "%s: %s" % (" ".join(cmd),
                                                      r.stderr.decode()))
        return r.stdout.decode()

    def shot(self, win):
        r = subprocess.run(["xwd", "-silent", "-id", str(win)], env=self.env,
                           capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return read_xwd(r.stdout)

    def wait_shot(self, win, w, h, want):
        """Poll screenshots until the window is w x h showing want."""
        end = time.monotonic() + TIMEOUT
        while True:
            sw, sh, rgb = self.shot(win)
            if (sw, sh) == (w, h) and rgb == want:
                return
            if time.monotonic() > end:
                self.assertEqual((sw, sh), (w, h), "window size")
                self.fail("window pixels differ at " +
                          first_difference(rgb, want, w))
            time.sleep(0.05)

    def geometry(self, win):
        out = self.x("xdotool", "getwindowgeometry", str(win))
        for line in out.splitlines():
            if "Geometry:" in line:
                w, h = line.split()[-1].split("x")
                return int(w), int(h)
        self.fail("no geometry in %r" % out)

    def wait_geometry(self, win, w, h):
        end = time.monotonic() + TIMEOUT
        while self.geometry(win) != (w, h):
            if time.monotonic() > end:
                self.assertEqual(self.geometry(win), (w, h))
            time.sleep(0.05)

    def point(self, h, win, wx, wy):
        """Move the pointer to window coordinates; the pointer line's
        (x, y, buttons)."""
        self.x("xdotool", "mousemove", "--window", str(win), str(wx),
               str(wy))
        line = h.expect(lambda s: s.startswith("pointer "), what="pointer")
        # Earlier positions may still be queued: take the last line of a
        # short quiet period.
        rest = [s for s in h.drain(0.2) if s.startswith("pointer ")]
        return tuple(int(v) for v in (rest[-1] if rest else line).split()[1:])

    def cursor_where(self, pred):
        end = time.monotonic() + TIMEOUT
        while True:
            c = self.xlib.cursor()
            if c and pred(c):
                return c
            if time.monotonic() > end:
                self.fail("cursor: got %s" % (c[:4] if c else None,))
            time.sleep(0.05)

    # ---- tests ----

    def test_pattern_pixel_exact(self):
        for renderer in (None, "software"):
            with self.subTest(renderer=renderer or "default"):
                env = {"SDL_RENDER_DRIVER": renderer} if renderer else None
                h, win = self.start("--size", "320x240",
                                    name="pattern-" + (renderer or "default"),
                                    env=env)
                self.wait_shot(win, 320, 240, gfx_pattern.pattern_rgb(320, 240))
                h.stop()

    def test_partial_damage(self):
        h, win = self.start("--size", "320x240")
        want = bytearray(gfx_pattern.pattern_rgb(320, 240))
        self.wait_shot(win, 320, 240, bytes(want))
        # Two rectangles, one sticking out of the surface (clipped).
        for x, y, w, hh, rgb in ((17, 33, 41, 9, 0x123456),
                                 (300, 230, 50, 50, 0xA0B0C0)):
            h.send("fill %d %d %d %d %06x" % (x, y, w, hh, rgb))
            for yy in range(y, min(y + hh, 240)):
                for xx in range(x, min(x + w, 320)):
                    i = (yy * 320 + xx) * 3
                    want[i:i + 3] = rgb.to_bytes(3, "big")
        self.wait_shot(win, 320, 240, bytes(want))

    def test_guest_mode_change_resizes_window(self):
        h, win = self.start("--size", "320x240")
        h.send("size 200 150")
        self.wait_geometry(win, 200, 150)
        self.wait_shot(win, 200, 150, gfx_pattern.pattern_rgb(200, 150))
        h.send("size 0 0")  # output disabled: black, same size
        self.wait_shot(win, 200, 150, bytes(200 * 150 * 3))
        h.send("size 256 192")
        self.wait_shot(win, 256, 192, gfx_pattern.pattern_rgb(256, 192))

    def test_user_resize_requests_size_and_scales(self):
        h, win = self.start("--size", "320x240")
        self.x("xdotool", "windowsize", str(win), "640", "480")
        h.expect(lambda s: s == "request-size 0 640 480",
                 what="request-size 0 640 480")
        self.wait_geometry(win, 640, 480)
        # The guest kept its mode: 2x, flat areas keep their colour.
        end = time.monotonic() + TIMEOUT
        while True:
            sw, sh, rgb = self.shot(win)
            bad = []
            for i in range(8):
                x = (2 * i + 1) * 320 // 16
                pw = rgb[((60 * 2) * sw + x * 2) * 3:][:3]
                want = gfx_pattern.BARS[i].to_bytes(3, "big")
                if (sw, sh) != (640, 480) or pw != want:
                    bad.append((i, pw.hex(), want.hex()))
            if not bad:
                break
            if time.monotonic() > end:
                self.fail("scaled bars differ: %r" % bad)
            time.sleep(0.05)
        # Pointer through the scaling: window (201, 101) is pixel (100, 50).
        self.assertEqual(self.point(h, win, 201, 101),
                         (absolute(100, 320), absolute(50, 240), 0))
        # Letterboxed: 640x300 shows the 320x240 console as 400x300 at
        # x = 120.
        self.x("xdotool", "windowsize", str(win), "640", "300")
        h.expect(lambda s: s == "request-size 0 640 300",
                 what="request-size 0 640 300")
        self.assertEqual(self.point(h, win, 245, 63),
                         (absolute(100, 320), absolute(50, 240), 0))
        self.assertEqual(self.point(h, win, 10, 63),
                         (0, absolute(50, 240), 0))
        self.assertEqual(self.point(h, win, 639, 299),
                         (0x7FFF, 0x7FFF, 0))

    def test_user_resize_followed_by_guest(self):
        h, win = self.start("--size", "320x240", "--follow")
        self.x("xdotool", "windowsize", str(win), "400", "300")
        h.expect(lambda s: s == "request-size 0 400 300",
                 what="request-size 0 400 300")
        self.wait_shot(win, 400, 300, gfx_pattern.pattern_rgb(400, 300))

    def test_keys(self):
        h, win = self.start("--size", "320x240")
        self.x("xdotool", "windowfocus", "--sync", str(win))
        keys = [("a", 30), ("z", 44), ("1", 2), ("0", 11), ("Return", 28),
                ("Escape", 1), ("BackSpace", 14), ("Tab", 15), ("space", 57),
                ("minus", 12), ("bracketleft", 26), ("semicolon", 39),
                ("grave", 41), ("comma", 51), ("slash", 53), ("F1", 59),
                ("F10", 68), ("F11", 87), ("F12", 88), ("Left", 105),
                ("Up", 103), ("Prior", 104), ("Next", 109), ("Home", 102),
                ("End", 107), ("Insert", 110), ("Delete", 111),
                ("KP_Add", 78), ("KP_Enter", 96), ("KP_Divide", 98),
                ("Right", 106), ("Down", 108), ("F5", 63),
                ("Shift_L", 42), ("Control_L", 29), ("Alt_L", 56)]
        # (Xvfb's keymap has no right Control or Super that xdotool can
        # type alone.)
        self.x("xdotool", "key", *[k for k, _ in keys])
        want = []
        for _, code in keys:
            want += ["key %d 1" % code, "key %d 0" % code]
        got = []
        while len(got) < len(want):
            got.append(h.expect(lambda s: s.startswith("key "),
                                what="key %d of %d" % (len(got) + 1,
                                                       len(want))))
        self.assertEqual(got, want)

    def test_pointer_buttons_wheel(self):
        h, win = self.start("--size", "320x240")
        self.assertEqual(self.point(h, win, 100, 50),
                         (absolute(100, 320), absolute(50, 240), 0))
        ax, ay = absolute(100, 320), absolute(50, 240)
        for button, bits in ((1, 1), (2, 2), (3, 4)):
            self.x("xdotool", "click", str(button))
            self.assertEqual(
                h.expect(lambda s: s.startswith("pointer ")),
                "pointer %d %d %d" % (ax, ay, bits))
            self.assertEqual(
                h.expect(lambda s: s.startswith("pointer ")),
                "pointer %d %d 0" % (ax, ay))
        # The wheel: one event with the notch bit per notch.
        self.x("xdotool", "click", "4")
        self.assertEqual(h.expect(lambda s: s.startswith("pointer ")),
                         "pointer %d %d 8" % (ax, ay))
        self.x("xdotool", "click", "5")
        self.assertEqual(h.expect(lambda s: s.startswith("pointer ")),
                         "pointer %d %d 16" % (ax, ay))
        # Corners.
        self.assertEqual(self.point(h, win, 0, 0), (0, 0, 0))
        self.assertEqual(self.point(h, win, 319, 239), (0x7FFF, 0x7FFF, 0))

    def test_guest_cursor_is_host_cursor(self):
        h, win = self.start("--size", "320x240")
        self.point(h, win, 50, 50)

        def hidden(c):
            return all(v >> 24 == 0 for v in c[4].values())

        self.cursor_where(hidden)
        h.send("cursor")
        c = self.cursor_where(lambda c: c[:4] == (64, 64, 3, 5))
        px = c[4]
        for (x, y) in ((0, 0), (63, 10), (10, 63)):
            self.assertEqual(px[(x, y)], 0xFFFF0000, (x, y))
        self.assertEqual(px[(5, 5)], 0xFF00FF00)
        self.assertEqual(px[(10, 3)], 0xFF0000FF)
        self.assertEqual(px[(30, 20)], 0)
        h.send("nocursor")
        self.cursor_where(hidden)

    def test_show_cursor_on(self):
        h, win = self.start("--size", "320x240", "--spec",
                            "sdl,show-cursor=on")
        self.point(h, win, 50, 50)
        self.cursor_where(lambda c: any(v >> 24 for v in c[4].values()))

    def test_window_close_quits(self):
        h, win = self.start("--size", "320x240")
        self.xlib.close_window(win)
        h.expect(lambda s: s == "runstate quit", what="runstate quit")
        self.assertEqual(h.p.wait(timeout=TIMEOUT), 0)

    def test_window_close_off(self):
        h, win = self.start("--size", "320x240", "--spec",
                            "sdl,window-close=off")
        self.xlib.close_window(win)
        self.assertNotIn("runstate quit", h.drain(1.0))
        self.assertIsNone(h.p.poll())
        self.wait_shot(win, 320, 240, gfx_pattern.pattern_rgb(320, 240))

    def test_blank_window_without_console(self):
        h = Helper(self.display, "--no-console")
        self.addCleanup(h.stop)
        h.expect(lambda s: s == "ready", what="ready")
        win = self.window("swede")
        self.wait_shot(win, 640, 480, bytes(640 * 480 * 3))
        self.x("xdotool", "windowfocus", "--sync", str(win))
        self.x("xdotool", "key", "q")
        self.assertEqual(h.expect(lambda s: s.startswith("key ")),
                         "key 16 1")

    def test_idle_costs_no_cpu(self):
        h, win = self.start("--size", "320x240")
        self.wait_shot(win, 320, 240, gfx_pattern.pattern_rgb(320, 240))
        h.drain(0.3)
        before = cpu_seconds(h.p.pid)
        time.sleep(2.0)
        used = cpu_seconds(h.p.pid) - before
        self.assertLess(used, 0.1, "idle window used %.2fs CPU in 2s" % used)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SdlWithoutXTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(HELPER):
            self.skipTest("no helper at %s (build with meson)" % HELPER)

    def test_other_video_driver_is_polled(self):
        """Without an X connection to watch (SDL's offscreen driver here,
        Wayland or KMS elsewhere) events are polled by a loop timer: the
        window opens, the loop stays responsive and cheap, and it quits."""
        h = Helper(None, "--size", "320x240",
                   env={"SDL_VIDEODRIVER": "offscreen"})
        self.addCleanup(h.stop)
        try:
            h.expect(lambda s: s == "ready", what="ready")
        except AssertionError:
            if any("offscreen" in e for e in h.err):
                self.skipTest("SDL has no offscreen driver: %r" % h.err)
            raise
        before = cpu_seconds(h.p.pid)
        time.sleep(2.0)
        used = cpu_seconds(h.p.pid) - before
        self.assertLess(used, 0.5, "polling used %.2fs CPU in 2s" % used)
        h.send("quit")
        self.assertEqual(h.p.wait(timeout=TIMEOUT), 0)

    def test_no_display_error(self):
        h = Helper(None)
        try:
            rc = h.p.wait(timeout=TIMEOUT)
            h.lines.get(timeout=TIMEOUT)  # stdout closed
        finally:
            h.stop()
        self.assertEqual(rc, 2)
        self.assertEqual(len(h.err), 1, h.err)
        self.assertTrue(h.err[0].startswith(
            "-display sdl: cannot open a window: "), h.err)


if __name__ == "__main__":
    unittest.main()
