# SPDX-License-Identifier: MIT
"""virtio-gpu-rutabaga-device (cross-domain) with the real guest: Debian's
kernel and its virtio_gpu driver, driven by the kit's /bin/virtgpu-ctx
(guest/virtgpu-ctx.c). One boot:

  swede -smp 1 -device virtio-gpu-rutabaga-device,cross-domain=on,
  hostmem=64M,wayland-socket-path=SOCK

where SOCK is a fake compositor in this test: a Unix socket server that
accepts connections, sends HELLO on each, keeps them open, records what
the guest sends and echoes it back. The guest program checks, one line each:

  getparam      3D_FEATURES, CAPSET_QUERY_FIX, RESOURCE_BLOB, HOST_VISIBLE,
                CROSS_DEVICE, CONTEXT_INIT are 1; SUPPORTED_CAPSET_IDs has
                bit 5 (cross-domain)
  get_caps      capset 5: version 1, supported_channels 0x2 (Wayland)
  context_init  CAPSET_ID 5, NUM_RINGS 2, POLL_RINGS_MASK 0x2 (a second
                init is EEXIST)
  rings         two GUEST|MAPPABLE page blobs (query and channel rings)
  cd_init       cross-domain INIT through EXECBUFFER (with a query after
                it in the same buffer, answered only if INIT worked),
                out-fence signalled; the compositor sees one connection
  image_reqs    GET_IMAGE_REQUIREMENTS 10x10 XR24 on ring 0: stride 40,
                size 4096, even blob id >= 4, map_info CACHED
  wait          DRM_IOCTL_VIRTGPU_WAIT on the query bo
  host3d_blob   HOST3D|MAPPABLE blob from that id: MAP (the hostmem
                region) + mmap, pattern written and read back
  guest_blob    GUEST|MAPPABLE blob: mmap, pattern written and read back
  fence_ring0   EXECBUFFER RING_IDX 0 + FENCE_FD_OUT: the fence fd signals
  fence_ring1   EXECBUFFER RING_IDX 1 (POLL) + FENCE_FD_OUT: the fence fd
                signals once HELLO arrives, a 0x90000000 DRM event is
                read, the channel ring holds RECEIVE with HELLO
  send          SEND of PING: the compositor receives exactly PING, and
                its echo comes back through a second ring-1 POLL

Environment as tests/functional/test_boot.py (SWEDE, KIT, BOOT_TIMEOUT).
"""
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import unittest

from test_boot import (REQUIRE_KIT, SWEDE, Swede, check_clean_log,
                       kit_missing, need_kit)

HELLO = b"virtgpu-ctx-hello"
PING = b"virtgpu-ctx-ping"
POINTS = ("getparam", "get_caps", "context_init", "rings", "cd_init",
          "image_reqs", "wait", "host3d_blob", "guest_blob", "fence_ring0",
          "fence_ring1", "send")


class FakeCompositor:
    """Accepts connections on a Unix socket, sends HELLO on each and keeps
    it open; what clients send is collected in received and echoed
    back."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(0.5)
        self.conns = []
        self.readers = []
        self.received = bytearray()
        self.lock = threading.Lock()
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_flag:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            c.sendall(HELLO)
            t = threading.Thread(target=self._reader, args=(c,),
                                 daemon=True)
            t.start()
            self.readers.append(t)

    def _reader(self, c):
        while True:
            try:
                data = c.recv(4096)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.received += data
            try:
                c.sendall(data)  # the guest expects its SEND echoed
            except OSError:
                return

    def close(self):
        self.stop_flag = True
        self.thread.join(5)
        self.sock.close()
        # swede has exited: its ends are closed, the readers see EOF.
        for t in self.readers:
            t.join(5)
        with self.lock:
            for c in self.conns:
                c.close()


class RutabagaCrossDomain(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.s = None
        cls.rc = None
        if kit_missing() and not REQUIRE_KIT:
            raise unittest.SkipTest(kit_missing())
        if kit_missing() or not os.access(SWEDE, os.X_OK):
            return  # setUp fails every test (need_kit says why)
        cls.tmp = tempfile.mkdtemp(prefix="swede-rutabaga-")
        cls.comp = FakeCompositor(os.path.join(cls.tmp, "wayland-0"))
        dev = ("virtio-gpu-rutabaga-device,cross-domain=on,hostmem=64M,"
               "wayland-socket-path=%s" % cls.comp.path)
        t0 = time.monotonic()
        try:
            cls.s = Swede(1, "virtgpu-ctx", extra_args=("-device", dev))
            try:
                cls.rc = cls.s.wait()
            finally:
                cls.s.kill()
        finally:
            cls.comp.close()
            shutil.rmtree(cls.tmp, ignore_errors=True)
        cls.seconds = time.monotonic() - t0
        cls.ok = {}
        cls.lines = []
        for line in cls.s.console.splitlines():
            if not line.startswith("virtgpu-ctx: "):
                continue
            cls.lines.append(line)
            m = re.match(r"virtgpu-ctx: ok (\S+) ?(.*)$", line)
            if m:
                cls.ok[m.group(1)] = m.group(2)

    def setUp(self):
        need_kit(self)
        if self.rc is None:
            self.fail("swede did not start or did not exit within the "
                      "timeout%s" % (self.s.report() if self.s else ""))

    def point(self, name):
        """The details of name's ok line (fails if there is none)."""
        if name not in self.ok:
            fails = [l for l in self.lines if " FAIL %s:" % name in l]
            self.fail("no ok line for %s (%s)%s" % (
                name, fails[0] if fails else "no line at all",
                self.s.report()))
        return self.ok[name]

    def test_getparam(self):
        d = self.point("getparam")
        for p in ("3d_features", "capset_query_fix", "resource_blob",
                  "host_visible", "cross_device", "context_init"):
            self.assertIn("%s=1" % p, d)
        m = re.search(r"capset_ids=0x([0-9a-f]+)", d)
        self.assertTrue(m, d)
        self.assertTrue(int(m.group(1), 16) & (1 << 5), d)

    def test_get_caps(self):
        self.assertEqual(self.point("get_caps"),
                         "version=1 channels=0x2 dmabuf=0 external=0")

    def test_context_init(self):
        self.assertEqual(self.point("context_init"),
                         "capset=5 num_rings=2 poll_rings_mask=0x2")

    def test_rings(self):
        self.assertIn("size=4096", self.point("rings"))

    def test_cross_domain_init(self):
        self.assertIn("channel=wayland", self.point("cd_init"))
        self.assertEqual(len(self.comp.conns), 1,
                         "compositor connections: %d" % len(self.comp.conns))

    def test_image_requirements(self):
        d = self.point("image_reqs")
        m = re.match(r"10x10 XR24 stride=40 size=4096 blob_id=(\d+) "
                     r"map_info=1$", d)
        self.assertTrue(m, d)
        self.assertEqual(int(m.group(1)) % 2, 0)
        self.assertGreaterEqual(int(m.group(1)), 4)

    def test_wait(self):
        self.assertIn("idle", self.point("wait"))

    def test_host3d_blob_map(self):
        d = self.point("host3d_blob")
        self.assertIn("size=4096 pattern ok", d)

    def test_guest_blob(self):
        self.assertIn("size=16384 pattern ok", self.point("guest_blob"))

    def test_fence_ring0(self):
        self.assertEqual(self.point("fence_ring0"),
                         "signalled reply stride=256 size=16384")

    def test_fence_ring1_poll(self):
        self.assertEqual(self.point("fence_ring1"),
                         'signalled event=0x90000000 receive="%s"'
                         % HELLO.decode())

    def test_send(self):
        self.assertEqual(self.point("send"),
                         '"%s" %d bytes, echoed back'
                         % (PING.decode(), len(PING)))
        self.assertEqual(bytes(self.comp.received), PING)

    def test_every_point_and_exit(self):
        fails = [l for l in self.lines if " FAIL " in l]
        self.assertEqual(fails, [], self.s.report())
        self.assertEqual(sorted(self.ok), sorted(POINTS), self.s.report())
        con = self.s.console
        self.assertIn("virtgpu-ctx: done", con, self.s.report())
        self.assertIn("swede-init: cmd exit=0", con, self.s.report())
        self.assertEqual(self.rc, 0, self.s.report())

    def test_clean_log(self):
        check_clean_log(self, self.s)
        # The device logs every guest command it refuses.
        bad = [l for l in self.s.log.splitlines()
               if "cross-domain" in l or "virtio-gpu" in l]
        self.assertEqual(bad, [], self.s.report())


if __name__ == "__main__":
    unittest.main()
