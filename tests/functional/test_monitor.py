# SPDX-License-Identifier: MIT
"""The monitors without a guest kernel (docs/qmp.md): the machine runs a
four-byte firmware that loops forever, which is all the monitor needs.

- the human monitor on stdio (-monitor stdio), and the default mux of
  serial port and monitor on stdio (Ctrl-A c), driven through pipes;
- QMP on -chardev socket + -mon mode=control (reconnect: new greeting,
  negotiation again), HMP on -monitor unix:;
- a socat transcript: socat sends a scripted QMP session and its output,
  with timestamps and thread ids masked, must equal
  tests/functional/qmp_transcript.txt;
- bad -mon / -monitor / -serial mon: options fail before the guest runs.

Environment: SWEDE (the binary, default build/swede).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SWEDE = os.environ.get("SWEDE", os.path.join(ROOT, "build", "swede"))
TRANSCRIPT = os.path.join(HERE, "qmp_transcript.txt")
TIMEOUT = 30

# jal x0, 0: a firmware that spins at 0x80000000.
SPIN = bytes([0x6F, 0x00, 0x00, 0x00])


def connect(path, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.settimeout(timeout)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def read_until(sock, marker, timeout=TIMEOUT):
    """Bytes from sock up to and including marker (read a byte at a time,
    so nothing after the marker is consumed)."""
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(marker):
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        data = sock.recv(1)
        if not data:
            raise EOFError("closed before %r; got %r" % (marker, buf))
        buf += data
    return buf


class Monitors(unittest.TestCase):

    def setUp(self):
        if not (os.path.isfile(SWEDE) and os.access(SWEDE, os.X_OK)):
            self.fail("swede binary not found at %s" % SWEDE)
        self.tmp = tempfile.TemporaryDirectory()
        self.fw = os.path.join(self.tmp.name, "spin.bin")
        with open(self.fw, "wb") as f:
            f.write(SPIN)

    def tearDown(self):
        self.tmp.cleanup()

    def argv(self, *extra):
        return [SWEDE, "-M", "virt", "-m", "64M", "-bios", self.fw, *extra]

    def run_piped(self, args, chunks):
        """Run swede with chunks written to stdin (a pause between), then
        stdin left open until swede exits; returns (rc, stdout, stderr)."""
        p = subprocess.Popen(self.argv(*args), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for c in chunks:
                p.stdin.write(c)
                p.stdin.flush()
                time.sleep(0.3)
            out, err = p.communicate(timeout=TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return p.returncode, out.decode(errors="replace"), \
            err.decode(errors="replace")

    def test_monitor_stdio(self):
        rc, out, err = self.run_piped(
            ["-serial", "null", "-monitor", "stdio", "-name", "mon-test"],
            [b"info status\n", b"info name\ninfo version\n",
             b"stop\ninfo status\n", b"info registers\n",
             b"info mtree\ninfo chardev\n", b"help\nnosuch\n", b"quit\n"])
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"QEMU 8\.2\.0 monitor .*type 'help'")
        self.assertIn("(qemu) ", out)
        self.assertIn("VM status: running\r\n", out)
        self.assertIn("mon-test\r\n", out)
        self.assertIn("8.2.0 (swede ", out)
        self.assertIn("VM status: paused\r\n", out)
        # The spinning firmware is at its first instruction, in M-mode.
        self.assertRegex(out, r" pc +0000000080000000\r\n")
        self.assertRegex(out, r" priv +M\r\n")
        self.assertRegex(out, r"x10/a0 +0000000000000000")
        self.assertRegex(out, r"0000000080000000-0000000083ffffff "
                              r"\(prio 0, ram\): riscv_virt_board\.ram")
        self.assertRegex(out, r"000000000c000000-[0-9a-f]+ \(prio 0, i/o\): "
                              r"plic")
        self.assertIn("compat_monitor0: filename=stdio\r\n", out)
        self.assertIn("serial0: filename=null\r\n", out)
        self.assertIn("system_powerdown", out)
        self.assertIn("unknown command: 'nosuch'\r\n", out)

    def test_default_mux_ctrl_a_c(self):
        # No -serial and no -monitor: serial and monitor share stdio; the
        # console has the input until Ctrl-A c.
        rc, out, err = self.run_piped(
            [], [b"info status\n", b"\x01c", b"info status\n", b"\x01h",
                 b"quit\n"])
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count("VM status: running"), 1, out)
        self.assertIn("C-a c    switch between console and monitor", out)
        # -nodefaults: no monitor, Ctrl-A c does nothing, Ctrl-A x quits.
        rc, out, err = self.run_piped(
            ["-nodefaults", "-serial", "stdio"],
            [b"\x01c", b"info status\n", b"\x01x"])
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn("VM status", out)

    def test_chardev_socket_monitors(self):
        qmp = os.path.join(self.tmp.name, "qmp.sock")
        hmp = os.path.join(self.tmp.name, "hmp.sock")
        p = subprocess.Popen(self.argv(
            "-nodefaults",
            "-chardev", "socket,id=mon0,path=%s,server=on,wait=off" % qmp,
            "-mon", "chardev=mon0,mode=control",
            "-monitor", "unix:%s,server=on,wait=off" % hmp),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        try:
            # QMP on the chardev: each connection is a new session.
            for _ in range(2):
                s = connect(qmp)
                greet = json.loads(read_until(s, b"\r\n"))
                self.assertIn("QMP", greet)
                s.sendall(b'{"execute":"query-status"}\n')
                r = json.loads(read_until(s, b"\r\n"))
                self.assertEqual(r["error"]["class"], "CommandNotFound")
                s.sendall(b'{"execute":"qmp_capabilities"}\n'
                          b'{"execute":"query-chardev","id":1}\n')
                read_until(s, b"\r\n")
                r = json.loads(read_until(s, b"\r\n"))
                labels = {c["label"]: c for c in r["return"]}
                self.assertEqual(labels["mon0"]["filename"],
                                 "unix:%s,server=on" % qmp)
                self.assertEqual(labels["compat_monitor0"]["filename"],
                                 "disconnected:unix:%s,server=on" % hmp)
                s.close()
                time.sleep(0.2)
            # HMP on the unix socket.
            h = connect(hmp)
            banner = read_until(h, b"(qemu) ")
            self.assertIn(b"monitor", banner)
            h.sendall(b"info status\r\n")
            self.assertIn(b"VM status: running\r\n",
                          read_until(h, b"(qemu) "))
            h.sendall(b"quit\r\n")
            self.assertEqual(p.wait(timeout=TIMEOUT), 0)
            self.assertFalse(os.path.exists(qmp))
        finally:
            if p.poll() is None:
                p.kill()
            p.communicate()

    def test_socat_transcript(self):
        socat = shutil.which("socat")
        if not socat:
            self.fail("socat not installed (scripts/install-deps)")
        qmp = os.path.join(self.tmp.name, "qmp.sock")
        p = subprocess.Popen(self.argv(
            "-nodefaults", "-S", "-name", "transcript",
            "-qmp", "unix:%s,server=on,wait=off" % qmp),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        try:
            connect(qmp).close()  # wait for the socket
            time.sleep(0.2)
            with open(TRANSCRIPT) as f:
                want = f.read()
            script = "".join(l[3:] for l in want.splitlines(True)
                             if l.startswith(">> "))
            r = subprocess.run([socat, "-t", "10", "STDIO",
                                "UNIX-CONNECT:" + qmp],
                               input=script.encode(), capture_output=True,
                               timeout=TIMEOUT)
            got = r.stdout.decode()
            self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        finally:
            if p.poll() is None:
                p.kill()
            p.communicate()
        got = re.sub(r'"seconds": \d+, "microseconds": \d+',
                     '"seconds": S, "microseconds": US', got)
        got = re.sub(r'"thread-id": \d+', '"thread-id": T', got)
        got = re.sub(r'"present": (true|false)', '"present": P', got)
        self.assertTrue(all(l.endswith("\r\n")
                            for l in got.splitlines(True)), repr(got))
        expect = "".join(l[3:] for l in want.splitlines(True)
                         if l.startswith("<< "))
        self.assertEqual(got.replace("\r\n", "\n"), expect)

    def test_bad_monitor_options(self):
        cases = [
            (["-mon", "mode=control"], "-mon"),
            (["-mon", "chardev=nope"], "nope"),
            (["-chardev", "null,id=c0", "-mon", "chardev=c0,mode=fancy"],
             "mode"),
            (["-chardev", "null,id=c0", "-mon", "chardev=c0,pretty=on"],
             "pretty"),
            (["-monitor", "tcp:nowhere"], "-monitor"),
            (["-serial", "mon:null"], "mon:stdio"),
            (["-serial", "stdio", "-monitor", "stdio"], "stdio"),
        ]
        for args, word in cases:
            r = subprocess.run(self.argv(*args), stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=TIMEOUT)
            err = r.stderr.decode()
            self.assertEqual(r.returncode, 1, (args, err))
            self.assertEqual(len(err.strip().splitlines()), 1, (args, err))
            self.assertIn(word, err, args)


if __name__ == "__main__":
    unittest.main()
