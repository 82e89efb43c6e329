#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""swede-riscv64 against qemu-riscv64 with hostile system call arguments.

tests/user/efault.c passes bad pointers (NULL, a munmapped page, a
read-only page to write to, a path running into an unmapped page, the top
of the address space, a wrapping range) to read/write and the iovec calls,
path calls, the stat family, time, signals, futexes, pipes, poll, epoll,
ioctl, sockets and mincore; every one must fail with EFAULT as it does
under qemu-riscv64 (docs/user.md "System calls"), and the program must
survive to print "done". Build and run helpers come from test_user.py.

One known difference: qemu-riscv64 ignores a failed read of nanosleep's
timespec and returns EINVAL; Linux and swede-riscv64 return EFAULT.

Environment: as test_user.py (SWEDE_USER, USER_BUILD, CROSS_CC).
"""
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_user import CC, QEMU, SWEDE, build, run  # noqa: E402

QEMU_BUGS = [("nanosleep(unmapped)                      = -22 "
              "(Invalid argument)\n",
              "nanosleep(unmapped)                      = -EFAULT\n")]


@unittest.skipUnless(shutil.which(CC), "no riscv64 cross compiler")
@unittest.skipUnless(os.path.exists(SWEDE), "no swede-riscv64 at " + SWEDE)
class HostilePointers(unittest.TestCase):
    def test_efault(self):
        prog = build("efault")
        s_out, s_rc = run([SWEDE, prog])
        self.assertEqual(s_rc, 0, s_out)
        self.assertTrue(s_out.endswith("done\n"), s_out)
        if not QEMU:
            self.skipTest("qemu-riscv64 not installed")
        q_out, q_rc = run([QEMU, prog])
        for bug, linux in QEMU_BUGS:
            q_out = q_out.replace(bug, linux)
        self.assertEqual((q_out, q_rc), (s_out, s_rc),
                         "efault: qemu-riscv64 vs swede-riscv64")

    def test_efault_results(self):
        # Independently of qemu: every line that names a bad pointer
        # failed with EFAULT; the "fine" and "good" lines succeed, and a bad
        # later iovec ends a transfer early ("partial"), as on Linux.
        prog = build("efault")
        out, rc = run([SWEDE, prog])
        self.assertEqual(rc, 0)
        for line in out.splitlines():
            if "=" not in line:
                continue
            what, res = (x.strip() for x in line.split("=", 1))
            if any(w in what
                   for w in ("fine", "good", "other value", "partial")):
                self.assertFalse(res.startswith("-EFAULT"), line)
            elif "8191 bytes" in what:
                self.assertIn("File name too long", res)
            elif what == "write(NULL, 0)":
                self.assertEqual(res, "0")
            else:
                self.assertEqual(res, "-EFAULT", line)


if __name__ == "__main__":
    unittest.main()
