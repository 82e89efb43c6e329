# SPDX-License-Identifier: MIT
"""Boot tests: the unmodified Debian trixie riscv64 kernel with the kit's
initramfs (scripts/guest-kit) under swede's virt machine.

Each test (or test class) boots the guest once: /init is reached, a command
taken from the kernel command line (swede.cmd64, see guest/README.md) runs
and prints on the serial console, poweroff ends swede with status 0, reboot
resets the machine or, with -no-reboot, ends swede; a kernel panic with
panic=-1 -no-reboot ends swede with a non-zero status; -smp 1 and -smp 4.

The serial console is swede's stdout (-nographic), read through a pipe;
stdin is /dev/null, so swede must leave a non-tty stdin alone. Timeouts are
generous limits against hangs, never measurements.

Environment: SWEDE (binary, default build/swede), KIT (default kit),
BOOT_TIMEOUT (seconds per boot, default 180). Without a kit the tests skip,
except under scripts/test (SWEDE_TEST_REQUIRE_KIT=1), which builds the kit
first and treats a missing one as a failure.
"""
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SWEDE = os.environ.get("SWEDE", os.path.join(ROOT, "build", "swede"))
KIT = os.environ.get("KIT", os.path.join(ROOT, "kit"))
TIMEOUT = float(os.environ.get("BOOT_TIMEOUT", "180"))
REQUIRE_KIT = os.environ.get("SWEDE_TEST_REQUIRE_KIT") == "1"

KERNEL = os.path.join(KIT, "vmlinux")
INITRD = os.path.join(KIT, "initramfs.cpio.gz")
READY = "swede-init: ready"
SANITIZER = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|"
                       r"runtime error:|SUMMARY: UndefinedBehaviorSanitizer")


def kit_missing():
    missing = [p for p in (KERNEL, INITRD) if not os.path.isfile(p)]
    if not missing:
        return None
    return "guest kit missing (%s); run scripts/guest-kit" % ", ".join(missing)


def need_kit(test):
    why = kit_missing()
    if why:
        if REQUIRE_KIT:
            test.fail(why)
        test.skipTest(why)
    if not (os.path.isfile(SWEDE) and os.access(SWEDE, os.X_OK)):
        test.fail("swede binary not found at %s (build it or set SWEDE)"
                  % SWEDE)


class Swede:
    """One swede process: serial output (stdout) and log (stderr) are
    collected by reader threads; wait_for() blocks on a predicate over the
    console text."""

    def __init__(self, smp, command, extra_append="", extra_args=(),
                 nographic=True):
        append = "console=ttyS0 quiet"
        if command is not None:
            cmd64 = base64.b64encode(command.encode()).decode()
            append += " swede.cmd64=" + cmd64
        if extra_append:
            append += " " + extra_append
        # A human monitor on a socket: should the guest hang, the report
        # shows where every hart is (hang_report()).
        self._tmp = tempfile.mkdtemp(prefix="swede-boot-")
        self.monitor = os.path.join(self._tmp, "hmp.sock")
        self.hang = ""
        self.argv = [SWEDE, "-M", "virt", "-m", "512M", "-smp", str(smp),
                     *(["-nographic"] if nographic else []),
                     "-bios", "default",
                     "-kernel", KERNEL, "-initrd", INITRD,
                     "-append", append,
                     "-monitor", "unix:%s,server=on,wait=off" % self.monitor,
                     *extra_args]
        self._out = bytearray()
        self._err = bytearray()
        self._cond = threading.Condition()
        self._open = 2
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        for stream, buf in ((self.proc.stdout, self._out),
                            (self.proc.stderr, self._err)):
            threading.Thread(target=self._pump, args=(stream, buf),
                             daemon=True).start()

    def _pump(self, stream, buf):
        while True:
            try:
                chunk = stream.read1(65536)
            except (OSError, ValueError):
                chunk = b""
            with self._cond:
                if not chunk:
                    stream.close()
                    self._open -= 1
                    self._cond.notify_all()
                    return
                buf += chunk
                self._cond.notify_all()

    @property
    def console(self):
        with self._cond:
            data = bytes(self._out)
        return data.decode("utf-8", "replace").replace("\r\n", "\n")

    @property
    def log(self):
        with self._cond:
            data = bytes(self._err)
        return data.decode("utf-8", "replace")

    def wait_for(self, pred, timeout=TIMEOUT):
        """Wait until pred(console text) is true or the output ends."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = bytes(self._out).decode("utf-8", "replace")
                if pred(text.replace("\r\n", "\n")):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or self._open == 0:
                    return False
                self._cond.wait(min(left, 1.0))

    def wait(self, timeout=TIMEOUT):
        """Exit status, or None (and the process killed) on timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.hang = self.hang_report()
            self.kill()
            return None
        self._drain()
        return rc

    def _drain(self):
        with self._cond:
            end = time.monotonic() + 10
            while self._open and time.monotonic() < end:
                self._cond.wait(0.5)

    def stop(self):
        """SIGTERM (swede exits 0), then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self._tmp, ignore_errors=True)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._drain()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def hmp(self, command, timeout=10):
        """One human-monitor command's output (empty on any failure)."""
        out = b""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sk:
                sk.settimeout(timeout)
                sk.connect(self.monitor)
                while not out.endswith(b"(qemu) "):
                    chunk = sk.recv(65536)
                    if not chunk:
                        return ""
                    out += chunk
                out = b""
                sk.sendall(command.encode() + b"\n")
                while not out.endswith(b"(qemu) "):
                    chunk = sk.recv(65536)
                    if not chunk:
                        break
                    out += chunk
        except OSError:
            return ""
        return out.decode("utf-8", "replace")

    def hang_report(self):
        """Where each hart is, three times a second apart: privilege, pc
        and the interrupt state, one line per hart."""
        keys = ("priv", "pc", "mstatus", "mip", "mie", "sepc", "scause")
        lines = []
        for sample in range(3):
            if sample:
                time.sleep(1)
            cpu = None
            regs = {}
            for line in (self.hmp("info registers -a") + "\nCPU#end").split(
                    "\n"):
                line = line.strip()
                if line.startswith("CPU#"):
                    if cpu is not None:
                        lines.append("sample %d cpu %s: %s" % (
                            sample, cpu,
                            " ".join("%s=%s" % (k, regs.get(k, "?"))
                                     for k in keys)))
                    cpu, regs = line[4:], {}
                    continue
                f = line.split()
                if len(f) == 2 and f[0] in keys:
                    regs[f[0]] = f[1].lstrip("0") or "0"
        return "\n".join(lines) if lines else "(the monitor did not answer)"

    def report(self):
        """The tail of the console and the log, for failure messages."""
        con = self.console[-4000:]
        err = self.log[-3000:]
        hang = ("--- harts at the timeout ---\n%s\n" % self.hang
                if self.hang else "")
        return ("\ncommand: %s\n%s--- console (tail) ---\n%s\n"
                "--- stderr (tail) ---\n%s" % (" ".join(self.argv), hang,
                                                con, err))


def boot(test, smp, command, extra_append="", extra_args=(),
         nographic=True):
    """Start swede for test (the caller stops or kills it)."""
    need_kit(test)
    return Swede(smp, command, extra_append, extra_args, nographic)


def run_to_end(test, smp, command, extra_append="", extra_args=()):
    """Boot, wait for swede to exit; returns (Swede, exit status)."""
    s = boot(test, smp, command, extra_append, extra_args)
    try:
        rc = s.wait()
    finally:
        s.kill()
    if rc is None:
        test.fail("swede did not exit within %ds%s" % (TIMEOUT, s.report()))
    return s, rc


def check_clean_log(test, s):
    m = SANITIZER.search(s.log)
    if m:
        test.fail("sanitizer report on stderr%s" % s.report())


class BootSmp1(unittest.TestCase):
    """-smp 1: /init runs the command line's command; poweroff -> 0."""

    def test_command_runs_and_poweroff_exits_0(self):
        cmd = ('echo "swede-test: $(uname -m) $((6 * 7)) $(uname -r)"; '
               'exit 3')
        s, rc = run_to_end(self, 1, cmd)
        con = s.console
        self.assertIn(READY, con, s.report())
        self.assertIn("swede-init: cpus=1", con, s.report())
        m = re.search(r"^swede-test: (\S+) (\d+) (\S+)$", con, re.M)
        self.assertTrue(m, "command output missing" + s.report())
        self.assertEqual(m.group(1), "riscv64")
        self.assertEqual(m.group(2), "42")
        try:
            with open(os.path.join(KIT, "kernel-version")) as f:
                self.assertEqual(m.group(3), f.read().strip(),
                                 "not the kit's kernel")
        except FileNotFoundError:
            pass
        # The command's own status is reported; the machine still powers
        # off normally.
        self.assertIn("swede-init: cmd exit=3", con, s.report())
        self.assertEqual(rc, 0, "poweroff must end swede with 0" + s.report())
        check_clean_log(self, s)


class BootSmp4(unittest.TestCase):
    """-smp 4: one boot, a group of checks on what the guest sees."""

    CHECKS = r"""
echo "chk nproc=$(nproc)"
echo "chk online=$(cat /sys/devices/system/cpu/online)"
echo "chk processors=$(grep -c '^processor' /proc/cpuinfo)"
grep '^isa' /proc/cpuinfo | sed 's/^/chk /'
grep -E 'ttyS0$' /proc/interrupts | sed 's/^/chk irq /'
echo "chk year=$(date +%Y)"
echo "chk rtc_epoch=$(cat /sys/class/rtc/rtc0/since_epoch)"
echo "chk rtc_name=$(cat /sys/class/rtc/rtc0/name)"
hwclock -r >/dev/null 2>&1; echo "chk hwclock=$?"
for c in 1 2 3 4 5 6; do
    (i=0; while [ $i -lt 300 ]; do
        echo "burst $c $i $(cat /proc/loadavg)"; i=$((i+1))
    done) &
done
wait
echo "chk done"
"""

    @classmethod
    def setUpClass(cls):
        cls.s = None
        cls.rc = None
        if kit_missing() and not REQUIRE_KIT:
            raise unittest.SkipTest(kit_missing())
        cls.host_t0 = time.time()
        cls.s = Swede(4, cls.CHECKS)
        try:
            cls.rc = cls.s.wait()
        finally:
            cls.s.kill()
        cls.host_t1 = time.time()
        cls.chk = {}
        cls.lines = []
        for line in cls.s.console.splitlines():
            if line.startswith("chk "):
                cls.lines.append(line[4:])
                k, sep, v = line[4:].partition("=")
                if sep:
                    cls.chk[k] = v

    def setUp(self):
        need_kit(self)
        if self.rc is None:
            self.fail("swede did not exit within %ds%s"
                      % (TIMEOUT, self.s.report()))

    def test_guest_sees_4_cpus(self):
        con = self.s.console
        self.assertIn("swede-init: cpus=4", con, self.s.report())
        self.assertEqual(self.chk.get("nproc"), "4", self.s.report())
        self.assertEqual(self.chk.get("online"), "0-3", self.s.report())
        self.assertEqual(self.chk.get("processors"), "4", self.s.report())

    def test_command_ran_and_poweroff_exits_0(self):
        self.assertIn("done", self.lines, self.s.report())
        self.assertIn("swede-init: cmd exit=0", self.s.console,
                      self.s.report())
        self.assertEqual(self.rc, 0, self.s.report())
        check_clean_log(self, self.s)

    def test_isa_extensions(self):
        isa = [line.split(":", 1)[1].strip() for line in self.lines
               if line.startswith("isa")]
        self.assertEqual(len(isa), 4, "one isa line per hart" +
                         self.s.report())
        self.assertEqual(len(set(isa)), 1, "harts differ: %s" % isa)
        parts = isa[0].split("_")
        self.assertTrue(parts[0].startswith("rv64imafdc"), isa[0])
        for ext in ("zicsr", "zifencei"):
            self.assertIn(ext, parts, isa[0])

    def test_uart_interrupts(self):
        irq = [line for line in self.lines if line.startswith("irq ")]
        self.assertEqual(len(irq), 1, "no ttyS0 line in /proc/interrupts" +
                         self.s.report())
        # "irq  12:  10  0  0  0  SiFive PLIC  10 Edge  ttyS0"
        counts = irq[0].split(":", 1)[1].split()[:4]
        self.assertTrue(all(c.isdigit() for c in counts), irq[0])
        self.assertGreater(sum(int(c) for c in counts), 0,
                           "the UART never interrupted: " + irq[0])

    def test_console_burst_from_every_cpu(self):
        # Six writers on four CPUs: UART interrupts on one hart while the
        # others send it IPIs. OpenSBI delivers an IPI by setting mip.SSIP;
        # when that read-modify-write latched the PLIC's SEIP line into
        # mip, the hart took external interrupts forever and the guest
        # hung within about a thousand lines.
        got = re.findall(r"^burst ([1-6]) (\d+) [0-9. /]+$", self.s.console,
                         re.M)
        self.assertEqual(len(got), 1800, self.s.report())
        self.assertEqual(len(set(got)), 1800, "lines lost or doubled")

    def test_rtc(self):
        self.assertEqual(self.chk.get("hwclock"), "0",
                         "hwclock -r failed" + self.s.report())
        self.assertGreaterEqual(int(self.chk.get("year", "0")), 2024,
                                self.s.report())
        # The RTC carries the host's time (UTC seconds since the epoch);
        # a day of slack covers any slowness of the boot.
        epoch = int(self.chk.get("rtc_epoch") or 0)
        self.assertGreater(epoch, self.host_t0 - 86400, self.s.report())
        self.assertLess(epoch, self.host_t1 + 86400, self.s.report())


class BootReboot(unittest.TestCase):
    """reboot resets the machine; with -no-reboot it ends swede."""

    def test_reboot_resets_machine(self):
        # swede.reboot=1: /init ends with reboot -f, so without -no-reboot
        # the guest boots again and again; two passes through /init (each
        # having run its command) prove the reset.
        s = boot(self, 2, "echo swede-test: pass", "swede.reboot=1")
        try:
            ok = s.wait_for(lambda t: t.count(READY) >= 2 and
                            t.count("swede-init: cmd exit=0") >= 1)
            con = s.console
            exited = s.proc.poll()
        finally:
            s.stop()
        self.assertIsNone(exited, "swede exited (status %s) on reboot "
                          "without -no-reboot%s" % (exited, s.report()))
        self.assertTrue(ok, "no second boot within %ds%s"
                        % (TIMEOUT, s.report()))
        first = con.index(READY)
        second = con.index(READY, first + 1)
        self.assertIn("swede-init: cmd exit=0", con[first:second],
                      s.report())
        check_clean_log(self, s)

    def test_reboot_with_no_reboot_exits_0(self):
        s, rc = run_to_end(self, 1, "echo swede-test: pass",
                           "swede.reboot=1", ["-no-reboot"])
        con = s.console
        self.assertIn("swede-test: pass", con, s.report())
        self.assertIn("swede-init: cmd exit=0", con, s.report())
        self.assertEqual(con.count(READY), 1, s.report())
        self.assertEqual(rc, 0, s.report())
        check_clean_log(self, s)


class BootPanic(unittest.TestCase):
    """A guest kernel panic with panic=-1 -no-reboot: non-zero status."""

    def test_panic_exits_nonzero(self):
        s, rc = run_to_end(self, 1, "echo c > /proc/sysrq-trigger",
                           "panic=-1", ["-no-reboot"])
        con = s.console
        self.assertIn(READY, con, s.report())
        self.assertIn("Kernel panic", con, s.report())
        self.assertNotIn("swede-init: cmd exit", con, s.report())
        self.assertNotEqual(rc, 0, "a guest kernel panic must end swede "
                            "with a non-zero status" + s.report())


if __name__ == "__main__":
    unittest.main()
