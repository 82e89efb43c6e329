# SPDX-License-Identifier: MIT
"""Virtio device tests: the kit's Debian kernel drives swede's virtio-mmio
devices made from -device, -drive and -chardev.

Three boots:
  VirtioDevices  one boot with a virtio-blk disk the host prefilled (read
                 back, then written by the guest and checked on the host
                 after poweroff), a read-only disk (writes refused), an
                 entropy source, virtio-serial with a virtconsole on a
                 -chardev socket (guest output reaches the host, host input
                 reaches the guest), and the three virtio-input devices;
  VirtioFlush    the guest writes with conv=fsync and says so; the host
                 kills swede with SIGKILL at once, and the data is in the
                 image;
  VirtioHvcConsole  console=hvc0: the kernel's console on the virtio
                 console, with -serial null; kernel messages arrive through
                 the -chardev.

Timeouts are limits against hangs, never measurements. Without a kit the
tests skip (see test_boot.py); SWEDE, KIT and BOOT_TIMEOUT as there.
"""
import hashlib
import os
import re
import socket
import tempfile
import threading
import time
import unittest

from test_boot import (REQUIRE_KIT, Swede, check_clean_log, kit_missing,
                       need_kit)

TIMEOUT = float(os.environ.get("BOOT_TIMEOUT", "300"))
MiB = 1 << 20

# What the host writes into the second MiB of the disk, and what the guest
# writes at 4 MiB (busybox `yes` output cut to 1 MiB).
HOST_PATTERN = bytes((i * 7 + 3) % 251 for i in range(MiB))
GUEST_LINE = b"swede-guest-pattern\n"
GUEST_PATTERN = (GUEST_LINE * (MiB // len(GUEST_LINE) + 1))[:MiB]
FLUSH_LINE = b"swede-flush-pattern\n"
FLUSH_PATTERN = (FLUSH_LINE * (MiB // len(FLUSH_LINE) + 1))[:MiB]

# The guest tells the disks apart by size (in 512-byte sectors), not by
# name: which one becomes vda is the virtio-mmio slot order's business.
MAIN_SIZE = 16 * MiB
RO_SIZE = 8 * MiB

DISK_FIND = r"""
main=; ro=
for d in /sys/block/vd*; do
  [ -e "$d" ] || continue
  n=${d##*/}
  sz=$(cat $d/size)
  echo "chk disk $n sectors=$sz ro=$(cat $d/ro)"
  [ "$sz" = %d ] && main=/dev/$n
  [ "$sz" = %d ] && ro=/dev/$n
done
echo "chk main=$main"
echo "chk ro=$ro"
""" % (MAIN_SIZE // 512, RO_SIZE // 512)

CHECKS = DISK_FIND + r"""
echo "chk host_md5=$(dd if=$main bs=1M skip=1 count=1 2>/dev/null | md5sum | cut -d' ' -f1)"
yes swede-guest-pattern | head -c 1048576 > /tmp/p
dd if=/tmp/p of=$main bs=1M seek=4 count=1 conv=fsync 2>/dev/null
echo "chk guest_write=$?"
sync
echo "chk readback_md5=$(dd if=$main bs=1M skip=4 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
dd if=/dev/zero of=$ro bs=4096 count=1 conv=fsync 2>/dev/null
echo "chk ro_write=$?"
echo "chk ro_getro=$(blockdev --getro $ro 2>/dev/null)"
echo "chk ro_sysfs=$(cat /sys/block/${ro##*/}/ro)"
echo "chk rng_bytes=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)"
echo "chk rng_current=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
grep -o 'QEMU Virtio [A-Za-z]*' /proc/bus/input/devices | sed 's/^/chk input /'
echo "chk hvc_exists=$([ -c /dev/hvc0 ] && echo yes || echo no)"
echo swede-hvc-out-4242 > /dev/hvc0
echo "chk hvc_write=$?"
stty -F /dev/hvc0 -echo 2>/dev/null
exec 3<>/dev/hvc0
echo swede-hvc-ready >&3
line=
read -t 60 line <&3
exec 3<&-
echo "chk hvc_in=$line"
echo "chk done"
"""

# The kernel command line holds 1 KiB at most, too little for CHECKS in
# base64: the command line carries this loader, and CHECKS sits at the
# start of the 16 MiB disk (zero-padded; the host data starts at 1 MiB).
LOADER = (r"""for d in /sys/block/vd*; do [ "$(cat $d/size)" = %d ] && """
          r"""dd if=/dev/${d##*/} bs=65536 count=1 2>/dev/null | """
          r"""tr -d '\000' > /tmp/s; done; sh /tmp/s""" % (MAIN_SIZE // 512))


def chk_dict(console):
    d, lines = {}, []
    for line in console.splitlines():
        if line.startswith("chk "):
            lines.append(line[4:])
            k, sep, v = line[4:].partition("=")
            if sep:
                d[k] = v.strip()
    return d, lines


def make_image(path, size, fill_second_mib=None, script=None):
    with open(path, "wb") as f:
        f.truncate(size)
        if script is not None:
            data = script.encode()
            assert len(data) < 65536
            f.write(data)
        if fill_second_mib is not None:
            f.seek(MiB)
            f.write(fill_second_mib)


class SocketReader:
    """Connects to a -chardev socket,server=on,wait=off once it exists;
    collects what arrives and can send."""

    def __init__(self, path, timeout=60):
        self.path = path
        self.data = bytearray()
        self.cond = threading.Condition()
        self.sock = None
        self.closed = False
        deadline = time.monotonic() + timeout
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.data += chunk
                self.cond.notify_all()

    def wait_for(self, needle, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while needle not in self.data:
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return False
                self.cond.wait(min(left, 1.0))
            return True

    def send(self, data):
        self.sock.sendall(data)

    def text(self):
        with self.cond:
            return bytes(self.data).decode("utf-8", "replace")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def skip_without_kit():
    if kit_missing() and not REQUIRE_KIT:
        raise unittest.SkipTest(kit_missing())


class VirtioDevices(unittest.TestCase):
    """One boot with disks, rng, virtio-serial console and input."""

    @classmethod
    def setUpClass(cls):
        cls.s = None
        cls.rc = None
        skip_without_kit()
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.disk = os.path.join(d, "disk.img")
        make_image(cls.disk, MAIN_SIZE, HOST_PATTERN, CHECKS)
        cls.rodisk = os.path.join(d, "ro.img")
        make_image(cls.rodisk, RO_SIZE, HOST_PATTERN)
        with open(cls.rodisk, "rb") as f:
            cls.ro_before = hashlib.md5(f.read()).hexdigest()
        cls.sockpath = os.path.join(d, "hvc.sock")
        args = [
            "-drive", "file=%s,format=raw,if=none,id=d0" % cls.disk,
            "-device", "virtio-blk-device,drive=d0",
            "-drive", "file=%s,format=raw,if=none,id=d1,readonly=on"
            % cls.rodisk,
            "-device", "virtio-blk-device,drive=d1",
            "-device", "virtio-rng-device",
            "-chardev", "socket,id=c0,path=%s,server=on,wait=off"
            % cls.sockpath,
            "-device", "virtio-serial-device",
            "-device", "virtconsole,chardev=c0",
            "-device", "virtio-keyboard-device",
            "-device", "virtio-tablet-device",
            "-device", "virtio-mouse-device",
        ]
        cls.s = Swede(1, LOADER, extra_args=args)
        cls.hvc = None
        cls.hvc_error = None
        try:
            try:
                cls.hvc = SocketReader(cls.sockpath)
            except OSError as e:
                cls.hvc_error = "cannot connect to %s: %s" % (cls.sockpath,
                                                              e)
            if cls.hvc and cls.hvc.wait_for(b"swede-hvc-ready", TIMEOUT):
                cls.hvc.send(b"hello-from-host\n")
            cls.rc = cls.s.wait(TIMEOUT)
        finally:
            cls.s.kill()
            if cls.hvc:
                cls.hvc.close()
        cls.chk, cls.lines = chk_dict(cls.s.console)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "tmp", None):
            cls.tmp.cleanup()

    def setUp(self):
        need_kit(self)
        if self.rc is None:
            self.fail("swede did not exit within %ds%s"
                      % (TIMEOUT, self.s.report()))

    def test_ran_to_poweroff(self):
        self.assertIn("done", self.lines, self.s.report())
        self.assertEqual(self.rc, 0, self.s.report())
        check_clean_log(self, self.s)

    def test_disk_reads_host_data(self):
        self.assertTrue(self.chk.get("main"), "no 16 MiB virtio disk" +
                        self.s.report())
        self.assertEqual(self.chk.get("host_md5"),
                         hashlib.md5(HOST_PATTERN).hexdigest(),
                         self.s.report())

    def test_guest_write_reaches_image(self):
        self.assertEqual(self.chk.get("guest_write"), "0", self.s.report())
        self.assertEqual(self.chk.get("readback_md5"),
                         hashlib.md5(GUEST_PATTERN).hexdigest(),
                         self.s.report())
        with open(self.disk, "rb") as f:
            f.seek(4 * MiB)
            got = f.read(MiB)
            f.seek(MiB)
            host = f.read(MiB)
        self.assertTrue(got == GUEST_PATTERN,
                        "the image lacks the guest's data at 4 MiB" +
                        self.s.report())
        self.assertTrue(host == HOST_PATTERN, "the host's data changed")

    def test_readonly_disk(self):
        self.assertTrue(self.chk.get("ro"), "no 8 MiB virtio disk" +
                        self.s.report())
        self.assertNotEqual(self.chk.get("ro_write"), "0",
                            "a write to the read-only disk succeeded" +
                            self.s.report())
        self.assertEqual(self.chk.get("ro_sysfs"), "1", self.s.report())
        self.assertEqual(self.chk.get("ro_getro"), "1", self.s.report())
        with open(self.rodisk, "rb") as f:
            self.assertEqual(hashlib.md5(f.read()).hexdigest(),
                             self.ro_before, "the read-only image changed")

    def test_rng(self):
        self.assertEqual(self.chk.get("rng_bytes"), "64", self.s.report())
        self.assertIn("virtio_rng", self.chk.get("rng_current", ""),
                      self.s.report())

    def test_input_devices(self):
        names = [line[len("input "):] for line in self.lines
                 if line.startswith("input ")]
        for want in ("QEMU Virtio Keyboard", "QEMU Virtio Tablet",
                     "QEMU Virtio Mouse"):
            self.assertIn(want, names, self.s.report())

    def test_virtconsole_output_reaches_host(self):
        self.assertIsNone(self.hvc_error, self.hvc_error)
        self.assertEqual(self.chk.get("hvc_exists"), "yes", self.s.report())
        self.assertEqual(self.chk.get("hvc_write"), "0", self.s.report())
        self.assertIn("swede-hvc-out-4242", self.hvc.text(),
                      "nothing from /dev/hvc0 on the chardev socket" +
                      self.s.report())

    def test_virtconsole_input_reaches_guest(self):
        self.assertIsNone(self.hvc_error, self.hvc_error)
        self.assertEqual(self.chk.get("hvc_in"), "hello-from-host",
                         self.s.report())


class VirtioFlush(unittest.TestCase):
    """A write the guest fsync'ed survives swede being SIGKILLed."""

    # The only virtio disk: /dev/vda.
    CMD = r"""
yes swede-flush-pattern | head -c 1048576 > /tmp/p
dd if=/tmp/p of=/dev/vda bs=1M seek=2 count=1 conv=fsync 2>/dev/null
echo "swede-flush: done rc=$?"
sleep 600
"""

    def test_fsynced_write_survives_sigkill(self):
        need_kit(self)
        with tempfile.TemporaryDirectory() as d:
            disk = os.path.join(d, "disk.img")
            make_image(disk, MAIN_SIZE, HOST_PATTERN)
            s = Swede(1, self.CMD, extra_args=[
                "-drive", "file=%s,format=raw,if=none,id=d0" % disk,
                "-device", "virtio-blk-device,drive=d0"])
            try:
                ok = s.wait_for(
                    lambda t: re.search(r"swede-flush: done rc=\d+\n", t),
                    TIMEOUT)
                if ok:
                    s.proc.kill()  # SIGKILL: no chance to flush anything
            finally:
                s.kill()
            self.assertTrue(ok, "the guest never reported its fsync" +
                            s.report())
            self.assertIn("swede-flush: done rc=0", s.console, s.report())
            with open(disk, "rb") as f:
                f.seek(2 * MiB)
                got = f.read(MiB)
            self.assertTrue(got == FLUSH_PATTERN,
                            "the fsync'ed data is not in the image after "
                            "SIGKILL" + s.report())


class VirtioHvcConsole(unittest.TestCase):
    """console=hvc0 with -serial null: the kernel's console output comes
    out of the virtconsole's -chardev."""

    CMD = r"""
echo "<2>swede-hvc: kmsg line" > /dev/kmsg
echo "swede-hvc: console line" > /dev/console
"""

    def test_kernel_console_on_hvc0(self):
        need_kit(self)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "hvc.log")
            s = Swede(1, self.CMD, extra_append="console=hvc0",
                      extra_args=[
                          "-serial", "null",
                          "-chardev", "file,id=c0,path=%s" % out,
                          "-device", "virtio-serial-device",
                          "-device", "virtconsole,chardev=c0"])
            try:
                rc = s.wait(TIMEOUT)
            finally:
                s.kill()
            if rc is None:
                self.fail("swede did not exit within %ds%s"
                          % (TIMEOUT, s.report()))
            try:
                with open(out, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                text = ""
            report = s.report() + "\n--- hvc0 (tail) ---\n" + text[-3000:]
            self.assertEqual(rc, 0, report)
            self.assertIn("swede-hvc: kmsg line", text, report)
            self.assertIn("swede-hvc: console line", text, report)
            self.assertEqual(s.console, "", "-serial null, yet the serial "
                             "port's output reached stdout" + report)
            check_clean_log(self, s)


if __name__ == "__main__":
    unittest.main()
