#!/usr/bin/env python3
"""Runs the Python examples of docs/output.md against a real result file.

Run by ctest as
    test_output_docs.py --carecast BIN --source REPO_ROOT --workdir DIR
It runs tiny.toml with saved trajectories (scenario names as in the default file:
real_living_wage exists in tiny.toml too) and `carecast attribute` for year 1, then executes every
```python block of docs/output.md with "out/wm_baseline.h5" pointing at that file. Each block must
run without error and print something.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--carecast", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--workdir", required=True)
    args, _ = parser.parse_known_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)

    with open(os.path.join(args.source, "tests", "data", "tiny.toml")) as fh:
        config = fh.read().replace("save_trajectories = 0", "save_trajectories = 100")
    config_path = os.path.join(args.workdir, "tiny_saved.toml")
    with open(config_path, "w") as fh:
        fh.write(config)
    result = os.path.join(args.workdir, "run.h5")
    subprocess.run([args.carecast, "run", config_path, "-n", "100", "-q", "-o", result], check=True)
    subprocess.run([args.carecast, "attribute", result, "--variable", "unmet_hours", "--year", "1",
                    "--bootstrap", "20"], check=True, capture_output=True)

    with open(os.path.join(args.source, "docs", "output.md")) as fh:
        blocks = re.findall(r"```python\n(.*?)```", fh.read(), re.S)
    passed = failed = 0
    if len(blocks) < 2:
        print("FAIL: docs/output.md should have an h5py and an xarray example", file=sys.stderr)
        failed += 1
    for i, code in enumerate(blocks):
        code = code.replace("out/wm_baseline.h5", result)
        lines = [l for l in code.splitlines() if l.strip()]
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        ok = run.returncode == 0 and run.stdout.strip() != "" and len(lines) <= 12
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: example {i + 1} ({len(lines)} lines):\n{code}\n{run.stderr}", file=sys.stderr)
    print(f"test_output_docs: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
