#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""swede vs QEMU, side by side in one run, printing ratios.

Boots the guest kit (kit/vmlinux + kit/initramfs.cpio.gz, extended with a
second cpio archive that holds bench/guest/cpubench) under swede and under
qemu-system-riscv64 with the identical command line, alternating the two
emulators run by run (never concurrently), and measures per run:

  boot      start of the emulator process -> the guest's `swede-init: ready`
  cpu       cpubench's own elapsed time (clock_gettime inside the guest),
            plus the host's wall time between its start and done lines
  overhead  host memory beyond the guest RAM touched, sampled while the
            guest sleeps just before poweroff (see mem_sample())
  exit      `swede-init: cmd exit=` -> the emulator process has exited
  peak RSS  ru_maxrss of the child from os.wait4

and prints medians, ratios and the issue's targets with PASS/MISS.  This is
a benchmark, not a test: nothing here asserts on wall-clock time.
Standard library only.  See bench/README.md.
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPUBENCH_SRC = os.path.join(ROOT, "bench", "guest", "cpubench.c")
CFLAGS = ["-O2", "-static"]
GUEST_PATH = "bench/cpubench"  # inside the guest: /bench/cpubench

READY = "swede-init: ready"
CMD_EXIT = "swede-init: cmd exit="
SAMPLE = "bench: sample"

# Targets from the issue, for an interpreter.
TARGET_CPU_SPEED = 0.3      # swede speed >= 0.3x QEMU TCG
TARGET_BOOT_RATIO = 3.0     # boot to /init within 3x QEMU's time
TARGET_OVERHEAD_MIB = 10.0  # memory beyond touched guest RAM < 10 MiB


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- guest payload ----------------------------------------------------------

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_cpubench(cc, cache):
    """Cross-compile cpubench into the cache (keyed by source, cc, flags)."""
    try:
        ver = subprocess.run([cc, "--version"], capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"boot.py: cannot run the cross compiler {cc}: {e}")
    key = hashlib.sha256()
    key.update(open(CPUBENCH_SRC, "rb").read())
    key.update(ver.encode())
    key.update(" ".join(CFLAGS).encode())
    out = os.path.join(cache, f"cpubench-{key.hexdigest()[:16]}")
    if not os.path.exists(out):
        log(f"building {out}")
        tmp = out + ".tmp"
        subprocess.run([cc, *CFLAGS, "-o", tmp, CPUBENCH_SRC, "-lm"],
                       check=True)
        os.replace(tmp, out)
    return out


def newc_entry(name, mode, data=b"", ino=0, nlink=1):
    """One cpio "newc" (070701) record: header, name, data, 4-byte pads."""
    namez = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
              len(namez), 0]
    hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
    rec = hdr + namez
    rec += b"\0" * (-len(rec) % 4)
    rec += data
    rec += b"\0" * (-len(rec) % 4)
    return rec


def build_initrd(kit_initrd, binary, cache):
    """kit initramfs + a gzip'd newc archive with /bench/cpubench.

    The kernel unpacks concatenated (compressed) cpio archives in order, so
    the result is the kit's tree plus our one directory and file."""
    key = hashlib.sha256()
    key.update(sha256_file(kit_initrd).encode())
    key.update(sha256_file(binary).encode())
    out = os.path.join(cache, f"initramfs-bench-{key.hexdigest()[:16]}.cpio.gz")
    if os.path.exists(out):
        return out
    log(f"building {out}")
    with open(binary, "rb") as f:
        exe = f.read()
    # High inode numbers: never collide with the kit's (nlink 1 anyway).
    arc = (newc_entry("bench", 0o040755, ino=0x7B000001, nlink=2) +
           newc_entry(GUEST_PATH, 0o100755, exe, ino=0x7B000002) +
           newc_entry("TRAILER!!!", 0))
    extra = gzip.compress(arc, compresslevel=9, mtime=0)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        with open(kit_initrd, "rb") as k:
            shutil.copyfileobj(k, f)
        # gzip output needs no padding; keep the boundary 4-aligned anyway.
        f.write(b"\0" * (-f.tell() % 4))
        f.write(extra)
    os.replace(tmp, out)
    return out


# --- host-side memory accounting --------------------------------------------

def read_status(pid):
    st = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                st[k] = int(v.split()[0])  # kB
    return st


def read_smaps(pid):
    """[(start, end, perms, name, rss_kB)] from /proc/PID/smaps."""
    maps = []
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split(None, 5)
                a, b = (int(x, 16) for x in parts[0].split("-"))
                name = parts[5].strip() if len(parts) > 5 else ""
                cur = [a, b, parts[1], name, 0]
                maps.append(cur)
            elif first == "Rss:" and cur is not None:
                cur[4] = int(line.split()[1])
    return maps


def mem_sample(pid, ram_bytes, kind):
    """Memory of the emulator process, in kB, split into guest RAM touched
    and everything else.

    swede: guest RAM is a memfd mapped MAP_SHARED, so its resident pages
      are shmem: guest RAM touched = RssShmem (cross-checked against the
      Rss of the /memfd: mappings in smaps).
    qemu: guest RAM is one anonymous private mapping of exactly the RAM
      size (-m); guest RAM touched = Rss of that mapping in smaps.
    Both: overhead = VmRSS - guest RAM touched, i.e. the emulator's own
      anonymous memory (heap, stacks, block/TB caches, device state) and
      its resident file pages (binary, shared libraries; kernel/initrd if
      kept mapped)."""
    st = read_status(pid)
    maps = read_smaps(pid)
    cands = []
    if kind == "swede":
        memfd = sum(m[4] for m in maps if m[3].startswith("/memfd:"))
        ram = st.get("RssShmem", memfd)
        how = "RssShmem"
    else:
        cands = [m for m in maps if m[1] - m[0] == ram_bytes and
                 (m[3] == "" or m[3].startswith("[anon")) and
                 m[2].startswith("rw")]
        if len(cands) != 1:
            # Fall back: the largest anonymous rw mapping of at least -m.
            cands = sorted((m for m in maps if m[1] - m[0] >= ram_bytes and
                            m[3] == "" and m[2].startswith("rw")),
                           key=lambda m: -m[4])[:1]
        ram = cands[0][4] if cands else 0
        memfd = None
        how = "anon mapping of -m size" if cands else "not found"
    # The largest resident mappings other than guest RAM, to show where the
    # overhead lives (JSON only).
    ram_maps = {id(m) for m in maps if m[4] and (
        m[3].startswith("/memfd:") if kind == "swede" else
        (cands and m is cands[0]))}
    top = sorted((m for m in maps if id(m) not in ram_maps),
                 key=lambda m: -m[4])[:8]
    return {
        "top_other_mappings": [
            {"range": f"{m[0]:x}-{m[1]:x}", "size_kb": (m[1] - m[0]) >> 10,
             "perms": m[2], "name": m[3], "rss_kb": m[4]} for m in top],
        "vm_rss_kb": st["VmRSS"], "vm_hwm_kb": st["VmHWM"],
        "rss_anon_kb": st.get("RssAnon"), "rss_file_kb": st.get("RssFile"),
        "rss_shmem_kb": st.get("RssShmem"), "memfd_rss_kb": memfd,
        "guest_ram_kb": ram, "guest_ram_how": how,
        "overhead_kb": st["VmRSS"] - ram,
    }


def proc_cpu_s(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


# --- one emulator run -------------------------------------------------------

def parse_mem(s):
    s = s.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    if s.endswith("B"):
        return int(s[:-1])
    return int(s) << 20  # QEMU: a bare number is MiB


def safe_cpu(pid):
    try:
        return proc_cpu_s(pid)
    except (OSError, IndexError, ValueError):
        return None


def run_one(kind, exe, argv, ram_bytes, timeout, logdir, idx):
    """Run the emulator once; returns a dict of measurements."""
    res = {"emulator": kind, "run": idx}
    errpath = os.path.join(logdir, f"{kind}-{idx}.stderr")
    outpath = os.path.join(logdir, f"{kind}-{idx}.stdout")
    errf = open(errpath, "wb")
    t0 = time.monotonic()
    p = subprocess.Popen([exe, *argv], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=errf,
                         start_new_session=True)
    fd = p.stdout.fileno()
    buf = b""
    out = bytearray()
    marks = {}
    cpu_at = {}
    deadline = t0 + timeout
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            break
        r, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not r:
            continue
        chunk = os.read(fd, 65536)
        now = time.monotonic()
        if not chunk:
            break
        out += chunk
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            line = raw.decode(errors="replace").strip("\r\n ")
            if READY in line and "ready" not in marks:
                marks["ready"] = now
                cpu_at["ready"] = safe_cpu(p.pid)
            elif line.startswith("cpubench: start"):
                marks["cpu_start"] = now
                cpu_at["cpu_start"] = safe_cpu(p.pid)
            elif line.startswith("cpubench: done"):
                marks["cpu_done"] = now
                cpu_at["cpu_done"] = safe_cpu(p.pid)
                for w in line.split()[2:]:
                    k, _, v = w.partition("=")
                    if k == "elapsed_ms":
                        res["cpu_guest_s"] = float(v) / 1e3
                    elif k == "checksum":
                        res["checksum"] = v
            elif line.startswith(SAMPLE) and "mem" not in res:
                try:
                    res["mem"] = mem_sample(p.pid, ram_bytes, kind)
                except (OSError, KeyError, ValueError) as e:
                    res["mem_error"] = str(e)
            elif line.startswith(CMD_EXIT):
                marks["cmd_exit"] = now
                res["cmd_status"] = line[len(CMD_EXIT):].strip()
    _, status, ru = os.wait4(p.pid, 0)
    t_end = time.monotonic()
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stdout.close()
    errf.close()
    with open(outpath, "wb") as f:
        f.write(out)
    res["exit_code"] = p.returncode
    res["timed_out"] = timed_out
    res["total_s"] = t_end - t0
    res["peak_rss_kb"] = ru.ru_maxrss  # kB on Linux
    res["user_s"], res["sys_s"] = ru.ru_utime, ru.ru_stime
    if "ready" in marks:
        res["boot_s"] = marks["ready"] - t0
    if "cmd_exit" in marks:
        res["exit_s"] = t_end - marks["cmd_exit"]
    if "cpu_start" in marks and "cpu_done" in marks:
        res["cpu_host_s"] = marks["cpu_done"] - marks["cpu_start"]
    if cpu_at.get("ready") is not None:
        res["boot_cpu_s"] = cpu_at["ready"]
    if None not in (cpu_at.get("cpu_start"), cpu_at.get("cpu_done")):
        res["cpu_proc_s"] = cpu_at["cpu_done"] - cpu_at["cpu_start"]
    res["ok"] = (not timed_out and "boot_s" in res and "exit_s" in res and
                 res.get("cmd_status") == "0" and "cpu_guest_s" in res)
    if not res["ok"]:
        log(f"  {kind} run {idx} FAILED (see {outpath}, {errpath})")
    return res


# --- report -----------------------------------------------------------------

def med(runs, key, sub=None):
    vals = []
    for r in runs:
        v = r.get(sub, {}).get(key) if sub else r.get(key)
        if v is not None:
            vals.append(v)
    return statistics.median(vals) if vals else None


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "MiB":
        return f"{v:.1f} MiB"
    return f"{v:.2f}"


def report(runs, args):
    sw = [r for r in runs if r["emulator"] == "swede" and r["ok"]]
    qm = [r for r in runs if r["emulator"] == "qemu" and r["ok"]]
    kib = 1.0 / 1024

    def m(rs, key, sub=None, scale=1.0):
        v = med(rs, key, sub)
        return None if v is None else v * scale

    rows = []  # (metric, swede, qemu, unit, ratio, ratio_label)

    def add(name, key, unit, sub=None, scale=1.0, speed=False):
        s, q = m(sw, key, sub, scale), m(qm, key, sub, scale)
        ratio = None
        if s is not None and q is not None and s > 0 and q > 0:
            ratio = q / s if speed else s / q
        rows.append((name, s, q, unit, ratio, speed))
        return s, q, ratio

    _, _, boot_ratio = add("boot to /init", "boot_s", "s")
    add("  host CPU time used", "boot_cpu_s", "s")
    add("exit after poweroff", "exit_s", "s")
    _, _, cpu_speed = add("cpubench (guest clock)", "cpu_guest_s", "s",
                          speed=True)
    _, _, cpu_host_speed = add("  host wall", "cpu_host_s", "s",
                               speed=True)
    add("  host CPU time used", "cpu_proc_s", "s", speed=True)
    add("peak RSS", "peak_rss_kb", "MiB", scale=kib)
    add("guest RAM touched", "guest_ram_kb", "MiB", sub="mem", scale=kib)
    s_ovh, _, _ = add("RSS beyond guest RAM", "overhead_kb", "MiB",
                      sub="mem", scale=kib)

    lines = []
    lines.append(f"swede vs QEMU: -M virt -m {args.m} -smp {args.smp}, "
                 f"{len(sw)}/{args.runs} swede and {len(qm)}/{args.runs} "
                 f"qemu runs ok, medians")
    lines.append(f"host: {cpu_model()}, {os.cpu_count()} CPUs, "
                 f"load average at end {os.getloadavg()[0]:.2f}")
    hdr = ("metric", "swede", "qemu", "ratio")
    table = [hdr]
    for name, s, q, unit, ratio, speed in rows:
        rs = "-" if ratio is None else (f"{ratio:.2f}x speed" if speed
                                        else f"{ratio:.2f}x")
        table.append((name, fmt(s, unit), fmt(q, unit), rs))
    w = [max(len(r[i]) for r in table) for i in range(4)]
    for i, r in enumerate(table):
        lines.append(f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  "
                     f"{r[3]:>{w[3]}}")
        if i == 0:
            lines.append("  ".join("-" * x for x in w))

    def verdict(ok):
        return "-" if ok is None else ("PASS" if ok else "MISS")

    targets = [
        (f"guest CPU speed >= {TARGET_CPU_SPEED}x QEMU TCG",
         "-" if cpu_speed is None else f"{cpu_speed:.2f}x",
         verdict(None if cpu_speed is None else
                 cpu_speed >= TARGET_CPU_SPEED)),
        (f"boot to /init <= {TARGET_BOOT_RATIO:g}x QEMU",
         "-" if boot_ratio is None else f"{boot_ratio:.2f}x",
         verdict(None if boot_ratio is None else
                 boot_ratio <= TARGET_BOOT_RATIO)),
        (f"memory beyond touched guest RAM < {TARGET_OVERHEAD_MIB:g} MiB",
         "-" if s_ovh is None else f"{s_ovh:.1f} MiB",
         verdict(None if s_ovh is None else s_ovh < TARGET_OVERHEAD_MIB)),
    ]
    lines.append("")
    lines.append("targets (swede)")
    tw = [max(len(t[i]) for t in targets) for i in range(3)]
    for t in targets:
        lines.append(f"{t[0]:<{tw[0]}}  {t[1]:>{tw[1]}}  {t[2]}")

    sums = {r.get("checksum") for r in sw + qm}
    if len(sums) > 1:
        lines.append("")
        lines.append(f"WARNING: cpubench checksums differ: "
                     + ", ".join(f"{r['emulator']}#{r['run']}="
                                 f"{r.get('checksum')}" for r in sw + qm))
    if cpu_speed and cpu_host_speed and \
            abs(cpu_speed / cpu_host_speed - 1) > 0.1:
        lines.append("WARNING: guest-clock and host-wall CPU ratios differ "
                     "by more than 10%")
    summary = {"boot_ratio": boot_ratio, "cpu_speed": cpu_speed,
               "cpu_host_speed": cpu_host_speed,
               "swede_overhead_mib": s_ovh,
               "targets": [{"target": t[0], "value": t[1], "verdict": t[2]}
                           for t in targets],
               "checksums_match": len(sums) == 1}
    return "\n".join(lines), summary


def version_of(exe, kind):
    try:
        r = subprocess.run([exe, "--version"], capture_output=True,
                           text=True, timeout=10)
        return (r.stdout or r.stderr).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3,
                    help="runs per emulator (default 3)")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("-m", default="512M", help="guest RAM (default 512M)")
    ap.add_argument("--swede", default=os.path.join(ROOT, "build", "swede"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--kit", default=os.path.join(ROOT, "kit"))
    ap.add_argument("--cc", default="riscv64-linux-gnu-gcc")
    ap.add_argument("--rounds", type=int, default=8,
                    help="cpubench rounds (default 8, ~8 s under QEMU TCG)")
    ap.add_argument("--cache", default=os.path.join(
        tempfile.gettempdir(), "swede-bench"),
        help="build outputs and logs (default /tmp/swede-bench)")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds per emulator run (default 900)")
    ap.add_argument("--only", choices=("swede", "qemu"),
                    help="run one emulator only (no ratios)")
    ap.add_argument("--json", metavar="OUT", help="write results as JSON")
    args = ap.parse_args()

    kernel = os.path.join(args.kit, "vmlinux")
    kit_initrd = os.path.join(args.kit, "initramfs.cpio.gz")
    for f in (kernel, kit_initrd):
        if not os.path.exists(f):
            sys.exit(f"boot.py: {f} missing; run scripts/guest-kit")
    qemu = shutil.which(args.qemu) or args.qemu
    emus = {"swede": os.path.abspath(args.swede), "qemu": qemu}
    for k, e in emus.items():
        if args.only in (None, k) and not os.access(e, os.X_OK):
            sys.exit(f"boot.py: {k} not found at {e}")

    os.makedirs(args.cache, exist_ok=True)
    binary = build_cpubench(args.cc, args.cache)
    initrd = build_initrd(kit_initrd, binary, args.cache)
    logdir = os.path.join(args.cache, "logs")
    os.makedirs(logdir, exist_ok=True)

    # The host samples memory while the guest sleeps after SAMPLE.
    cmd = (f"/{GUEST_PATH} {args.rounds} && echo '{SAMPLE}' && sleep 1")
    cmd64 = base64.b64encode(cmd.encode()).decode()
    argv = ["-M", "virt", "-m", args.m, "-smp", str(args.smp),
            "-nographic", "-bios", "default", "-kernel", kernel,
            "-initrd", initrd, "-append",
            f"console=ttyS0 quiet swede.cmd64={cmd64}"]
    ram_bytes = parse_mem(args.m)

    order = ["swede", "qemu"] if args.only is None else [args.only]
    runs = []
    for i in range(args.runs):
        # Alternate which goes first so slow drift on the host cancels out.
        seq = order if i % 2 == 0 else order[::-1]
        for kind in seq:
            log(f"run {i + 1}/{args.runs}: {kind}")
            r = run_one(kind, emus[kind], argv, ram_bytes, args.timeout,
                        logdir, i + 1)
            log("  " + ", ".join(
                f"{k}={r[k]:.2f}" for k in
                ("boot_s", "boot_cpu_s", "cpu_guest_s", "cpu_host_s",
                 "cpu_proc_s", "exit_s")
                if k in r) + f", peak_rss={r['peak_rss_kb'] / 1024:.1f}MiB"
                + (f", overhead={r['mem']['overhead_kb'] / 1024:.1f}MiB"
                   if "mem" in r else ""))
            runs.append(r)

    text, summary = report(runs, args)
    print(text)
    if args.json:
        doc = {
            "host": {"machine": platform.machine(), "uname":
                     " ".join(platform.uname()), "cpus": os.cpu_count(),
                     "cpu_model": cpu_model()},
            "config": {"m": args.m, "smp": args.smp, "runs": args.runs,
                       "rounds": args.rounds, "argv": argv,
                       "guest_cmd": cmd},
            "versions": {k: version_of(e, k) for k, e in emus.items()},
            "runs": runs, "summary": summary, "table": text,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
    bad = [r for r in runs if not r["ok"]]
    return 1 if bad else 0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
