#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests for swede-riscv64 (linux-user mode, docs/user.md) against Debian's
qemu-riscv64.

The riscv64 programs in tests/user/*.c (threads, signals, files, mmap,
fork and exec, sockets, a CPU benchmark) are built static with Debian's
riscv64 cross gcc and run under qemu-riscv64 and under swede-riscv64; the
standard output and the exit status must be the same. One known
difference is allowed: without binfmt_misc, qemu-riscv64 cannot execve a
riscv64 program (forkexec's child exits 99), while swede-riscv64 keeps it
under emulation as the issue asks. Also: Debian's riscv64 busybox (from
the guest kit's cache, scripts/guest-kit) runs a shell script, and a
dynamically linked program runs with -L /usr/riscv64-linux-gnu (Debian's
riscv64 libc6, as packaged for cross builds). A program from Debian's
riscv64 archive, hello, runs with -L and Debian's riscv64 libc6 from the
guest kit's sysroot (kit/sysroot-riscv64, made by scripts/guest-kit) under
both emulators.

Environment: SWEDE_USER (binary, default build/src/user/swede-riscv64),
USER_BUILD (where the programs are built, default a temporary directory),
CROSS_CC, KIT (the guest kit, default kit). Tests skip with a message when
the cross compiler, qemu-riscv64, busybox or the kit's sysroot are missing
(a missing sysroot fails instead under SWEDE_TEST_REQUIRE_KIT=1, as
scripts/test sets).
"""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SRC = os.path.join(ROOT, "tests", "user")
SWEDE = os.environ.get("SWEDE_USER",
                       os.path.join(ROOT, "build", "src", "user",
                                    "swede-riscv64"))
CC = os.environ.get("CROSS_CC", "riscv64-linux-gnu-gcc")
QEMU = shutil.which("qemu-riscv64")
SYSROOT = "/usr/riscv64-linux-gnu"
KIT = os.environ.get("KIT", os.path.join(ROOT, "kit"))
REQUIRE_KIT = os.environ.get("SWEDE_TEST_REQUIRE_KIT") == "1"
DEB_SYSROOT = os.path.join(KIT, "sysroot-riscv64")
DEB_HELLO = os.path.join(DEB_SYSROOT, "usr", "bin", "hello")
BUSYBOX = glob.glob(os.path.expanduser(
    "~/.cache/swede/guest-kit/extract/busybox-*"))
KNOWN_DIFF = {"forkexec": ("exec: exit=99\n",
                           "exec'd child argc=3 arg=xyz\nexec: exit=7\n")}
SCRIPT = r"""echo "start $#: $1"
x=0; for i in 1 2 3 4 5; do x=$((x + i)); done; echo "sum=$x"
echo "alpha beta gamma" | tr a-z A-Z | sed 's/BETA/b/'
printf '%s\n' c b a | sort | tr '\n' ' '; echo
d=$(mktemp -d); echo data > $d/f; cat $d/f; ls $d; rm -r $d
echo $(seq 1 5 | wc -l) lines
uname -m
sh -c 'exit 4'; echo "sub=$?"
(sleep 0.1; echo bg) & wait
echo done
exit 2
"""
SCRIPT_OUT = ("start 1: arg1\nsum=15\nALPHA b GAMMA\na b c \ndata\nf\n"
              "5 lines\nriscv64\nsub=4\nbg\ndone\n")

_build = None


def build_dir():
    global _build
    if _build is None:
        _build = os.environ.get("USER_BUILD") or tempfile.mkdtemp(
            prefix="swede-user-")
        os.makedirs(_build, exist_ok=True)
    return _build


def build(name, static=True):
    out = os.path.join(build_dir(), name + ("" if static else "-dyn"))
    src = os.path.join(SRC, name + ".c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        cmd = [CC, "-O2", "-pthread", "-o", out, src]
        if static:
            cmd.insert(1, "-static")
        subprocess.run(cmd, check=True)
    return out


def run(argv, timeout=60, cwd=None):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout, cwd=cwd)
    return r.stdout, r.returncode


@unittest.skipUnless(shutil.which(CC), "no riscv64 cross compiler")
@unittest.skipUnless(os.path.exists(SWEDE), "no swede-riscv64 at " + SWEDE)
class UserVsQemu(unittest.TestCase):
    def compare(self, name, *args):
        if not QEMU:
            self.skipTest("qemu-riscv64 not installed")
        prog = build(name)
        q = run([QEMU, prog, *args])
        s = run([SWEDE, prog, *args])
        qout = q[0]
        if name in KNOWN_DIFF:
            qout = qout.replace(*KNOWN_DIFF[name])
        self.assertEqual((qout, q[1]), s,
                         "%s: qemu-riscv64 vs swede-riscv64" % name)

    def test_threads(self):
        self.compare("threads")

    def test_signals(self):
        self.compare("signals")

    def test_files(self):
        self.compare("files")

    def test_mmap(self):
        self.compare("mmap")

    def test_forkexec(self):
        self.compare("forkexec")

    def test_sockets(self):
        self.compare("sockets")

    def test_cpubench(self):
        self.compare("cpubench", "1")

    def test_dynamic(self):
        if not os.path.exists(os.path.join(SYSROOT, "lib",
                                           "ld-linux-riscv64-lp64d.so.1")):
            self.skipTest("no riscv64 libc6 in " + SYSROOT)
        prog = build("files", static=False)
        out, rc = run([SWEDE, "-L", SYSROOT, prog])
        self.assertEqual(rc, 0)
        self.assertIn("machine=riscv64\n", out)
        out, rc = run([SWEDE, prog])
        self.assertNotEqual(rc, 0, "a dynamic program needs -L")

    def test_busybox_script(self):
        if not BUSYBOX:
            self.skipTest("no busybox: run scripts/guest-kit")
        d = tempfile.mkdtemp(prefix="swede-bb-")
        bb = os.path.join(d, "busybox")
        shutil.copy(BUSYBOX[0], bb)
        os.chmod(bb, 0o755)
        with open(os.path.join(d, "script.sh"), "w") as f:
            f.write(SCRIPT)
        out, rc = run([SWEDE, bb, "sh", "script.sh", "arg1"], cwd=d)
        self.assertEqual((out, rc), (SCRIPT_OUT, 2))
        shutil.rmtree(d)

    def test_options(self):
        prog = build("files")
        r = subprocess.run([SWEDE, "-strace", "-0", "argv-zero", prog],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("uname(", r.stderr)
        self.assertEqual(r.returncode, 0)
        r = subprocess.run([SWEDE, "-bogus"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown option", r.stderr)

    def test_debian_dynamic(self):
        # Debian's riscv64 hello (dynamically linked) with Debian's riscv64
        # libc6, both unpacked by scripts/guest-kit into the kit's sysroot.
        if not os.path.exists(DEB_HELLO):
            msg = ("no Debian riscv64 sysroot at %s: run scripts/guest-kit"
                   % DEB_SYSROOT)
            if REQUIRE_KIT:
                self.fail(msg)
            self.skipTest(msg)
        if not QEMU:
            self.skipTest("qemu-riscv64 not installed")

        def go(emu, args, locale="C", stdout=subprocess.PIPE):
            r = subprocess.run([emu, "-L", DEB_SYSROOT, DEB_HELLO, *args],
                               stdin=subprocess.DEVNULL, stdout=stdout,
                               stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, LC_ALL=locale),
                               timeout=60)
            return r.stdout, r.stderr, r.returncode

        cases = [
            ([], "C", None), (["-t"], "C", None),
            (["-g", "hej"], "C", None),
            # glibc's built-in C.UTF-8 locale.
            (["-g", "hej d\u00e5"], "C.UTF-8", None),
            # Not ASCII in "C": "conversion ... failed", exit 1.
            (["-g", "hej d\u00e5"], "C", None),
            (["--version"], "C", None), (["--help"], "C", None),
            (["--bogus"], "C", None),
            # "write error: No space left on device", exit 1.
            ([], "C", "/dev/full"),
        ]
        for args, locale, out_file in cases:
            with self.subTest(args=args, locale=locale,
                              stdout=out_file or "pipe"):
                if out_file:
                    with open(out_file, "w") as f:
                        q = go(QEMU, args, locale, f)
                        s = go(SWEDE, args, locale, f)
                else:
                    q, s = go(QEMU, args, locale), go(SWEDE, args, locale)
                self.assertEqual(q, s, "qemu-riscv64 vs swede-riscv64 -L")
        self.assertEqual(go(SWEDE, []), ("Hello, world!\n", "", 0))
        with open("/dev/full", "w") as f:
            self.assertEqual(go(SWEDE, [], "C", f)[2], 1)
        # It is dynamically linked: without -L its loader is not found.
        r = subprocess.run([SWEDE, DEB_HELLO], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        self.assertNotEqual(r.returncode, 0, "a dynamic program needs -L")


if __name__ == "__main__":
    unittest.main()
