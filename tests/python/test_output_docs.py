#!/usr/bin/env python3
"""Runs the Python examples of docs/output.md against a real result file.

Run by ctest as
    test_output_docs.py --carecast BIN --source REPO_ROOT --workdir DIR
It runs tiny.toml with saved trajectories (scenario names as in the default file:
real_living_wage exists in tiny.toml too) and `carecast attribute` for year 1, then executes every
```python block of docs/output.md with "out/wm_baseline.h5" pointing at that file. Each block must
run without error and print something.
"""

import os
import re
import subprocess
import sys

from carecast_test_support import Checks, fresh_workdir, make_result, parse_args


def main():
    args = parse_args("test_output_docs", required=True)
    fresh_workdir(args.workdir)
    # The steps of the pipeline are not counted as checks here: a failed one raises.
    result = make_result(args.carecast, args.source, args.workdir, trajectories=100, seed=None, bootstrap=20)

    with open(os.path.join(args.source, "docs", "output.md")) as fh:
        blocks = re.findall(r"```python\n(.*?)```", fh.read(), re.S)
    c = Checks("test_output_docs")
    if len(blocks) < 2:  # counted only when it fails
        c.check("docs/output.md should have an h5py and an xarray example", False)
    for i, code in enumerate(blocks):
        code = code.replace("out/wm_baseline.h5", result)
        lines = [l for l in code.splitlines() if l.strip()]
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        c.check(f"example {i + 1} ({len(lines)} lines)",
                run.returncode == 0 and run.stdout.strip() != "" and len(lines) <= 12,
                f"\n{code}\n{run.stderr}")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
