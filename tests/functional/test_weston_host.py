# SPDX-License-Identifier: MIT
"""Tests of the host weston harness (weston_host.py) with host clients.

Debian's weston clients, wl-clipboard, and Probe: a raw Wayland client
(standard library only) that shows an image in an xdg toplevel, keeps
keyboard focus, and copies and pastes through wl_data_device, as a guest
client would.  Skipped when weston or the seat module isn't there.

Run from tests/functional with SWEDE=path/to/build/swede.
"""

import mmap
import os
import shutil
import subprocess
import threading
import time
import unittest

import gfx_pattern
import weston_host

SEAT_KEYBOARD = 2
SEAT_POINTER = 1


class Probe(weston_host.WaylandClient):
    """A minimal Wayland client of one toplevel showing an RGB image."""

    EVENTS = dict(weston_host.WaylandClient.EVENTS, **{
        "wl_surface": {0: ("enter", "o"), 1: ("leave", "o")},
        "xdg_wm_base": {0: ("ping", "u")},
        "xdg_surface": {0: ("configure", "u")},
        "xdg_toplevel": {0: ("configure", "iia"), 1: ("close", "")},
        "wl_seat": {0: ("capabilities", "u"), 1: ("name", "s")},
        "wl_keyboard": {0: ("keymap", "uhu"), 1: ("enter", "uoa"),
                        2: ("leave", "uo"), 3: ("key", "uuuu"),
                        4: ("modifiers", "uuuuu"), 5: ("repeat_info", "ii")},
        "wl_data_device": {0: ("data_offer", "n"), 1: ("enter", "uoffo"),
                           2: ("leave", ""), 3: ("motion", "uff"),
                           4: ("drop", ""), 5: ("selection", "o")},
        "wl_data_offer": {0: ("offer", "s"), 1: ("source_actions", "u"),
                          2: ("action", "u")},
        "wl_data_source": {0: ("target", "s"), 1: ("send", "sh"),
                           2: ("cancelled", "")},
    })
    NEW_ID = {("wl_data_device", "data_offer"): "wl_data_offer"}

    def __init__(self, weston, timeout=10.0):
        self.capabilities = self.seat_name = None
        self.keymap = None          # (format, fd, size)
        self.focus_serial = None    # keyboard enter serial, None on leave
        self.configured = None      # (width, height) of the toplevel
        self.offers = {}            # data offer id -> mime types
        self.selection = None       # the data device's current offer id
        self.copied = None          # text our data sources serve
        self.cancelled = set()      # our data sources weston cancelled
        super().__init__(weston.socket_path, timeout)
        self.compositor = self.bind("wl_compositor", 4)
        self.shm = self.bind("wl_shm", 1)
        self.wm_base = self.bind("xdg_wm_base", 1)
        self.seat = self.bind("wl_seat", 5)
        self.ddm = self.bind("wl_data_device_manager", 3)
        self.roundtrip()
        self.keyboard = self.new("wl_keyboard")
        self.request(self.seat, 1, self.keyboard)
        self.data_device = self.new("wl_data_device")
        self.request(self.ddm, 1, self.data_device, self.seat)
        self.roundtrip()

    def close(self):
        super().close()
        if self.keymap:
            os.close(self.keymap[1])
            self.keymap = None

    # Events

    def on_xdg_wm_base_ping(self, oid, serial):
        self.request(self.wm_base, 3, serial)

    def on_wl_seat_capabilities(self, oid, caps):
        self.capabilities = caps

    def on_wl_seat_name(self, oid, name):
        self.seat_name = name

    def on_wl_keyboard_keymap(self, oid, fmt, fd, size):
        self.keymap = (fmt, fd, size)

    def on_wl_keyboard_enter(self, oid, serial, surface, keys):
        self.focus_serial = serial

    def on_wl_keyboard_leave(self, oid, serial, surface):
        self.focus_serial = None

    def on_xdg_toplevel_configure(self, oid, w, h, states):
        self.pending_size = (w, h)

    def on_xdg_surface_configure(self, oid, serial):
        self.request(self.xdg_surface, 4, serial)  # ack_configure
        self.configured = self.pending_size

    def on_wl_data_offer_offer(self, oid, mime):
        self.offers.setdefault(oid, []).append(mime)

    def on_wl_data_device_selection(self, oid, offer):
        self.selection = offer or None

    def on_wl_data_source_send(self, oid, mime, fd):
        with os.fdopen(fd, "wb") as f:
            f.write(self.copied.encode())

    def on_wl_data_source_cancelled(self, oid):
        self.cancelled.add(oid)

    # Requests

    def show(self, rgb=None):
        """Map a toplevel; fill the configured size with rgb (w*h*3)."""
        self.surface = self.new("wl_surface")
        self.request(self.compositor, 0, self.surface)
        self.xdg_surface = self.new("xdg_surface")
        self.request(self.wm_base, 2, self.xdg_surface, self.surface)
        self.toplevel = self.new("xdg_toplevel")
        self.request(self.xdg_surface, 1, self.toplevel)
        self.request(self.toplevel, 3, "swede-probe")  # set_app_id
        self.request(self.surface, 6)  # commit
        self.wait(lambda: self.configured, "the toplevel's configure")
        w, h = self.configured
        if not w or not h:
            w, h = 200, 150  # the shell leaves the size to us
        if rgb is None:
            rgb = bytes([0x20, 0x40, 0x60]) * (w * h)
        self.attach(w, h, rgb)
        return w, h

    def attach(self, w, h, rgb, padding=0):
        """Show rgb in an XRGB8888 buffer (padding: its X byte)."""
        size = w * h * 4
        fd = os.memfd_create("probe-buffer")
        try:
            os.ftruncate(fd, size)
            with mmap.mmap(fd, size) as m:
                px = bytearray([padding]) * size  # little-endian B G R X
                px[0::4], px[1::4], px[2::4] = rgb[2::3], rgb[1::3], rgb[0::3]
                m[:] = px
            buffer = self.shm_buffer(self.shm, fd, w, h,
                                     weston_host.XRGB8888)
        finally:
            os.close(fd)
        self.request(self.surface, 1, buffer, 0, 0)  # attach
        self.request(self.surface, 2, 0, 0, w, h)  # damage
        self.request(self.surface, 6)  # commit
        self.roundtrip()

    def hide(self):
        self.request(self.toplevel, 0)
        self.request(self.xdg_surface, 0)
        self.request(self.surface, 0)
        self.roundtrip()

    def paste(self, timeout=5.0):
        """The current selection's text, or None without one."""
        if not self.selection:
            return None
        mimes = self.offers.get(self.selection, [])
        mime = "text/plain;charset=utf-8"
        if mime not in mimes:
            raise AssertionError(f"selection offers {mimes}")
        r, w = os.pipe()
        self.request(self.selection, 1, mime, fds=[w])  # receive
        os.close(w)
        chunks = []
        deadline = time.monotonic() + timeout
        with os.fdopen(r, "rb", buffering=0) as f:
            os.set_blocking(r, False)
            while True:
                try:
                    chunk = f.read(65536)
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    return b"".join(chunks).decode()
                if chunk:
                    chunks.append(chunk)
                elif time.monotonic() > deadline:
                    raise AssertionError("the selection's owner wrote "
                                         "no EOF")
                else:
                    self.dispatch(0.01)

    def copy(self, text):
        """Make text the selection (using the keyboard enter serial).

        Returns the wl_data_source's id.
        """
        self.copied = text
        source = self.new("wl_data_source")
        self.request(self.ddm, 0, source)
        for mime in ("text/plain;charset=utf-8", "text/plain"):
            self.request(source, 0, mime)
        self.request(self.data_device, 1, source, self.focus_serial or 0)
        self.roundtrip()
        return source

    def serve(self, seconds):
        """Answer data source sends for a while (no event loop of ours)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.dispatch(deadline - time.monotonic())


def nonblack_box(w, h, rgb):
    """(x0, y0, x1, y1) of the pixels that aren't black, or None."""
    box = None
    for y in range(h):
        row = rgb[y * w * 3:(y + 1) * w * 3]
        if row.count(0) == len(row):
            continue
        xs = [i // 3 for i, v in enumerate(row) if v]
        x0, x1 = min(xs), max(xs)
        box = ((x0, y, x1, y) if box is None else
               (min(box[0], x0), box[1], max(box[2], x1), y))
    return box


class WestonHostTest(unittest.TestCase):

    def setUp(self):
        weston_host.skip_unless_weston(seat=False)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()
            p.wait()

    def spawn(self, weston, *args):
        if not shutil.which(args[0]):
            self.skipTest(f"{args[0]} is not installed")
        p = subprocess.Popen(args, env=weston.env(),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def probe(self, weston):
        p = Probe(weston)
        self.addCleanup(p.close)
        return p

    def test_simple_shm_screenshot(self):
        with weston_host.Weston() as w:
            self.assertTrue(os.path.isabs(w.socket_path))
            self.spawn(w, "weston-simple-shm")
            width, height, rgb = w.wait_screenshot(
                lambda w_, h_, rgb: nonblack_box(w_, h_, rgb) is not None)
            self.assertEqual((width, height), (640, 480))
            self.assertEqual(len(rgb), 640 * 480 * 3)
            # kiosk-shell centres simple-shm's 250x250 window.
            x0, y0, x1, y1 = nonblack_box(width, height, rgb)
            self.assertGreaterEqual((x0, y0), (195, 115))
            self.assertLessEqual((x1, y1), (444, 364))

    def test_without_seat_kiosk_shell_shows_nothing(self):
        with weston_host.Weston(seat=False) as w:
            self.spawn(w, "weston-simple-shm")
            time.sleep(1)
            width, height, rgb = w.screenshot()
            self.assertEqual((width, height), (640, 480))
            self.assertIsNone(nonblack_box(width, height, rgb))

    def test_seat_in_weston_info(self):
        if not shutil.which("weston-info"):
            self.skipTest("weston-info is not installed")
        with weston_host.Weston() as w:
            out = subprocess.run(["weston-info"], env=w.env(),
                                 capture_output=True, text=True,
                                 timeout=10).stdout
            self.assertIn("name: swede-test-seat", out)
            self.assertIn("capabilities: pointer keyboard", out)

    def test_seat_keymap(self):
        with weston_host.Weston() as w:
            p = self.probe(w)
            self.assertEqual(p.seat_name, "swede-test-seat")
            self.assertEqual(p.capabilities, SEAT_KEYBOARD | SEAT_POINTER)
            self.assertIsNotNone(p.keymap)
            fmt, fd, size = p.keymap
            self.assertEqual(fmt, 1)  # xkb_v1
            with mmap.mmap(fd, size, mmap.MAP_PRIVATE,
                           mmap.PROT_READ) as m:
                self.assertTrue(m[:size].startswith(b"xkb_keymap"))

    def test_seat_without_pointer(self):
        with weston_host.Weston(pointer=False) as w:
            self.assertEqual(self.probe(w).capabilities, SEAT_KEYBOARD)

    def test_exact_image(self):
        width, height = 320, 200
        pattern = gfx_pattern.pattern_rgb(width, height)
        with weston_host.Weston(width=width, height=height) as w:
            p = self.probe(w)
            self.assertEqual(p.show(pattern), (width, height))
            shot = w.wait_screenshot(lambda w_, h_, rgb: rgb == pattern)
            self.assertEqual(shot, (width, height, pattern))
            p.wait(lambda: p.focus_serial is not None, "keyboard focus")
            self.assertEqual(w.focus_pid(), os.getpid())
            # The padding byte of XRGB8888 changes nothing.
            flipped = pattern[::-1]
            p.attach(width, height, flipped, padding=0xFF)
            shot = w.wait_screenshot(lambda w_, h_, rgb: rgb == flipped)
            self.assertEqual(shot[2], flipped)

    def test_copy_paste(self):
        with weston_host.Weston() as w:
            with self.assertRaises(TimeoutError):
                w.paste(timeout=0.2)
            w.copy("x")
            self.assertEqual(w.paste(), "x")
            w.copy("smörgåsbord ✓\n" * 5000)
            self.assertEqual(w.paste(), "smörgåsbord ✓\n" * 5000)
            # libweston's clipboard keeps the text once its owner is gone.
            p = self.probe(w)
            p.copy("short-lived")
            self.assertEqual(self._paste_serving(w, p), "short-lived")
            p.close()
            time.sleep(0.2)
            self.assertEqual(w.paste(), "short-lived")

    def test_clipboard_with_focused_client(self):
        with weston_host.Weston() as w:
            p = self.probe(w)
            p.show()
            p.wait(lambda: p.focus_serial is not None, "keyboard focus")
            # host -> client: offered at once to the focused client.
            w.copy("from the host")
            p.wait(lambda: p.selection, "the selection")
            self.assertEqual(p.paste(), "from the host")
            self.assertEqual(w.focus_pid(), os.getpid())
            self.assertIsNotNone(p.focus_serial)
            # client -> host, with the (older) keyboard enter serial.
            first = p.copy("from the client")
            self.assertNotIn(first, p.cancelled)
            self.assertEqual(self._paste_serving(w, p), "from the client")
            # Again with the same serial, which weston alone refuses.
            again = p.copy("again")
            self.assertIn(first, p.cancelled)
            self.assertEqual(self._paste_serving(w, p), "again")
            # After another host copy (a newer serial than the client's).
            w.copy("host again")
            p.wait(lambda: again in p.cancelled, "our source's cancel")
            p.copy("client again")
            self.assertEqual(self._paste_serving(w, p), "client again")
            self.assertEqual(w.focus_pid(), os.getpid())

    def _paste_serving(self, w, p):
        """w.paste() while p answers wl_data_source.send."""
        out = {}
        t = threading.Thread(target=lambda: out.update(
            text=w.paste(timeout=5)))
        t.start()
        deadline = time.monotonic() + 6
        while t.is_alive() and time.monotonic() < deadline:
            p.serve(0.05)
        t.join(1)
        return out.get("text")

    def test_focus_returns_after_wl_paste_and_new_window(self):
        if not shutil.which("wl-paste"):
            self.skipTest("wl-paste is not installed")
        with weston_host.Weston() as w:
            p = self.probe(w)
            p.show()
            p.wait(lambda: p.focus_serial is not None, "keyboard focus")
            w.copy("y")
            # wl-paste maps its own 1x1 toplevel to get keyboard focus.
            out = subprocess.run(["wl-paste", "--no-newline"], env=w.env(),
                                 capture_output=True, timeout=10)
            self.assertEqual(out.stdout, b"y")
            p.wait(lambda: p.focus_serial is not None, "focus back")
            self.assertEqual(w.focus_pid(), os.getpid())
            # A second window takes focus and gives it back on unmap.
            q = self.probe(w)
            q.show()
            q.wait(lambda: q.focus_serial is not None, "focus of q")
            p.wait(lambda: p.focus_serial is None, "p's leave")
            q.hide()
            p.wait(lambda: p.focus_serial is not None, "focus back")


if __name__ == "__main__":
    unittest.main()
