# SPDX-License-Identifier: MIT
"""The display and input oracle check (qemu_gfx_check.py) run twice: under
Debian's qemu-system-riscv64, and under swede with the same command line.
Both must pass the same checks: drm-pattern's image in the QMP screendump
(PPM and PNG) pixel for pixel, QMP send-key and input-send-event reaching
the guest's evdev-read, the guest powering off with status 0.

Environment: SWEDE (default build/swede), KIT as test_boot.py.
"""
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SWEDE = os.environ.get("SWEDE", os.path.join(ROOT, "build", "swede"))
CHECK = os.path.join(HERE, "qemu_gfx_check.py")


class GfxOracle(unittest.TestCase):

    def run_check(self, emulator):
        r = subprocess.run([sys.executable, CHECK, "--emulator", emulator],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=600)
        if r.returncode == 77:
            self.skipTest("guest kit missing (scripts/guest-kit)")
        self.assertEqual(r.returncode, 0, r.stdout[-4000:] + r.stderr[-2000:])
        self.assertIn("PASS: 0 failed", r.stdout)

    def test_qemu(self):
        qemu = shutil.which("qemu-system-riscv64")
        if not qemu:
            self.fail("qemu-system-riscv64 missing (scripts/install-deps)")
        self.run_check(qemu)

    def test_swede(self):
        self.run_check(SWEDE)


if __name__ == "__main__":
    unittest.main()
