#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run-tests: everything after install-deps in scripts/test.

Builds the guest kit (scripts/guest-kit, in the background while the
builds run), a release build in build/ (gcc, -Werror) and a clang
ASan+UBSan build in build-asan/; runs the unit, dev and fuzz meson suites in
both builds, the functional tests (tests/functional/test_*.py) against
build/swede, one guest boot under build-asan/swede and, when present,
tests/functional/diff_guests.py. Counts individual tests (meson's per-test
results from meson-logs/testlog.json; unittest results through the runner
below) and prints as its last line

    N passed, N failed[, N skipped]

exiting 1 if anything failed. A step that cannot run (a build that fails,
a test program that dies without results) counts as one failure.

    scripts/run-tests.py [--no-asan] [--no-functional] [-k PATTERN]
    scripts/run-tests.py --unittest FILE [--only NAME] [--label L]
                         [--results JSON]

The second form runs one unittest file with one line per test, the form
the first one uses for every Python test file. Standard library only.
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTIONAL = os.path.join(ROOT, "tests", "functional")
SUITES = ("unit", "dev", "fuzz")
UBSAN_OPTIONS = "halt_on_error=1:print_stacktrace=1"

T0 = time.monotonic()


def say(msg=""):
    print(msg, flush=True)


def elapsed():
    s = int(time.monotonic() - T0)
    return "%d:%02d" % (s // 60, s % 60)


def step(title):
    say()
    say("==> [%s] %s" % (elapsed(), title))


# --------------------------------------------------------------------------
# unittest with one line per test


class LineResult(unittest.TestResult):
    """Prints "ok/FAIL/ERROR/skip <label>/<test id>" as each test ends,
    with the traceback under a failing one; keeps the counts."""

    def __init__(self, label):
        super().__init__()
        self.label = label
        self.n_passed = 0
        self.failed_names = []
        self.n_skipped = 0
        self._t = {}
        self._sub_failed = set()

    def name(self, test):
        tid = test.id()
        # "__main__.Class.test" or "<module>.Class.test" -> "Class.test"
        parts = tid.split(".")
        if len(parts) >= 3:
            tid = ".".join(parts[1:])
        return "%s/%s" % (self.label, tid) if self.label else tid

    def _line(self, status, test, extra=""):
        t = self._t.pop(test.id(), None)
        dur = " (%.1fs)" % (time.monotonic() - t) if t is not None else ""
        say("  %-5s %s%s%s" % (status, self.name(test), dur, extra))

    def startTest(self, test):
        super().startTest(test)
        self._t[test.id()] = time.monotonic()

    def addSuccess(self, test):
        super().addSuccess(test)
        if test.id() in self._sub_failed:
            return  # already counted as failed by addSubTest
        self.n_passed += 1
        self._line("ok", test)

    def _fail(self, status, test, err):
        self.failed_names.append(self.name(test))
        self._line(status, test)
        text = self._exc_info_to_string(err, test)
        for line in text.rstrip().splitlines():
            say("        " + line)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail("FAIL", test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._fail("ERROR", test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None and test.id() not in self._sub_failed:
            self._sub_failed.add(test.id())
            self._fail("FAIL", test, err)
        elif err is not None:
            for line in self._exc_info_to_string(err, test).splitlines():
                say("        " + line)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.n_skipped += 1
        self._line("skip", test, " -- " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.n_passed += 1
        self._line("ok", test, " (expected failure)")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed_names.append(self.name(test))
        self._line("FAIL", test, " (unexpected success)")


def run_unittest_file(path, only, label, results):
    """Load path as a module, run its tests (or only NAME) line by line."""
    counts = {"passed": 0, "failed": 0, "skipped": 0, "failures": []}
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        modname = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        loader = unittest.TestLoader()
        if only:
            suite = unittest.TestSuite(loader.loadTestsFromName(n, mod)
                                       for n in only)
        else:
            suite = loader.loadTestsFromModule(mod)
        result = LineResult(label)
        suite.run(result)
        counts.update(passed=result.n_passed, skipped=result.n_skipped,
                      failed=len(result.failed_names),
                      failures=result.failed_names)
    except Exception:
        name = "%s/%s" % (label, os.path.basename(path))
        say("  ERROR %s: cannot load or run" % name)
        for line in traceback.format_exc().rstrip().splitlines():
            say("        " + line)
        counts["failed"] += 1
        counts["failures"].append(name + " (load)")
    if results:
        with open(results, "w") as f:
            json.dump(counts, f)
    return 1 if counts["failed"] else 0


# --------------------------------------------------------------------------
# the whole run


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []
        self.steps = []   # (title, passed, failed, skipped, seconds)

    def add(self, title, passed, failed, skipped, failures, seconds):
        self.passed += passed
        self.failed += failed
        self.skipped += skipped
        self.failures += failures
        self.steps.append((title, passed, failed, skipped, seconds))
        say("--> %s: %d passed, %d failed, %d skipped (%.0fs)"
            % (title, passed, failed, skipped, seconds))

    def broken(self, title, why, seconds=0.0):
        """A step that could not produce per-test results."""
        say("--> %s: FAILED: %s" % (title, why))
        self.add(title, 0, 1, 0, ["%s (%s)" % (title, why)], seconds)


def run(cmd, env=None, cwd=ROOT, timeout=None, log=None):
    """Run cmd with stdin from /dev/null, output to ours (or to log)."""
    say("$ " + " ".join(cmd))
    try:
        r = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                           stdout=log, stderr=subprocess.STDOUT if log
                           else None, timeout=timeout)
        return r.returncode
    except subprocess.TimeoutExpired:
        say("!!! timed out after %ds: %s" % (timeout, " ".join(cmd)))
        return 124
    except OSError as e:
        say("!!! cannot run %s: %s" % (cmd[0], e))
        return 127


def configured(bdir):
    return os.path.exists(os.path.join(bdir, "meson-private",
                                       "coredata.dat"))


def build(tally, title, bdir, options, env):
    """meson setup (or configure) + ninja; True when the build is usable."""
    step(title)
    t = time.monotonic()
    path = os.path.join(ROOT, bdir)
    rc = 1
    if configured(path):
        rc = run(["meson", "configure", bdir, *options], env=env)
        if rc != 0:
            say("reconfiguring %s from scratch" % bdir)
            rc = run(["meson", "setup", "--wipe", bdir, *options], env=env)
    else:
        rc = run(["meson", "setup", bdir, *options], env=env)
    if rc != 0:
        tally.broken(title, "meson setup failed", time.monotonic() - t)
        return False
    rc = run(["ninja", "-C", bdir], env=env)
    if rc != 0:
        tally.broken(title, "ninja failed", time.monotonic() - t)
        return False
    say("--> %s: built (%.0fs)" % (title, time.monotonic() - t))
    return True


def meson_suites(bdir):
    """The suites of SUITES that bdir defines tests for."""
    try:
        out = subprocess.run(["meson", "introspect", "--tests", bdir],
                             cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
        tests = json.loads(out)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return list(SUITES)
    have = set()
    for t in tests:
        for s in t.get("suite", []):
            have.add(s.split(":")[-1])
    return [s for s in SUITES if s in have]


def meson_test(tally, title, bdir, env, multiplier=1):
    step(title)
    t = time.monotonic()
    suites = meson_suites(bdir)
    if not suites:
        say("no %s tests defined" % "/".join(SUITES))
        tally.add(title, 0, 0, 0, [], 0)
        return
    missing = [s for s in SUITES if s not in suites]
    if missing:
        say("(no tests in suite%s %s yet)" % ("s" if len(missing) > 1
                                             else "", ", ".join(missing)))
    log = os.path.join(ROOT, bdir, "meson-logs", "testlog.json")
    try:
        os.unlink(log)
    except OSError:
        pass
    cmd = ["meson", "test", "-C", bdir, "--print-errorlogs",
           "--timeout-multiplier", str(multiplier)]
    for s in suites:
        cmd += ["--suite", s]
    rc = run(cmd, env=env)
    passed = failed = skipped = 0
    failures = []
    try:
        with open(log) as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                res = r.get("result", "")
                name = "%s/%s" % (bdir, r.get("name", "?").split(" / ")[-1])
                if res in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif res == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    failures.append("%s (%s)" % (name, res))
    except (OSError, ValueError) as e:
        tally.broken(title, "no results (%s), meson test exit %d" % (e, rc),
                     time.monotonic() - t)
        return
    if rc != 0 and failed == 0:
        failed, failures = 1, ["%s (meson test exit %d)" % (title, rc)]
    tally.add(title, passed, failed, skipped, failures,
              time.monotonic() - t)


def unittest_file(tally, title, path, env, label, only=(), timeout=1800):
    step(title)
    t = time.monotonic()
    fd, res = tempfile.mkstemp(prefix="swede-test-", suffix=".json")
    os.close(fd)
    os.unlink(res)
    cmd = [sys.executable, os.path.abspath(__file__), "--unittest", path,
           "--label", label, "--results", res]
    for n in only:
        cmd += ["--only", n]
    rc = run(cmd, env=env, timeout=timeout)
    try:
        with open(res) as f:
            c = json.load(f)
        os.unlink(res)
    except (OSError, ValueError):
        tally.broken(title, "no results (exit status %d)" % rc,
                     time.monotonic() - t)
        return
    tally.add(title, c["passed"], c["failed"], c["skipped"], c["failures"],
              time.monotonic() - t)


def lsan_works(env):
    """Whether LeakSanitizer works here (it does not under ptrace and in
    some containers): build and run a program that leaks."""
    d = tempfile.mkdtemp(prefix="swede-lsan-")
    try:
        src = os.path.join(d, "leak.c")
        with open(src, "w") as f:
            f.write("#include <stdlib.h>\nvoid *volatile p;\n"
                    "int main(void) { p = malloc(33); p = 0; return 0; }\n")
        exe = os.path.join(d, "leak")
        r = subprocess.run(["clang", "-fsanitize=address", "-g", src, "-o",
                            exe], capture_output=True, text=True)
        if r.returncode != 0:
            return False, "clang cannot build an ASan program: " + \
                r.stderr.strip()[-300:]
        e = dict(env, ASAN_OPTIONS="detect_leaks=1")
        r = subprocess.run([exe], capture_output=True, text=True, env=e,
                           stdin=subprocess.DEVNULL, timeout=60)
        if "LeakSanitizer: detected memory leaks" in r.stderr:
            return True, "LeakSanitizer works"
        last = (r.stderr.strip().splitlines() or ["no report"])[-1]
        return False, "LeakSanitizer does not work here (%s)" % last
    except (OSError, subprocess.SubprocessError) as e:
        return False, "LeakSanitizer probe failed (%s)" % e
    finally:
        shutil.rmtree(d, ignore_errors=True)


FUZZ_SECONDS = int(os.environ.get("SWEDE_FUZZ_SECONDS", "60"))


def fuzz_short_runs(tally, env):
    """A short real libFuzzer run of every target (the replay of corpora
    and regressions is the meson 'fuzz' suite). New corpus entries go to
    a scratch directory; a crash fails the test and leaves its input in
    build-asan/fuzz-artifacts/ to be added to tests/fuzz/regressions/."""
    step("short libFuzzer runs (%ds each)" % FUZZ_SECONDS)
    t = time.monotonic()
    fdir = os.path.join(ROOT, "build-asan", "tests", "fuzz")
    targets = sorted(f[len("fuzz_"):] for f in os.listdir(fdir)
                     if f.startswith("fuzz_") and "." not in f and
                     os.path.isfile(os.path.join(fdir, f)) and
                     os.access(os.path.join(fdir, f), os.X_OK)) \
        if os.path.isdir(fdir) else []
    if not targets:
        tally.broken("short libFuzzer runs", "no fuzz_* binaries were built")
        return
    passed, failures = 0, []
    arts = os.path.join(ROOT, "build-asan", "fuzz-artifacts")
    os.makedirs(arts, exist_ok=True)
    for name in targets:
        scratch = tempfile.mkdtemp(prefix="swede-fuzz-%s-" % name)
        corpus = os.path.join(ROOT, "tests", "fuzz", "corpus", name)
        cmd = [os.path.join(fdir, "fuzz_" + name), scratch,
               "-max_total_time=%d" % FUZZ_SECONDS, "-timeout=10",
               "-rss_limit_mb=2048", "-print_final_stats=1",
               "-artifact_prefix=%s/%s-" % (arts, name)]
        if os.path.isdir(corpus):
            cmd.append(corpus)
        rc = run(cmd, env=env, timeout=FUZZ_SECONDS + 120)
        shutil.rmtree(scratch, ignore_errors=True)
        say("%s fuzz/%s" % ("ok  " if rc == 0 else "FAIL", name))
        if rc == 0:
            passed += 1
        else:
            failures.append("libFuzzer run of %s (exit %d; see %s)"
                            % (name, rc, arts))
    tally.add("short libFuzzer runs", passed, len(failures), 0, failures,
              time.monotonic() - t)


def main_run(args):
    tally = Tally()
    base_env = dict(os.environ)
    base_env.pop("SWEDE", None)
    base_env.pop("KIT", None)
    say("run-tests: swede at %s, %d CPUs" % (ROOT, os.cpu_count() or 0))

    # The kit downloads while the builds use the CPUs.
    step("guest kit (scripts/guest-kit, in the background)")
    kit_log = tempfile.TemporaryFile(mode="w+")
    kit_t = time.monotonic()
    say("$ scripts/guest-kit")
    kit = subprocess.Popen([sys.executable,
                            os.path.join(ROOT, "scripts", "guest-kit")],
                           cwd=ROOT, stdin=subprocess.DEVNULL, stdout=kit_log,
                           stderr=subprocess.STDOUT)

    rel_env = dict(base_env)
    if not configured(os.path.join(ROOT, "build")):
        rel_env["CC"] = os.environ.get("SWEDE_CC", "gcc")
    rel_ok = build(tally, "release build (build/, gcc, -Werror)", "build",
                   ["-Dwerror=true"], rel_env)

    asan_ok = False
    asan_env = dict(base_env, CC="clang",
                    UBSAN_OPTIONS=UBSAN_OPTIONS)
    if not args.no_asan:
        asan_ok = build(tally, "ASan+UBSan build (build-asan/, clang)",
                        "build-asan",
                        ["-Db_sanitize=address,undefined",
                         "-Db_lundef=false", "-Dwerror=true",
                         "-Dfuzzing=true"], asan_env)
        works, why = lsan_works(base_env)
        asan_env["ASAN_OPTIONS"] = "detect_leaks=%d" % works
        say("run-tests: %s: ASAN_OPTIONS=%s UBSAN_OPTIONS=%s"
            % (why, asan_env["ASAN_OPTIONS"], UBSAN_OPTIONS))

    step("guest kit: waiting for scripts/guest-kit")
    try:
        krc = kit.wait(timeout=1200)
    except subprocess.TimeoutExpired:
        kit.kill()
        krc = kit.wait()
    kit_log.seek(0)
    for line in kit_log.read().splitlines():
        say("  " + line)
    if krc != 0:
        tally.broken("guest kit", "scripts/guest-kit exit %d" % krc,
                     time.monotonic() - kit_t)
    else:
        say("--> guest kit: ready")

    if rel_ok:
        meson_test(tally, "meson test: build/ (%s)" % ", ".join(SUITES),
                   "build", base_env)
    if asan_ok:
        meson_test(tally, "meson test: build-asan/ (%s) under ASan+UBSan"
                   % ", ".join(SUITES), "build-asan", asan_env, multiplier=4)

    if asan_ok:
        fuzz_short_runs(tally, asan_env)

    fenv = dict(base_env, SWEDE=os.path.join(ROOT, "build", "swede"),
                KIT=os.path.join(ROOT, "kit"), SWEDE_TEST_REQUIRE_KIT="1")
    if rel_ok and not args.no_functional:
        files = sorted(f for f in os.listdir(FUNCTIONAL)
                       if f.startswith("test_") and f.endswith(".py"))
        for f in files:
            if args.k and args.k not in f:
                continue
            unittest_file(tally, "functional: tests/functional/" + f,
                          os.path.join(FUNCTIONAL, f), fenv, f[:-3])
        diff = os.path.join(FUNCTIONAL, "diff_guests.py")
        if os.path.exists(diff) and (not args.k or args.k in "diff_guests"):
            unittest_file(tally, "differential: tests/functional/"
                          "diff_guests.py", diff,
                          dict(fenv, GUEST_BUILD=os.path.join(
                              ROOT, "build", "guests")), "diff_guests")

    if asan_ok and not args.no_functional and (
            not args.k or args.k in "test_boot.py"):
        aenv = dict(asan_env, SWEDE=os.path.join(ROOT, "build-asan", "swede"),
                    KIT=os.path.join(ROOT, "kit"),
                    SWEDE_TEST_REQUIRE_KIT="1", BOOT_TIMEOUT="900")
        unittest_file(tally, "ASan+UBSan guest boot (build-asan/swede)",
                      os.path.join(FUNCTIONAL, "test_boot.py"), aenv,
                      "asan/test_boot", only=["BootSmp4"])

    step("summary")
    for title, p, f, s, secs in tally.steps:
        say("  %-62s %4d passed %3d failed %3d skipped %5.0fs"
            % (title[:62], p, f, s, secs))
    if tally.failures:
        say("failed:")
        for n in tally.failures:
            say("  " + n)
    say("total time %s" % elapsed())
    line = "%d passed, %d failed" % (tally.passed, tally.failed)
    if tally.skipped:
        line += ", %d skipped" % tally.skipped
    say(line)
    return 1 if tally.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-asan", action="store_true",
                    help="skip the ASan+UBSan build and its tests")
    ap.add_argument("--no-functional", action="store_true",
                    help="skip the Python tests (guest boots)")
    ap.add_argument("-k", metavar="PATTERN",
                    help="only Python test files whose name contains this")
    ap.add_argument("--unittest", metavar="FILE",
                    help="run one unittest file, one line per test")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="with --unittest: only this test (Class[.test])")
    ap.add_argument("--label", default="", help="prefix of test names")
    ap.add_argument("--results", metavar="JSON",
                    help="with --unittest: write the counts here")
    args = ap.parse_args()
    if args.unittest:
        return run_unittest_file(args.unittest, args.only, args.label,
                                 args.results)
    return main_run(args)


if __name__ == "__main__":
    sys.exit(main())
