# SPDX-License-Identifier: MIT
"""virtio-gpu-device with the real guest (Debian's kernel, the kit's
guest programs), seen through every display at once. One boot:

  swede -device virtio-gpu-device,xres=1024,yres=768 -device
  virtio-keyboard-device -device virtio-tablet-device -vnc
  127.0.0.1:N,websocket=P -display sdl (under Xvfb) -qmp ...

0. fbcon: the guest writes to /dev/tty0; the QMP screendump is not blank.
   The connector's preferred mode (from our EDID) is 1024x768.
1. /bin/drm-pattern draws the known image (dumb buffer, SETCRTC,
   DIRTYFB); the QMP screendump (PNG and PPM) and HMP screendump equal
   tests/functional/gfx_pattern.py's image pixel for pixel; so does an RFB
   client's framebuffer, vncsnapshot's capture (JPEG, within 2 levels),
   noVNC's canvas in headless Chromium over the WebSocket, and the SDL
   window (xwd). "a" typed in noVNC reaches the guest's evdev-read as
   KEY_A (30).
2. drm-pattern --cursor 100 50: an RFB client that leaves cursor drawing
   to the server sees the guest's cursor there; a key sent over RFB makes
   the guest move it by (+200, +100), and the VNC view follows; the QMP
   screendump never has the cursor (as QEMU's).
3. An RFB SetDesktopSize 800x600 makes the device raise a display event;
   the guest's connector now prefers 800x600.

Environment as tests/functional/test_boot.py (SWEDE, KIT, BOOT_TIMEOUT).
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import gfx_pattern
from test_boot import TIMEOUT, boot, check_clean_log
from test_qmp import QMPClient
import test_sdl_backend as sdlt
import test_vnc_backend as vnct

W, H = 1024, 768
KEY_A = 30
XK_a, XK_b = 0x61, 0x62
CURSOR_POS = (100, 50)
CURSOR_MOVED = (300, 150)

GUEST = r"""
modes() { head -n 1 /sys/class/drm/card0-Virtual-1/modes; }
echo "gpu-modes=$(modes)"
echo swede-fbcon-check > /dev/tty0
echo gpu-phase=0
evdev-read 2
drm-pattern & p=$!
evdev-read 2
kill $p; wait $p
drm-pattern --cursor 100 50 & p=$!
evdev-read 2
kill -USR1 $p
evdev-read 2
kill $p; wait $p
echo gpu-phase=3
while [ "$(modes)" = 1024x768 ]; do sleep 0.2; done
echo "gpu-newmode=$(modes)"
"""


def with_cursor(top_left):
    """The pattern with drm-pattern's cursor (hot spot 0,0) at top_left,
    drawn by the VNC server (test_vnc_backend's helper takes the fake
    display's hot spot, so shift by it)."""
    hx, hy = vnct.CURSOR_HOT
    return vnct.expected_with_cursor(W, H, (top_left[0] + hx,
                                            top_left[1] + hy))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_vnc_display():
    for n in range(40, 90):
        ok = True
        for port in (5900 + n,):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            s.close()
        if ok:
            return n
    raise unittest.SkipTest("no free VNC display")


class GpuDisplays(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sdl = sdlt.SdlBackendTest
        cls.have_x = not sdlt.have_tools()
        if cls.have_x:
            try:
                cls.sdl.setUpClass()
            except unittest.SkipTest:
                cls.have_x = False

    @classmethod
    def tearDownClass(cls):
        if cls.have_x:
            cls.sdl.tearDownClass()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.qmp_path = os.path.join(self.tmp.name, "qmp.sock")

    def tearDown(self):
        self.tmp.cleanup()

    def wait_console(self, s, text):
        self.assertTrue(s.wait_for(lambda t: text in t), s.report())

    def screendump(self, q, fmt="png", **kw):
        path = os.path.join(self.tmp.name, "dump." + fmt)
        r = q.cmd("screendump", filename=path, format=fmt, **kw)
        self.assertEqual(r.get("return"), {}, r)
        return gfx_pattern.read_image(path)

    def wait_dump(self, q, want, fmt="png"):
        """Screendumps until one equals want (the guest draws, then the
        device copies: allow a moment)."""
        end = time.monotonic() + 30
        while True:
            w, h, got = self.screendump(q, fmt)
            if (w, h) == (W, H) and got == want:
                return
            if time.monotonic() > end:
                self.assertEqual((w, h), (W, H))
                self.fail("%s screendump differs at %s" %
                          (fmt, vnct.first_difference(got, want, W)))
            time.sleep(0.2)

    def test_gpu_through_every_display(self):
        if not self.have_x:
            self.fail("Xvfb, xdotool or xwd missing (scripts/install-deps)")
        vnc_n, ws_port = free_vnc_display(), free_port()
        os.environ["DISPLAY"] = self.sdl.display
        try:
            s = boot(self, 1, GUEST,
                     nographic=False, extra_args=(
                         "-device", "virtio-gpu-device,xres=%d,yres=%d"
                         % (W, H),
                         "-device", "virtio-keyboard-device",
                         "-device", "virtio-tablet-device",
                         "-vnc", "127.0.0.1:%d,websocket=%d" % (vnc_n,
                                                                ws_port),
                         "-display", "sdl",
                         "-qmp", "unix:%s,server=on,wait=off" %
                         self.qmp_path))
        finally:
            del os.environ["DISPLAY"]
        try:
            self.run_phases(s, 5900 + vnc_n, ws_port)
        finally:
            s.kill()

    def run_phases(self, s, vnc_port, ws_port):
        q = QMPClient(self.qmp_path)
        q.cmd("qmp_capabilities")
        want = gfx_pattern.pattern_rgb(W, H)

        # 0: fbcon draws the console; EDID's preferred mode.
        self.wait_console(s, "gpu-phase=0")
        self.assertIn("gpu-modes=%dx%d" % (W, H), s.console, s.report())
        w, h, fb = self.screendump(q)
        self.assertEqual((w, h), (W, H))
        self.assertGreater(sum(1 for i in range(0, len(fb), 3)
                               if fb[i] > 128), 200, "fbcon dump is blank")
        rfb = vnct.Rfb(vnct.Tcp(vnc_port))
        rfb.tap(XK_a)  # evdev-read 2 -> drm-pattern starts
        self.wait_console(s, "drm-pattern: ok %dx%d" % (W, H))

        # 1: the image everywhere.
        self.wait_dump(q, want, "png")
        self.wait_dump(q, want, "ppm")
        hmp_path = os.path.join(self.tmp.name, "hmp.png")
        r = q.cmd("human-monitor-command",
                  **{"command-line": "screendump -f png " + hmp_path})
        self.assertEqual(r["return"], "")
        self.assertEqual(gfx_pattern.read_image(hmp_path), (W, H, want))
        rfb.wait_for(lambda c: (c.w, c.h) == (W, H) and c.rgb() == want)
        rfb.full()
        self.assertEqual(rfb.rgb(), want,
                         vnct.first_difference(rfb.rgb(), want, W))
        self.check_vncsnapshot(vnc_port, want)
        self.check_sdl_window(want)
        self.check_novnc(s, ws_port, want)

        # 2: the guest's cursor in the VNC view, moved by the guest.
        self.wait_console(s, "cursor 64x64 at 100,50")
        shown = with_cursor(CURSOR_POS)
        self.assertTrue(rfb.wait_for(lambda c: c.rgb() == shown, 50),
                        vnct.first_difference(rfb.rgb(), shown, W))
        self.wait_dump(q, want)  # no cursor in screendumps
        rfb.tap(XK_b)  # the guest moves the cursor
        self.wait_console(s, "cursor moved to %d,%d" % CURSOR_MOVED)
        moved = with_cursor(CURSOR_MOVED)
        self.assertTrue(rfb.wait_for(lambda c: c.rgb() == moved, 50),
                        vnct.first_difference(rfb.rgb(), moved, W))
        rfb.tap(XK_b)  # evdev-read 2 -> phase 3

        # 3: a VNC client asks for 800x600; the guest is told.
        self.wait_console(s, "gpu-phase=3")
        rfb.set_desktop_size(800, 600)
        self.wait_console(s, "gpu-newmode=800x600")
        rfb.close()
        self.assertEqual(s.wait(), 0, s.report())
        ev = q.event("SHUTDOWN")
        self.assertEqual(ev["data"]["reason"], "guest-shutdown")
        q.close()
        check_clean_log(self, s)
        keys = re.findall(r"evdev: event\d+ key (\d+) 1", s.console)
        self.assertIn(str(KEY_A), keys, s.report())

    def check_vncsnapshot(self, port, want):
        snap, djpeg = shutil.which("vncsnapshot"), shutil.which("djpeg")
        self.assertTrue(snap and djpeg, "vncsnapshot/djpeg missing "
                        "(scripts/install-deps)")
        jpg = os.path.join(self.tmp.name, "snap.jpg")
        r = subprocess.run([snap, "-quiet", "-allowblank", "-nocursor",
                            "127.0.0.1:%d" % (port - 5900), jpg],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        ppm = subprocess.run([djpeg, "-pnm", jpg], capture_output=True,
                             check=True, timeout=30).stdout
        w, h, got = gfx_pattern.read_ppm(ppm)
        self.assertEqual((w, h), (W, H))
        worst = max(abs(a - b) for a, b in zip(got, want))
        self.assertLessEqual(worst, 2, "vncsnapshot's JPEG differs by %d"
                             % worst)

    def check_sdl_window(self, want):
        t = self.sdl("run")  # an instance for its X helpers
        t.env = self.sdl.env
        win = t.window("swede")
        # xwd sees only the part of the window on the 1280x1024 screen.
        t.x("xdotool", "windowmove", "--sync", str(win), "0", "0")
        t.wait_shot(win, W, H, want)

    def check_novnc(self, s, ws_port, want):
        shot = os.path.join(vnct.NOVNC, "novnc-shot.mjs")
        self.assertTrue(os.path.isdir(os.path.join(vnct.NOVNC,
                                                   "node_modules")),
                        "noVNC harness not installed "
                        "(scripts/install-node-deps)")
        png = os.path.join(self.tmp.name, "novnc.png")
        r = subprocess.run(["node", shot, "--port", str(ws_port), "--out",
                            png, "--expect-size", "%dx%d" % (W, H),
                            "--wait-nonblack"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        w, h, got = gfx_pattern.read_png(png)
        self.assertEqual((w, h), (W, H))
        self.assertEqual(got, want, vnct.first_difference(got, want, W))
        # The key ends drm-pattern (the guest's evdev-read 2), which blanks
        # the scanout: type it only after the shot, in a second session,
        # or the shot may catch the blank 640x480 framebuffer.
        r = subprocess.run(["node", shot, "--port", str(ws_port),
                            "--type", "a"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.wait_console(s, "evdev: event0 key %d 1" % KEY_A)


if __name__ == "__main__":
    unittest.main()
