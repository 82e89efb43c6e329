# SPDX-License-Identifier: MIT
"""Command-line tests for swede: QEMU's option syntax, the one-line errors
(exit status 1, one line on stderr naming the option, nothing on stdout,
before any guest code runs), -machine help, --version, --help, and the
device tree -machine dumpdtb=FILE writes, compared node by node with
qemu-system-riscv64's for the same -smp/-m when QEMU is installed.

No guest runs here. The binary comes from $SWEDE (default build/swede).
"""
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest

SWEDE = os.environ.get("SWEDE", "build/swede")
QEMU = shutil.which("qemu-system-riscv64")
DTC = shutil.which("dtc")

# Nodes QEMU's virt has that swede does not model yet (PCIe, fw_cfg, flash,
# platform bus, SBI PMU description).
QEMU_ONLY = re.compile(r"^/(pmu|fw-cfg@|flash@|platform-bus@|soc/pci@|aliases)")


def run(*args, timeout=30):
    return subprocess.run([SWEDE, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def dts(path):
    out = subprocess.run([DTC, "-I", "dtb", "-O", "dts", path],
                         capture_output=True, text=True, check=True)
    return out.stdout


def parse_dts(text):
    """{node path: {property: raw value text}} from dtc's dts output."""
    nodes, stack = {}, []
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"^([^\s=]+) \{$", line)
        if m:
            name = m.group(1)
            stack.append("" if name == "/" else name)
            nodes["/".join(stack) or "/"] = {}
            continue
        if line == "};":
            stack.pop()
            continue
        m = re.match(r"^([^\s=]+)(?: = (.*))?;$", line)
        if m and stack:
            nodes["/".join(stack) or "/"][m.group(1)] = m.group(2) or ""
    return nodes


def image_header(text_offset, image_size):
    """A Linux RISC-V Image header (arch/riscv/include/asm/image.h)."""
    hdr = struct.pack("<IIQQQIIQ8s4sI", 0x6f, 0, text_offset, image_size,
                      0, 2, 0, 0, b"RISCV\0\0\0", b"RSC\x05", 0)
    assert len(hdr) == 64 and hdr[0x38:0x3c] == b"RSC\x05"
    return hdr


class CliErrors(unittest.TestCase):
    """Every error: status 1, one line on stderr naming the option."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.small = os.path.join(d, "small.bin")
        with open(cls.small, "wb") as f:
            f.write(b"\x73\x00\x50\x10" * 16)  # wfi
        cls.big_image = os.path.join(d, "big.Image")
        with open(cls.big_image, "wb") as f:
            f.write(image_header(0x200000, 64 << 20))
            f.write(b"\0" * 4096)
        cls.unreadable = os.path.join(d, "unreadable.bin")
        with open(cls.unreadable, "wb") as f:
            f.write(b"x" * 64)
        os.chmod(cls.unreadable, 0)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def expect_error(self, args, *needles):
        r = run(*args)
        self.assertEqual(r.returncode, 1, f"{args}: {r.stderr!r}")
        self.assertEqual(r.stdout, "", args)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"{args}: {r.stderr!r}")
        self.assertTrue(lines[0].startswith("swede: "), lines[0])
        for n in needles:
            self.assertIn(n, lines[0], args)
        return lines[0]

    def test_missing_kernel(self):
        line = self.expect_error(["-kernel", "/nonexistent/vmlinux"],
                                 "-kernel /nonexistent/vmlinux")
        self.assertIn("No such file or directory", line)

    def test_missing_initrd(self):
        self.expect_error(["-bios", "none", "-kernel", self.small,
                           "-initrd", "/nonexistent/initrd"], "-initrd")

    def test_missing_bios(self):
        self.expect_error(["-bios", "/nonexistent/fw.bin"], "-bios")

    def test_missing_dtb(self):
        self.expect_error(["-dtb", "/nonexistent/x.dtb"], "-dtb")

    def test_bad_dtb(self):
        self.expect_error(["-bios", "none", "-dtb", self.small], "-dtb")

    @unittest.skipIf(os.geteuid() == 0, "root reads mode-000 files")
    def test_unreadable_kernel(self):
        self.expect_error(["-kernel", self.unreadable], "-kernel",
                          "Permission denied")

    def test_kernel_too_big_for_ram(self):
        line = self.expect_error(["-bios", "none", "-m", "32M", "-kernel",
                                  self.big_image], "-kernel", "-m 32M")
        self.assertRegex(line, r"try -m \d+M")

    def test_ram_too_small(self):
        self.expect_error(["-m", "8M"], "-m 8M")

    def test_ram_garbage(self):
        self.expect_error(["-m", "lots"], "-m lots")

    def test_smp_zero(self):
        self.expect_error(["-smp", "0"], "-smp 0", "1..")

    def test_smp_too_many(self):
        self.expect_error(["-smp", "9"], "-smp 9", "1..8")
        self.expect_error(["-smp", "cpus=64"], "-smp cpus=64")

    def test_unknown_option(self):
        self.expect_error(["-frobnicate"], "-frobnicate")
        self.expect_error(["--frobnicate", "x"], "--frobnicate")

    def test_unknown_machine(self):
        self.expect_error(["-M", "pc"], "-M pc")
        self.expect_error(["-machine", "type=sifive_u"], "sifive_u")

    def test_unknown_machine_property(self):
        self.expect_error(["-machine", "virt,bogus=1"], "bogus")

    def test_missing_argument(self):
        self.expect_error(["-kernel"], "-kernel")

    def test_append_without_kernel(self):
        self.expect_error(["-append", "quiet"], "-append")

    def test_initrd_without_kernel(self):
        self.expect_error(["-initrd", self.small], "-initrd")

    def test_unsupported_display(self):
        self.expect_error(["-display", "gtk"], "-display gtk")

    def test_serial_bad_file(self):
        self.expect_error(["-serial", "file:/nonexistent/dir/log"],
                          "-serial")

    # -device, -drive, -chardev, -global: checked before any guest runs.

    def test_unknown_device(self):
        line = self.expect_error(["-device", "foo"], "-device foo",
                                 "unknown device", "-device help")
        self.assertEqual(line, "swede: -device foo: unknown device (use "
                         "-device help to list them)")

    def test_unknown_device_property(self):
        self.expect_error(["-device", "virtio-rng-device,bogus=1"],
                          "-device virtio-rng-device", "bogus")

    def test_drive_missing_file(self):
        self.expect_error(["-drive", "if=none,id=d0"], "-drive", "file=")
        self.expect_error(["-drive", "file=/nonexistent/disk.img,id=d0"],
                          "-drive", "/nonexistent/disk.img")

    def test_drive_unsupported_interface(self):
        for ifname in ("ide", "scsi", "sd"):
            self.expect_error(["-drive", "file=%s,if=%s" % (self.small,
                                                           ifname)],
                              "-drive", "if=" + ifname)

    def test_drive_unknown_parameter(self):
        self.expect_error(["-drive", "file=%s,bogus=1" % self.small],
                          "-drive", "bogus")

    def test_duplicate_id(self):
        drive = "file=%s,format=raw,if=none,id=d0" % self.small
        self.expect_error(["-drive", drive, "-drive", drive], "-drive",
                          "duplicate id 'd0'")
        self.expect_error(["-chardev", "null,id=c0", "-chardev",
                           "null,id=c0"], "-chardev", "duplicate id 'c0'")
        self.expect_error(["-device", "virtio-rng-device,id=r",
                           "-device", "virtio-rng-device,id=r"],
                          "-device", "duplicate id 'r'")

    def test_drive_id_not_found(self):
        self.expect_error(["-bios", "none",
                           "-device", "virtio-blk-device,drive=nope"],
                          "-device virtio-blk-device", "nope")

    def test_drive_taken_twice(self):
        self.expect_error(["-bios", "none",
                           "-drive", "file=%s,if=none,id=d0" % self.small,
                           "-device", "virtio-blk-device,drive=d0",
                           "-device", "virtio-blk-device,drive=d0"],
                          "-device virtio-blk-device", "d0")

    def test_chardev_id_not_found(self):
        self.expect_error(["-bios", "none",
                           "-device", "virtio-serial-device",
                           "-device", "virtconsole,chardev=nope"],
                          "-device virtconsole", "nope")

    def test_too_many_devices(self):
        args = ["-bios", "none"]
        for _ in range(9):
            args += ["-device", "virtio-rng-device"]
        self.expect_error(args, "-device virtio-rng-device",
                          "virtio-mmio")

    def test_chardev_unknown_backend(self):
        self.expect_error(["-chardev", "bogus,id=c0"], "-chardev", "bogus")

    def test_chardev_missing_id(self):
        self.expect_error(["-chardev", "null"], "-chardev", "id=")

    def test_global(self):
        self.expect_error(["-global", "virtio-mmio.force-legacy=true"],
                          "-global", "force-legacy")
        self.expect_error(["-global", "isa-fdc.driveA=x"], "-global",
                          "isa-fdc.driveA")


class CliInfo(unittest.TestCase):
    def test_machine_help(self):
        for spelling in (["-machine", "help"], ["-M", "help"],
                         ["--machine", "help"]):
            r = run(*spelling)
            self.assertEqual(r.returncode, 0, spelling)
            self.assertRegex(r.stdout, r"(?m)^virt\s+RISC-V VirtIO board")

    def test_version(self):
        for spelling in ("--version", "-version"):
            r = run(spelling)
            self.assertEqual(r.returncode, 0)
            self.assertRegex(
                r.stdout,
                r"^swede version \S+ \(QEMU-compatible command line\)\n$")

    def test_help(self):
        for spelling in ("--help", "-h", "-help"):
            r = run(spelling)
            self.assertEqual(r.returncode, 0)
            for opt in ("-kernel", "-initrd", "-append", "-smp", "-bios",
                        "-serial", "-no-reboot", "-nographic", "-pidfile"):
                self.assertIn(opt, r.stdout)

    def test_device_help(self):
        r = run("-device", "help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("virtio-blk-device", "virtio-rng-device",
                     "virtio-serial-device", "virtconsole",
                     "virtio-keyboard-device", "virtio-tablet-device",
                     "virtio-mouse-device"):
            self.assertRegex(r.stdout, r'(?m)^name "%s"' % name)

    def test_device_property_help(self):
        r = run("-device", "virtio-blk-device,help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("drive", r.stdout)

    def test_log_help(self):
        r = run("-d", "help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("guest_errors", r.stdout)


@unittest.skipUnless(DTC, "dtc not installed")
class DumpDtb(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def dump(self, *args, tool=SWEDE):
        path = os.path.join(self.tmp.name, f"{os.path.basename(tool)}.dtb")
        spec = "virt,dumpdtb=" + path
        r = subprocess.run([tool, "-M", spec, "-nographic", *args],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return parse_dts(dts(path))

    def test_nodes(self):
        n = self.dump("-smp", "3", "-m", "256M")
        for node in ("/chosen", "/cpus", "/cpus/cpu@0", "/cpus/cpu@2",
                     "/cpus/cpu@2/interrupt-controller",
                     "/cpus/cpu-map/cluster0/core2", "/memory@80000000",
                     "/soc", "/soc/clint@2000000", "/soc/plic@c000000",
                     "/soc/serial@10000000", "/soc/rtc@101000",
                     "/soc/test@100000", "/soc/virtio_mmio@10001000",
                     "/soc/virtio_mmio@10008000", "/poweroff", "/reboot"):
            self.assertIn(node, n)
        self.assertNotIn("/cpus/cpu@3", n)
        self.assertEqual(n["/memory@80000000"]["reg"],
                         "<0x00 0x80000000 0x00 0x10000000>")
        cpu = n["/cpus/cpu@1"]
        self.assertEqual(cpu["mmu-type"], '"riscv,sv57"')
        self.assertEqual(cpu["riscv,isa-base"], '"rv64i"')
        self.assertRegex(cpu["riscv,isa"], r'^"rv64imafdc')
        self.assertIn("riscv,isa-extensions", cpu)
        self.assertEqual(n["/cpus"]["timebase-frequency"], "<0x989680>")
        self.assertEqual(n["/chosen"]["stdout-path"],
                         '"/soc/serial@10000000"')
        self.assertIn("rng-seed", n["/chosen"])
        self.assertEqual(n["/soc/serial@10000000"]["interrupts"], "<0x0a>")
        self.assertEqual(n["/soc/rtc@101000"]["interrupts"], "<0x0b>")
        self.assertEqual(n["/soc/virtio_mmio@10008000"]["interrupts"],
                         "<0x08>")
        self.assertEqual(n["/poweroff"]["value"], "<0x5555>")
        self.assertEqual(n["/reboot"]["value"], "<0x7777>")
        self.assertEqual(n["/soc/plic@c000000"]["riscv,ndev"], "<0x5f>")
        # Three harts: <intc 11 intc 9> and <intc 3 intc 7> per hart.
        self.assertEqual(
            len(n["/soc/plic@c000000"]["interrupts-extended"].split()), 12)
        self.assertEqual(
            len(n["/soc/clint@2000000"]["interrupts-extended"].split()), 12)

    def test_chosen_with_kernel(self):
        kernel = os.path.join(self.tmp.name, "Image")
        with open(kernel, "wb") as f:
            f.write(image_header(0x200000, 1 << 20) + b"\0" * 4096)
        initrd = os.path.join(self.tmp.name, "initrd")
        with open(initrd, "wb") as f:
            f.write(b"\x07" * 100000)
        n = self.dump("-m", "64M", "-kernel", kernel, "-initrd", initrd,
                      "-append", "console=ttyS0 panic=-1")
        chosen = n["/chosen"]
        self.assertEqual(chosen["bootargs"], '"console=ttyS0 panic=-1"')
        start = [int(x, 16) for x in
                 chosen["linux,initrd-start"].strip("<>").split()]
        end = [int(x, 16) for x in
               chosen["linux,initrd-end"].strip("<>").split()]
        start, end = start[0] << 32 | start[1], end[0] << 32 | end[1]
        self.assertEqual(end - start, 100000)
        self.assertGreaterEqual(start, 0x80200000 + (1 << 20))
        self.assertLessEqual(end, 0x80000000 + (64 << 20))

    def test_dtb_option_gets_chosen_fixups(self):
        first = os.path.join(self.tmp.name, "first.dtb")
        r = run("-M", "virt,dumpdtb=" + first)
        self.assertEqual(r.returncode, 0, r.stderr)
        kernel = os.path.join(self.tmp.name, "raw.bin")
        with open(kernel, "wb") as f:
            f.write(b"\0" * 4096)
        n = self.dump("-dtb", first, "-kernel", kernel, "-append", "hello")
        self.assertEqual(n["/chosen"]["bootargs"], '"hello"')

    def test_devices_global_and_unused_drive(self):
        img = os.path.join(self.tmp.name, "disk.img")
        img2 = os.path.join(self.tmp.name, "disk2.img")
        for p in (img, img2):
            with open(p, "wb") as f:
                f.truncate(1 << 20)
        path = os.path.join(self.tmp.name, "dev.dtb")
        r = run("-M", "virt,dumpdtb=" + path,
                "-global", "virtio-mmio.force-legacy=false",
                "-drive", "file=%s,format=raw,if=virtio" % img,
                "-drive", "file=%s,format=raw,readonly=on" % img2,
                "-device", "virtio-rng-device")
        self.assertEqual(r.returncode, 0, r.stderr)
        # The if=none drive (none0) nobody uses gets a warning.
        self.assertRegex(r.stderr, r"warning: -drive .*none0")
        self.assertNotIn("virtio0", r.stderr)
        self.assertIn("/soc/virtio_mmio@10001000", parse_dts(dts(path)))

    @unittest.skipUnless(QEMU, "qemu-system-riscv64 not installed")
    def test_same_nodes_as_qemu(self):
        for smp, mem in (("1", "128M"), ("4", "512M")):
            ours = self.dump("-smp", smp, "-m", mem)
            theirs = self.dump("-smp", smp, "-m", mem, tool=QEMU)
            want = {p for p in theirs if not QEMU_ONLY.match(p)}
            self.assertEqual(set(ours), want, f"-smp {smp} -m {mem}")
            self.assertEqual(ours["/memory@80000000"]["reg"],
                             theirs["/memory@80000000"]["reg"])
            for path in want:
                for prop in ("compatible", "reg", "interrupts",
                             "device_type", "#interrupt-cells"):
                    # QEMU sizes the PLIC for its 512-hart maximum; swede
                    # describes the contexts that exist.
                    if path == "/soc/plic@c000000" and prop == "reg":
                        continue
                    if prop in theirs[path]:
                        self.assertEqual(ours[path].get(prop),
                                         theirs[path][prop], f"{path} {prop}")


if __name__ == "__main__":
    unittest.main()
