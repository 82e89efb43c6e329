# SPDX-License-Identifier: MIT
"""Guest Wayland programs on the host's weston, through swede-wl-proxy.

The host runs Debian's weston 10 headless (tests/functional/weston_host.py:
pixman renderer, kiosk-shell, the test seat module for a keyboard, its
keymap and the clipboard); one boot of the stock Debian riscv64 kernel
with

  swede -device virtio-gpu-rutabaga-device,cross-domain=on,hostmem=64M,
        wayland-socket-path=<weston's socket>

runs the kit's swede-wl-proxy (guest/swede-wl-proxy.c) and, through it,
one client after the other (several at once at every step):

  1. /bin/wl-pattern (guest/wl-pattern.c): gets the keymap (a host fd
     turned into a guest memfd) and shows the known test image at the
     output's size; weston's screenshot must equal it pixel for pixel
     (wl_shm pool -> host blob, the buffer copied on commit).
  2. wl-pattern --paste: the host copies a text; the guest client must
     receive exactly it (a guest pipe -> host read pipe -> READ).
  3. wl-pattern --copy: the guest copies a text; the host must paste
     exactly it (the compositor's pipe -> write pipe -> WRITE).
  4. Debian's riscv64 weston-simple-shm (dynamically linked, from the
     kit; it draws at the size kiosk-shell configures): it must show up
     and animate.
  5. The host copies again, which cancels the guest's selection and ends
     the copy client; the guest ends everything and the proxy must have
     seen every client come and go, with no error.

The host drives the steps and the guest waits on the clipboard (2, 5), so
nothing depends on timing. Environment as tests/functional/test_boot.py
(SWEDE, KIT, BOOT_TIMEOUT); skipped without weston or the seat module.
"""
import os
import unittest

import gfx_pattern
import weston_host
from test_boot import (REQUIRE_KIT, SWEDE, TIMEOUT, Swede, check_clean_log,
                       kit_missing, need_kit)

W, H = 640, 480
H2G = "host to guest: swede \u2713"
G2H = "guest to host: rutabaga \u2713"
DONE = "host: done"

# The guest's script (it goes base64 on the kernel command line, which
# the kernel cuts at 1024 bytes: keep it short). kiosk-shell gives the
# keyboard focus to the newest window, so each client waits for the one
# before it to be up (w FILE TEXT: wait for TEXT in FILE, print FILE).
GUEST = f"""w() {{
i=0
until grep -q "$2" $1 || [ $i -gt 3000 ]; do sleep .2; i=$((i+1)); done
cat $1
}}
swede-wl-proxy & P=$!
i=0
until [ -S $XDG_RUNTIME_DIR/wayland-0 ] || [ $i -gt 300 ]; do
sleep .1; i=$((i+1)); done
wl-pattern >/tmp/a 2>&1 & A=$!
w /tmp/a 'ok shown'
wl-pattern --paste --timeout 600
kill $A
wl-pattern --copy '{G2H}' >/tmp/b 2>&1 & B=$!
w /tmp/b 'ok sent'
weston-simple-shm & C=$!
wait $B
r=$?
grep -v 'ok copied\\|ok sent' /tmp/b
echo "wayland-test: copy client exit=$r"
kill $C
wait $C
sleep 1
kill $P
wait
echo "wayland-test: done"
"""


class WaylandThroughProxy(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.s = None
        cls.weston = None
        if kit_missing() and not REQUIRE_KIT:
            raise unittest.SkipTest(kit_missing())
        weston_host.skip_unless_weston(seat=True)
        if kit_missing() or not os.access(SWEDE, os.X_OK):
            return  # setUp fails every test (need_kit says why)
        # No pointer: nothing but the client's image on the screen.
        cls.weston = weston_host.Weston(W, H, seat=True, pointer=False)
        cls.weston.start()
        dev = ("virtio-gpu-rutabaga-device,cross-domain=on,hostmem=64M,"
               "wayland-socket-path=%s" % cls.weston.socket_path)
        cls.s = Swede(1, GUEST, extra_args=("-device", dev))

    @classmethod
    def tearDownClass(cls):
        if cls.s:
            cls.s.kill()
        if cls.weston:
            cls.weston.stop(check=False)

    def setUp(self):
        need_kit(self)
        self.assertIsNotNone(self.s)

    def wait_line(self, text, timeout=TIMEOUT):
        if not self.s.wait_for(lambda c: text in c, timeout):
            self.fail("no %r on the console; console:\n%s\nlog:\n%s\n"
                      "weston:\n%s" % (text, self.s.console[-3000:],
                                       self.s.log[-2000:],
                                       self.weston.log()[-2000:]))

    def test_1_image_exact(self):
        self.wait_line("swede-wl-proxy: listening on /run/user/0/wayland-0")
        self.wait_line("wl-pattern: ok keymap ")
        self.wait_line("wl-pattern: ok shown %dx%d" % (W, H))
        want = gfx_pattern.pattern_rgb(W, H)
        try:
            shot = self.weston.wait_screenshot(
                lambda w, h, rgb: rgb == want, timeout=30)
        except weston_host.WestonError as e:
            w, h, rgb = e.shot
            bad = sum(1 for i in range(0, min(len(rgb), len(want)), 3)
                      if rgb[i:i + 3] != want[i:i + 3])
            self.fail("weston's %dx%d screenshot differs from the guest's "
                      "image in %d pixels" % (w, h, bad))
        self.assertEqual(shot[:2], (W, H))

    def test_2_paste_into_guest(self):
        # Both the image client and the paste client (which has the
        # keyboard focus once shown) are up.
        shown = "wl-pattern: ok shown %dx%d" % (W, H)
        if not self.s.wait_for(lambda c: c.count(shown) >= 2, TIMEOUT):
            self.fail("the paste client was not shown:\n" +
                      self.s.console[-3000:])
        self.weston.copy(H2G)
        self.wait_line("wl-pattern: ok pasted %d bytes: %s"
                       % (len(H2G.encode()), H2G))

    def test_3_copy_from_guest(self):
        self.wait_line("wl-pattern: ok copied")
        self.wait_line("wl-pattern: ok sent %d bytes" % len(G2H.encode()))
        self.assertEqual(self.weston.paste(timeout=60, expect=G2H), G2H)

    def test_4_weston_simple_shm(self):
        self.wait_line("wl-pattern: ok copied")
        pattern = gfx_pattern.pattern_rgb(W, H)

        def shown(w, h, rgb):
            # simple-shm draws at the size kiosk-shell configures (the
            # output's): neither the copy client's image nor black.
            return ((w, h) == (W, H) and rgb != pattern and
                    rgb.count(0) < len(rgb) // 2)

        first = self.weston.wait_screenshot(shown, timeout=120)
        # It animates: frames keep coming through the proxy.
        self.weston.wait_screenshot(
            lambda w, h, rgb: shown(w, h, rgb) and rgb != first[2],
            timeout=60)

    def test_5_end(self):
        self.wait_line("wl-pattern: ok copied")
        # A new host selection cancels the guest's: the copy client ends,
        # and with it the guest's script.
        self.weston.copy(DONE)
        self.wait_line("wayland-test: done")
        rc = self.s.wait()
        self.assertEqual(rc, 0, self.s.hang)
        console = self.s.console
        self.assertIn("wayland-test: copy client exit=0", console)
        self.assertIn("wl-pattern: ok cancelled", console)
        connected = console.count("swede-wl-proxy: client ")
        self.assertNotIn("swede-wl-proxy: error", console)
        # Four clients (image, paste, copy, simple-shm), each connected,
        # closed by disconnecting and gone; nothing else.
        for n in range(1, 5):
            self.assertIn("swede-wl-proxy: client %d: connected" % n,
                          console)
            self.assertIn("swede-wl-proxy: client %d: gone" % n, console)
        self.assertEqual(connected, 4 * 3, console[-3000:])
        proxy = "\n".join(l for l in console.splitlines()
                          if l.startswith("swede-wl-proxy:"))
        self.assertEqual(console.count(": closing: disconnected"), 4, proxy)
        check_clean_log(self, self.s)
        # The proxy used the device as meant: no guest errors logged.
        self.assertNotIn("guest error", self.s.log)


if __name__ == "__main__":
    unittest.main()
