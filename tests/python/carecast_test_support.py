"""What the Python tests of carecast share (tests/python/test_*.py import it; ctest runs only test_*.py).

Each test script is run by ctest as
    test_X.py --carecast BIN --source REPO_ROOT --workdir DIR
and prints a line per check ("PASS name" or "FAIL name: detail") and finally
"test_X: P passed, F failed", exiting 1 on failure. This module holds:
  - Checks: the pass/fail counter and that final line;
  - parse_args and fresh_workdir: the three options and the working directory;
  - PNG checks: magic number, IHDR width and height, minimum size, not blank;
  - make_result: tests/data/tiny.toml with saved trajectories, `carecast run`, `carecast attribute`
    (result_file: that, or the file given with --file);
  - plot_env, run_python and month_days for the tests of the plotting scripts.
"""

import argparse
import os
import shutil
import struct
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_PNG_BYTES = 5000


# ---- counting checks ----------------------------------------------------------------------------


class CheckFailed(Exception):
    """A failed requirement inside a check run by Checks.attempt."""


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


class Checks:
    """Counts passed and failed checks, printing a PASS or FAIL line for each."""

    def __init__(self, test_name):
        self.test_name = test_name
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        """Records one check; prints "PASS name" or "FAIL name: detail". Returns ok."""
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}{': ' + detail if detail else ''}", flush=True)
        return ok

    def attempt(self, name, action):
        """Runs action() as one check: it passes if action returns and fails if it raises
        (with the message of a CheckFailed, or the type and message of any other exception)."""
        try:
            action()
        except Exception as error:  # a check that crashes has failed, whatever the reason
            kind = "" if isinstance(error, CheckFailed) else f"{type(error).__name__}: "
            return self.check(name, False, f"{kind}{error}")
        return self.check(name, True)

    def finish(self):
        """Prints "test_X: P passed, F failed"; returns the exit status (1 if a check failed or none ran)."""
        print(f"{self.test_name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed or not self.passed else 0

    def abort(self):
        """finish() for a test that cannot go on: it counts as failed even if no check has."""
        if not self.failed:
            self.failed = 1
        return self.finish()


# ---- options and the working directory ----------------------------------------------------------


def parse_args(test_name, *, required=False, file_option=False, description=None):
    """--carecast BIN --source REPO_ROOT --workdir DIR [--file RESULT.h5]; other options are ignored.

    required: the three options must be given (with file_option: unless --file is).
    Otherwise --carecast defaults to carecast on PATH, --source to this checkout and --workdir to
    ./py_<test_name>. Paths come back absolute (BIN only if it has a directory part)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--carecast", default=None if required else "carecast", help="the carecast binary")
    parser.add_argument("--source", default=None if required else REPO_ROOT, help="the repository root")
    parser.add_argument("--workdir", default=None, help="a directory for this test's files")
    if file_option:
        parser.add_argument("--file", default=None, help="use this result file instead of running carecast")
    args, _unknown = parser.parse_known_args()
    if required and None in (args.carecast, args.source, args.workdir) and \
            not (file_option and args.file is not None):
        parser.error(("need --file, or " if file_option else "need ") + "--carecast, --source and --workdir")
    if args.source is not None:
        args.source = os.path.abspath(args.source)
    if args.carecast is not None and os.sep in args.carecast:
        args.carecast = os.path.abspath(args.carecast)
    if args.workdir is not None or not required:
        args.workdir = os.path.abspath(args.workdir or os.path.join(os.getcwd(), f"py_{test_name}"))
    if file_option and args.file is not None:
        args.file = os.path.abspath(args.file)
    return args


def fresh_workdir(path):
    """Empties (or makes) the directory; returns it."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


# ---- PNG images ---------------------------------------------------------------------------------


def png_dimensions(data):
    """(width, height) from a PNG's IHDR chunk, or None if the bytes are not a PNG."""
    if len(data) < 24 or data[:8] != PNG_MAGIC or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def png_file_dimensions(path):
    """png_dimensions of a file, or None if there is no such file."""
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as fh:
        return png_dimensions(fh.read(24))


def png_problem(data, *, min_bytes=MIN_PNG_BYTES, min_width=None, min_height=None):
    """What makes these bytes an unacceptable PNG, or "" if nothing does.

    Always: the PNG magic number and at least min_bytes bytes. With min_width or min_height: an
    IHDR chunk whose width and height are at least those."""
    if data[:8] != PNG_MAGIC:
        return f"bad magic {data[:8]!r}"
    dims = None
    if min_width is not None or min_height is not None:
        dims = png_dimensions(data)
        if dims is None:
            return "not a PNG (no IHDR chunk)"
    if len(data) < min_bytes:
        return f"only {len(data)} bytes"
    if dims is not None and (dims[0] < (min_width or 0) or dims[1] < (min_height or 0)):
        return f"only {dims[0]}x{dims[1]} pixels"
    return ""


def png_file_problem(path, *, min_bytes=MIN_PNG_BYTES, min_width=None, min_height=None, non_blank=False):
    """png_problem of a file ("missing" if there is none); with non_blank, also "blank image" when
    the spread of its RGB values is below 0.01."""
    if not os.path.isfile(path):
        return "missing"
    with open(path, "rb") as fh:
        data = fh.read()
    why = png_problem(data, min_bytes=min_bytes, min_width=min_width, min_height=min_height)
    if why or not non_blank:
        return why
    import matplotlib.image as mpimg
    import numpy as np
    if float(np.std(mpimg.imread(path)[..., :3])) < 0.01:
        return "blank image"
    return ""


# ---- running things -----------------------------------------------------------------------------


def plot_env(workdir, **extra):
    """The environment for matplotlib in a test: the Agg backend and a config directory in workdir."""
    return dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=os.path.join(workdir, "mplconfig"), **extra)


def run_python(script, args, env, timeout=300):
    """Runs a Python script with this interpreter; returns (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, script] + args, capture_output=True, text=True, env=env,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def month_days(start_year, start_month, months):
    """The first day of each of `months` months from start_year-start_month, as days since 1970-01-01."""
    import numpy as np
    days = []
    for t in range(months):
        y, m = start_year + (start_month - 1 + t) // 12, (start_month - 1 + t) % 12 + 1
        days.append((np.datetime64(f"{y:04d}-{m:02d}-01") - np.datetime64("1970-01-01")).astype(np.int64))
    return np.array(days, dtype=np.int64)


def make_result(carecast, source, workdir, c=None, *, trajectories=200, seed=3, bootstrap=None):
    """A real result file with saved trajectories and an attribution group; returns its path.

      1. WORKDIR/tiny.toml = tests/data/tiny.toml with `save_trajectories = TRAJECTORIES`;
      2. BIN run WORKDIR/tiny.toml -n TRAJECTORIES [--seed SEED] -q -o WORKDIR/run.h5;
      3. BIN attribute WORKDIR/run.h5 --variable unmet_hours --year 1 [--bootstrap BOOTSTRAP].
    Each step is a check of c, and a failed one returns None; with no c, a failed step raises
    RuntimeError instead."""

    def step(name, ok, detail=""):
        if c is not None:
            return c.check(name, ok, detail)
        if not ok:
            raise RuntimeError(f"{name}: {detail}" if detail else name)
        return ok

    with open(os.path.join(source, "tests", "data", "tiny.toml"), encoding="utf-8") as fh:
        text = fh.read()
    config = os.path.join(workdir, "tiny.toml")
    replaced = text.replace("save_trajectories = 0", f"save_trajectories = {trajectories}")
    if not step("tiny.toml has save_trajectories = 0 to replace", replaced != text):
        return None
    with open(config, "w", encoding="utf-8") as fh:
        fh.write(replaced)
    result = os.path.join(workdir, "run.h5")
    seed_args = [] if seed is None else ["--seed", str(seed)]
    run = subprocess.run([carecast, "run", config, "-n", str(trajectories)] + seed_args + ["-q", "-o", result],
                         capture_output=True, text=True, timeout=600)
    if not step("carecast run exits 0 and writes the file", run.returncode == 0 and os.path.isfile(result),
                f"rc={run.returncode} {run.stderr.strip()}"):
        return None
    bootstrap_args = [] if bootstrap is None else ["--bootstrap", str(bootstrap)]
    attribute = subprocess.run([carecast, "attribute", result, "--variable", "unmet_hours", "--year", "1"]
                               + bootstrap_args, capture_output=True, text=True, timeout=600)
    if not step("carecast attribute --variable unmet_hours --year 1 exits 0", attribute.returncode == 0,
                f"rc={attribute.returncode} {attribute.stderr.strip()}"):
        return None
    return result


def result_file(args, c):
    """The result file a test reads: --file if given (a check that it exists), else make_result's
    in args.workdir. None if there is none (a check has failed)."""
    if args.file:
        if not c.check("--file exists", os.path.isfile(args.file), args.file):
            return None
        return args.file
    return make_result(args.carecast, args.source, args.workdir, c)
