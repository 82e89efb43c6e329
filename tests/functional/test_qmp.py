# SPDX-License-Identifier: MIT
"""QMP over a unix socket (docs/qmp.md) against a booted guest, with a
small stdlib QMP client: greeting and negotiation, query-status, stop and
cont (STOP/RESUME events, the guest really pauses), system_reset (RESET
event, the guest boots again), quit (SHUTDOWN host-qmp-quit, status 0);
-S (start paused, cont starts the guest); and several monitors on one
guest: two -qmp sockets (unix and tcp) and a -chardev socket with -mon
mode=control, query-block, query-chardev, human-monitor-command, a client
sending garbage, and system_powerdown (POWERDOWN on every client, KEY_POWER
on the virtio keyboard, the guest powers off: SHUTDOWN guest-shutdown).
Three boots.

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
    events met while waiting for a reply are kept in self.events. path is
    a unix socket path or a (host, port) pair."""

    def __init__(self, path, timeout=TIMEOUT):
        deadline = time.monotonic() + 30
        family = socket.AF_INET if isinstance(path, tuple) else socket.AF_UNIX
        while True:
            try:
                self.sock = socket.socket(family, socket.SOCK_STREAM)
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

    def test_monitors_and_powerdown(self):
        tcp = socket.socket()
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
        tcp.close()
        mon = os.path.join(self.tmp.name, "mon.sock")
        disk = os.path.join(self.tmp.name, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(4 << 20)
        # The guest waits for one key event and then ends, which powers
        # it off (guest/init).
        guest = "evdev-read 1; echo swede-test: key seen"
        s = boot(self, 1, guest, extra_args=(
            "-qmp", self.spec,
            "-qmp", "tcp:127.0.0.1:%d,server=on,wait=off" % port,
            "-chardev", "socket,id=mon0,path=%s,server=on,wait=off" % mon,
            "-mon", "chardev=mon0,mode=control",
            "-device", "virtio-keyboard-device",
            "-drive", "file=%s,format=raw,if=virtio,readonly=on" % disk))
        try:
            clients = [QMPClient(self.path), QMPClient(("127.0.0.1", port)),
                       QMPClient(mon)]
            for c in clients:
                self.assertEqual(c.cmd("qmp_capabilities")["return"], {})
            q = clients[0]
            blocks = q.cmd("query-block")["return"]
            self.assertEqual(len(blocks), 1, blocks)
            b = blocks[0]
            self.assertEqual(b["device"], "virtio0")
            self.assertTrue(b["inserted"]["ro"])
            self.assertEqual(b["inserted"]["drv"], "raw")
            self.assertEqual(b["inserted"]["file"], disk)
            self.assertEqual(b["inserted"]["image"]["virtual-size"], 4 << 20)
            self.assertEqual(
                b["qdev"], "/machine/peripheral-anon/device[1]/virtio-backend")
            chardevs = {c["label"]: c
                        for c in q.cmd("query-chardev")["return"]}
            self.assertEqual(chardevs["mon0"]["filename"],
                             "unix:%s,server=on" % mon)
            self.assertEqual(chardevs["serial0"]["filename"], "stdio")
            hmp = q.cmd("human-monitor-command",
                        **{"command-line": "info block"})["return"]
            self.assertIn("virtio0 (#block100): %s (raw, read-only)\r\n"
                          % disk, hmp)
            # A client sending garbage and an oversized object gets errors
            # and changes nothing for the others.
            bad = QMPClient(self.path)
            bad.sock.sendall(b"\xff\x00{]" + b"[" * 200 + b"\n" +
                             b'{"x": "' + b"a" * 70000 + b'"}')
            err = bad._recv()
            self.assertEqual(err["error"]["class"], "GenericError")
            self.assertTrue(s.wait_for(lambda t: "evdev-read: ready" in t),
                            s.report())
            self.assertEqual(q.cmd("query-status")["return"]["status"],
                             "running")
            # The power button: POWERDOWN to every client; the guest sees
            # KEY_POWER (116) and powers off.
            self.assertEqual(clients[1].cmd("system_powerdown")["return"],
                             {})
            for c in clients:
                c.event("POWERDOWN")
            self.assertTrue(s.wait_for(lambda t: "key seen" in t),
                            s.report())
            self.assertRegex(s.console, r"evdev: event\d+ key 116 1")
            for c in clients:
                ev = c.event("SHUTDOWN")
                self.assertEqual(ev["data"], {"guest": True,
                                              "reason": "guest-shutdown"})
            self.assertEqual(s.wait(), 0, s.report())
            check_clean_log(self, s)
            self.assertFalse(os.path.exists(mon))
            for c in clients + [bad]:
                c.close()
        finally:
            s.kill()


if __name__ == "__main__":
    unittest.main()
