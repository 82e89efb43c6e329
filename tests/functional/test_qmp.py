# SPDX-License-Identifier: MIT
"""QMP over a unix socket (docs/qmp.md) against a booted guest, with a
small stdlib QMP client: greeting and negotiation, query-status, stop and
cont (STOP/RESUME events, the guest really pauses), system_reset (RESET
event, the guest boots again), quit (SHUTDOWN host-qmp-quit, status 0);
and -S (start paused, cont starts the guest). Two boots.

Environment as tests/functional/test_boot.py (SWEDE, KIT, BOOT_TIMEOUT).
"""
import json
import os
import re
import socket
import tempfile
import time
import unittest

from test_boot import READY, TIMEOUT, boot, check_clean_log

# The guest runs this instead of a shell, so it stays up until quit; it
# prints its uptime every second (the guest clock must not jump across a
# stop/cont).
IDLE = ("while :; do echo \"up=$(cut -d' ' -f1 /proc/uptime)\"; "
        "sleep 1; done")
UP = re.compile(r"up=([0-9.]+)")


class QMPClient:
    """One QMP connection: messages are CRLF-terminated JSON objects;
    events met while waiting for a reply are kept in self.events."""

    def __init__(self, path, timeout=TIMEOUT):
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events = []
        self.raw = []
        self.greeting = self._recv()
        self.next_id = 0

    def _recv(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        self.raw.append(line + b"\n")
        return json.loads(line)

    def cmd(self, name, **args):
        self.next_id += 1
        req = {"execute": name, "id": "t-%d" % self.next_id}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\r\n")
        while True:
            msg = self._recv()
            if "event" in msg:
                self.events.append(msg)
            elif msg.get("id") == req["id"]:
                return msg
            else:
                raise AssertionError("unexpected message %r" % msg)

    def event(self, name, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            msg = self._recv()
            if "event" in msg:
                self.events.append(msg)

    def close(self):
        self.sock.close()


class QMPBoot(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "qmp.sock")
        self.spec = "unix:%s,server=on,wait=off" % self.path

    def tearDown(self):
        self.tmp.cleanup()

    def test_lifecycle(self):
        s = boot(self, 1, IDLE, extra_args=("-qmp", self.spec))
        try:
            q = QMPClient(self.path)
            ver = q.greeting["QMP"]["version"]
            self.assertEqual(ver["qemu"]["major"], 8)
            self.assertTrue(ver["package"].startswith("swede"))
            self.assertIn("oob", q.greeting["QMP"]["capabilities"])
            r = q.cmd("query-status")
            self.assertEqual(r["error"]["class"], "CommandNotFound")
            self.assertEqual(q.cmd("qmp_capabilities")["return"], {})
            # Every message ends in CRLF.
            self.assertTrue(all(m.endswith(b"\r\n") for m in q.raw))
            # A second client, garbage from it changes nothing for q.
            q2 = QMPClient(self.path)
            q2.sock.sendall(b"\x00\xffjunk{\"a\":\n")
            self.assertTrue(s.wait_for(lambda t: len(UP.findall(t)) >= 2),
                            s.report())
            st = q.cmd("query-status")["return"]
            self.assertEqual(st, {"running": True, "status": "running"})
            self.assertEqual(q.cmd("query-target")["return"],
                             {"arch": "riscv64"})
            cpus = q.cmd("query-cpus-fast")["return"]
            self.assertEqual(len(cpus), 1)
            self.assertGreater(cpus[0]["thread-id"], 0)

            # stop: STOP event, paused, the guest prints nothing.
            self.assertEqual(q.cmd("stop")["return"], {})
            ev = q.event("STOP")
            self.assertIn("seconds", ev["timestamp"])
            self.assertEqual(q.cmd("query-status")["return"],
                             {"running": False, "status": "paused"})
            before = s.console
            time.sleep(3)
            self.assertEqual(s.console, before, "guest ran while stopped")
            # cont: RESUME, running again; the guest clock went on from
            # where it stopped (uptime steps stay near 1 s, not 4 s).
            self.assertEqual(q.cmd("cont")["return"], {})
            q.event("RESUME")
            self.assertTrue(q.cmd("query-status")["return"]["running"])
            n = len(UP.findall(before))
            self.assertTrue(s.wait_for(lambda t: len(UP.findall(t)) >= n + 2),
                            s.report())
            ups = [float(u) for u in UP.findall(s.console)]
            steps = [b - a for a, b in zip(ups, ups[1:])]
            self.assertLess(max(steps), 2.5, "uptime jumped: %r" % ups)

            # system_reset: RESET, and the guest boots again.
            self.assertEqual(q.cmd("system_reset")["return"], {})
            ev = q.event("RESET")
            self.assertEqual(ev["data"], {"guest": False,
                                          "reason": "host-qmp-system-reset"})
            self.assertTrue(s.wait_for(lambda t: t.count(READY) >= 2),
                            s.report())

            # quit: SHUTDOWN host-qmp-quit, exit status 0.
            self.assertEqual(q.cmd("quit")["return"], {})
            ev = q.event("SHUTDOWN")
            self.assertEqual(ev["data"], {"guest": False,
                                          "reason": "host-qmp-quit"})
            q2.close()
            q.close()
            rc = s.wait()
            self.assertEqual(rc, 0, s.report())
            check_clean_log(self, s)
            self.assertFalse(os.path.exists(self.path))
        finally:
            s.kill()

    def test_start_paused(self):
        s = boot(self, 1, IDLE, extra_args=("-qmp", self.spec, "-S"))
        try:
            q = QMPClient(self.path)
            q.cmd("qmp_capabilities")
            self.assertEqual(q.cmd("query-status")["return"],
                             {"running": False, "status": "prelaunch"})
            time.sleep(1)
            self.assertEqual(s.console, "", s.report())
            q.cmd("cont")
            q.event("RESUME")
            self.assertTrue(s.wait_for(lambda t: READY in t), s.report())
            q.cmd("quit")
            q.close()
            self.assertEqual(s.wait(), 0, s.report())
            check_clean_log(self, s)
        finally:
            s.kill()


if __name__ == "__main__":
    unittest.main()
