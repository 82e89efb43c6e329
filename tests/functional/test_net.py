# SPDX-License-Identifier: MIT
"""virtio-net tests: the kit's Debian kernel drives swede's
virtio-net-device on user-mode networking (libslirp) and on a tap device.

  NetUser  one boot, two NICs: n0 (-netdev user with a hostfwd rule) and
           n1 (-netdev user,net=10.0.3.0/24,restrict=on with one too).
           The guest gets both addresses by DHCP (busybox udhcpc), fetches
           its check script over HTTP from a server on the host through the
           gateway 10.0.2.2, downloads a 64 MiB file and uploads it back to
           a TCP sink on the host (md5 compared on both sides), serves a
           line on each forwarded port for the host to read, and shows
           that through the restricted NIC the host's services are out of
           reach (the connect times out) while the open one reaches them.
  NetTap   a network namespace holding tap device swtap0 (192.168.77.1);
           swede runs in it with -netdev tap,ifname=swtap0. The guest
           (192.168.77.2) and the namespace ping each other and the guest
           sends 8 MiB over TCP to a sink in the namespace (md5 checked).
           Needs root, /dev/net/tun and ip(8): skips with a message
           otherwise.

Timeouts are limits against hangs, never measurements. Without a kit the
tests skip (see test_boot.py); SWEDE, KIT and BOOT_TIMEOUT as there.
"""
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import test_boot
from test_boot import REQUIRE_KIT, check_clean_log, kit_missing, need_kit

TIMEOUT = float(os.environ.get("BOOT_TIMEOUT", "300"))
MiB = 1 << 20
BIG = 64 * MiB
MAC0 = "52:54:00:12:34:56"
MAC1 = "52:54:00:12:34:57"

# DHCP hook for udhcpc (busybox calls it with bound/renew/deconfig).
DHCP_HOOK = (r"""printf '#!/bin/sh\n[ "$1" = bound ] && ifconfig $interface """
             r"""$ip netmask $subnet && { [ -n "$router" ] && route add """
             r"""default gw $router dev $interface; }\nexit 0\n' > /tmp/dh; """
             r"""chmod +x /tmp/dh; """)

# On the kernel command line (1 KiB at most): find the NICs by MAC, DHCP
# on the open one, fetch the real check script from the host.
LOADER = DHCP_HOOK + (
    r"""for i in /sys/class/net/eth*; do n=${i##*/}; """
    r"""[ "$(cat $i/address)" = %s ] && A=$n; """
    r"""[ "$(cat $i/address)" = %s ] && B=$n; ip link set $n up; done; """
    r"""echo "chk nics=$A,$B"; udhcpc -i $A -q -n -t 5 -s /tmp/dh; """
    r"""wget -q -O /tmp/s http://10.0.2.2:%d/s; sh /tmp/s $A $B""")

CHECKS = r"""
A=$1 B=$2
echo "chk ip_a=$(ip -4 -o addr show $A | awk '{print $4}')"
udhcpc -i $B -q -n -t 5 -s /tmp/dh >/dev/null 2>&1
echo "chk ip_b=$(ip -4 -o addr show $B | awk '{print $4}')"
echo "chk route=$(ip route | grep ^default)"
s=$(date +%%s)
wget -q -O /tmp/big http://10.0.2.2:%(http)d/big
echo "chk dl_rc=$? secs=$(($(date +%%s) - s))"
echo "chk dl_md5=$(md5sum < /tmp/big | cut -d' ' -f1)"
s=$(date +%%s)
nc 10.0.2.2 %(sink)d < /tmp/big
echo "chk up_rc=$? secs=$(($(date +%%s) - s))"
rm -f /tmp/big
nc -w 5 10.0.3.2 %(http)d < /dev/null > /tmp/r 2>&1
echo "chk restricted_rc=$?"
echo "GET /s HTTP/1.0" | nc -w 5 10.0.2.2 %(http)d > /tmp/o 2>&1
echo "chk open_bytes=$(wc -c < /tmp/o)"
echo swede-fwd-open | nc -l -p 8080 &
p1=$!
echo swede-fwd-restricted | nc -l -p 8081 &
p2=$!
sleep 1
echo "chk servers=up"
wait $p1
wait $p2
echo "chk done"
"""


def chk_dict(console):
    d = {}
    for line in console.splitlines():
        if line.startswith("chk "):
            k, sep, v = line[4:].partition("=")
            if sep:
                d[k] = v.strip()
    return d


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    """A TCP server taking one connection: byte count and md5."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.n = 0
        self.md5 = hashlib.md5()
        self.done = threading.Event()
        self.secs = None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            c, _ = self.sock.accept()
            t = time.monotonic()
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                self.md5.update(d)
                self.n += len(d)
            self.secs = time.monotonic() - t
            c.close()
        except OSError:
            pass
        self.done.set()


def read_line(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 5) as c:
                c.settimeout(10)
                data = b""
                while b"\n" not in data:
                    d = c.recv(100)
                    if not d:
                        break
                    data += d
                if data:
                    return data.decode(errors="replace").strip()
        except OSError:
            pass
        time.sleep(0.5)
    return None


class NetUser(unittest.TestCase):
    """One boot: DHCP, 64 MiB both ways, hostfwd, restrict=on."""

    @classmethod
    def setUpClass(cls):
        cls.s = None
        if kit_missing() and not REQUIRE_KIT:
            raise unittest.SkipTest(kit_missing())
        cls.big = bytes((i * 131 + (i >> 11)) & 0xff
                        for i in range(MiB)) * (BIG // MiB)
        cls.big_md5 = hashlib.md5(cls.big).hexdigest()
        cls.sink = Sink()
        big, sink = cls.big, cls.sink

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/big":
                    body = big
                elif self.path == "/s":
                    body = (CHECKS % {"http": http_port,
                                      "sink": sink.port}).encode()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        http_port = cls.httpd.server_address[1]
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        cls.fwd_open = free_port()
        cls.fwd_restricted = free_port()
        args = [
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080"
            % cls.fwd_open,
            "-device", "virtio-net-device,netdev=n0,mac=" + MAC0,
            "-netdev", "user,id=n1,net=10.0.3.0/24,restrict=on,"
            "hostfwd=tcp:127.0.0.1:%d-:8081" % cls.fwd_restricted,
            "-device", "virtio-net-device,netdev=n1,mac=" + MAC1,
        ]
        cls.t0 = time.monotonic()
        cls.s = test_boot.Swede(1, LOADER % (MAC0, MAC1, http_port),
                                extra_args=args)
        s = cls.s
        cls.up = s.wait_for(lambda t: "chk servers=up" in t, TIMEOUT)
        cls.fwd = {}
        if cls.up:
            cls.fwd["open"] = read_line(cls.fwd_open)
            cls.fwd["restricted"] = read_line(cls.fwd_restricted)
        cls.rc = s.wait(60 if cls.up else 5)
        cls.secs = time.monotonic() - cls.t0
        cls.sink.done.wait(5)
        cls.httpd.shutdown()
        cls.chk = chk_dict(s.console)
        sys.stderr.write("\n[net] boot+checks %.1fs; guest: %s, %s; host sink "
                         "%.1fs\n" % (cls.secs, cls.chk.get("dl_rc"),
                                      cls.chk.get("up_rc"),
                                      cls.sink.secs or -1))

    @classmethod
    def tearDownClass(cls):
        if cls.s:
            cls.s.kill()

    def setUp(self):
        need_kit(self)

    def test_dhcp(self):
        self.assertRegex(self.chk.get("nics", ""), r"^eth\d,eth\d$",
                         self.s.report())
        self.assertEqual(self.chk.get("ip_a"), "10.0.2.15/24", self.s.report())
        self.assertEqual(self.chk.get("ip_b"), "10.0.3.15/24", self.s.report())
        self.assertIn("default via 10.0.2.2", self.chk.get("route", ""))

    def test_download_64mib(self):
        self.assertTrue(self.chk.get("dl_rc", "").startswith("0 "),
                        self.s.report())
        self.assertEqual(self.chk.get("dl_md5"), self.big_md5)

    def test_upload_64mib(self):
        self.assertTrue(self.chk.get("up_rc", "").startswith("0 "),
                        self.s.report())
        self.assertEqual(self.sink.n, BIG)
        self.assertEqual(self.sink.md5.hexdigest(), self.big_md5)

    def test_hostfwd(self):
        self.assertTrue(self.up, self.s.report())
        self.assertEqual(self.fwd.get("open"), "swede-fwd-open")
        # restrict=on still lets hostfwd in (as QEMU's).
        self.assertEqual(self.fwd.get("restricted"), "swede-fwd-restricted")

    def test_restrict(self):
        # The open NIC reaches the host's HTTP server, the restricted one
        # does not (nc -w 5 fails).
        self.assertGreater(int(self.chk.get("open_bytes", "0")), 100,
                           self.s.report())
        self.assertNotEqual(self.chk.get("restricted_rc"), "0",
                            self.s.report())
        self.assertIsNotNone(self.chk.get("restricted_rc"), self.s.report())

    def test_clean_exit(self):
        self.assertIn("chk done", self.s.console, self.s.report())
        self.assertEqual(self.rc, 0, self.s.report())
        check_clean_log(self, self.s)


def tap_unavailable():
    if os.geteuid() != 0:
        return "tap test needs root (ip netns, /dev/net/tun)"
    if not os.path.exists("/dev/net/tun"):
        return "tap test needs /dev/net/tun"
    if not shutil.which("ip"):
        return "tap test needs ip(8) (Debian package iproute2)"
    ns = "swede-probe-%d" % os.getpid()
    r = subprocess.run(["ip", "netns", "add", ns], capture_output=True)
    if r.returncode != 0:
        return "cannot create a network namespace: " + r.stderr.decode()
    r = subprocess.run(["ip", "-n", ns, "tuntap", "add", "dev", "swprobe",
                        "mode", "tap"], capture_output=True)
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    if r.returncode != 0:
        return "cannot create a tap device: " + r.stderr.decode()
    return None


TAP_CMD = (
    "ip addr add 192.168.77.2/24 dev eth0; ip link set eth0 up; "
    "ping -c 3 -W 5 192.168.77.1 > /tmp/p; echo \"chk ping_rc=$?\"; "
    "echo chk tap_ready; sleep 4; "
    "yes swede-tap-pattern | head -c 8388608 | nc 192.168.77.1 %d; "
    "echo \"chk tcp_rc=$?\"")


# ICMP echo from the namespace (the host may have no ping(8)): exit 0
# when one of three requests is answered.
NS_PING = r"""
import os, select, socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    return ~((s & 0xffff) + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xffff
for seq in range(3):
    body = b"swede-ping-%d" % seq + b"\0" * 4
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, csum(h + body), ident, seq) + body
    s.sendto(pkt, (sys.argv[1], 0))
    end = time.monotonic() + 3
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
        if not r:
            break
        d = s.recv(2048)
        ihl = (d[0] & 15) * 4
        t, _, _, i, q = struct.unpack("!BBHHH", d[ihl:ihl + 8])
        if t == 0 and i == ident:
            sys.exit(0)
sys.exit(1)
"""


class NetTap(unittest.TestCase):
    """swede inside a network namespace, on its tap device."""

    @classmethod
    def setUpClass(cls):
        why = kit_missing()
        if why and not REQUIRE_KIT:
            raise unittest.SkipTest(why)
        why = tap_unavailable()
        if why:
            raise unittest.SkipTest(why)
        cls.ns = "swede-net-%d" % os.getpid()
        cls.tmp = tempfile.TemporaryDirectory()
        ns = cls.ns
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "tuntap", "add", "dev", "swtap0", "mode", "tap")
        run("ip", "-n", ns, "addr", "add", "192.168.77.1/24", "dev", "swtap0")
        run("ip", "-n", ns, "link", "set", "swtap0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        # The sink runs in the namespace (its own python process).
        cls.sink = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c",
             "import socket,hashlib\n"
             "s=socket.socket(); s.bind(('192.168.77.1', 9000)); s.listen(1)\n"
             "c,_=s.accept(); h=hashlib.md5(); n=0\n"
             "while True:\n"
             "    d=c.recv(1<<20)\n"
             "    if not d: break\n"
             "    h.update(d); n+=len(d)\n"
             "print(n, h.hexdigest(), flush=True)\n"],
            stdout=subprocess.PIPE, text=True)
        wrapper = os.path.join(cls.tmp.name, "swede-in-ns")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec ip netns exec %s "%s" "$@"\n'
                    % (ns, test_boot.SWEDE))
        os.chmod(wrapper, 0o755)
        saved = test_boot.SWEDE
        test_boot.SWEDE = wrapper
        try:
            cls.s = test_boot.Swede(1, TAP_CMD % 9000, extra_args=[
                "-netdev", "tap,id=t0,ifname=swtap0,script=no,downscript=no",
                "-device", "virtio-net-device,netdev=t0"])
        finally:
            test_boot.SWEDE = saved
        cls.ns_ping = None
        if cls.s.wait_for(lambda t: "chk tap_ready" in t, TIMEOUT):
            cls.ns_ping = subprocess.run(
                ["ip", "netns", "exec", ns, sys.executable, "-c", NS_PING,
                 "192.168.77.2"], capture_output=True).returncode
        cls.rc = cls.s.wait(120)
        try:
            out, _ = cls.sink.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            cls.sink.kill()
            out = ""
        cls.sink_out = out.split()
        cls.chk = chk_dict(cls.s.console)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "s", None):
            cls.s.kill()
        if getattr(cls, "sink", None) and cls.sink.poll() is None:
            cls.sink.kill()
        subprocess.run(["ip", "netns", "del", cls.ns], capture_output=True)

    def setUp(self):
        need_kit(self)

    def test_ping_both_ways(self):
        self.assertEqual(self.chk.get("ping_rc"), "0", self.s.report())
        self.assertEqual(self.ns_ping, 0, self.s.report())

    def test_tcp_to_namespace(self):
        line = b"swede-tap-pattern\n"
        want = (line * (8 * MiB // len(line) + 1))[:8 * MiB]
        self.assertEqual(self.chk.get("tcp_rc"), "0", self.s.report())
        self.assertEqual(self.sink_out,
                         [str(len(want)), hashlib.md5(want).hexdigest()])

    def test_clean_exit(self):
        self.assertEqual(self.rc, 0, self.s.report())
        check_clean_log(self, self.s)


if __name__ == "__main__":
    unittest.main()
