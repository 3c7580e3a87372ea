#!/usr/bin/env python3
"""Checks scripts/plot_fan.py on a synthetic result file in MODEL.md's HDF5 layout.

Run by ctest as
    test_plot_fan.py --carecast BIN --source REPO_ROOT --workdir DIR
(--carecast is accepted and unused: the result file is built here with h5py.)
"""

import argparse
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_PNG_BYTES = 5000
DEFAULT_VARIABLES = ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap"]
VARIABLES = DEFAULT_VARIABLES + ["care_wage", "turnover_rate"]
SCENARIOS = ["baseline", "real_living_wage"]
REGIONS = ["Northfield", "Southport", "Total"]
MONTHS = 24


def month_days(start_year, start_month, months):
    days = []
    for t in range(months):
        y, m = start_year + (start_month - 1 + t) // 12, (start_month - 1 + t) % 12 + 1
        days.append((np.datetime64(f"{y:04d}-{m:02d}-01") - np.datetime64("1970-01-01")).astype(np.int64))
    return np.array(days, dtype=np.int64)


def write_result(path, quantiles):
    rng = np.random.default_rng(7)
    qs = np.array(quantiles, dtype=np.float64)
    z = np.array([{0.05: -1.645, 0.25: -0.674, 0.5: 0.0, 0.75: 0.674, 0.95: 1.645}.get(q, 0.0) for q in qs])
    with h5py.File(path, "w") as f:
        f.create_dataset("time", data=month_days(2026, 1, MONTHS)).attrs["units"] = "days since 1970-01-01"
        f.create_dataset("region", data=np.array(REGIONS, dtype=h5py.string_dtype()))
        f.create_dataset("quantile", data=qs)
        f.attrs["carecast_version"] = "test"
        f.attrs["model"] = "care_wf"
        f.attrs["mode"] = "stochastic"
        f.attrs["seed"] = np.int64(11)
        f.attrs["trajectories"] = np.int64(200)
        f.attrs["complete"] = np.int64(1)
        f.attrs["config"] = "# synthetic\n"
        t = np.arange(MONTHS, dtype=np.float64)
        for s_i, s in enumerate(SCENARIOS):
            g = f.create_group(f"scenarios/{s}/summary")
            for v_i, v in enumerate(VARIABLES):
                level = (1000.0 + 100.0 * v_i) * (1.0 + 0.01 * t)[:, None] * np.array([0.6, 0.4, 1.0])[None, :]
                mean = level * (1.0 + 0.05 * s_i) + rng.normal(0.0, 1.0, level.shape)
                sd = 0.02 * mean * np.sqrt(1.0 + t)[:, None]
                g.create_dataset(f"{v}_mean", data=mean)
                g.create_dataset(f"{v}_sd", data=sd)
                g.create_dataset(f"{v}_q", data=mean[None, :, :] + z[:, None, None] * sd[None, :, :])


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}{': ' + detail if detail else ''}")


def run_plot(script, args, env):
    proc = subprocess.run([sys.executable, script] + args, capture_output=True, text=True, env=env, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def valid_png(path):
    if not os.path.isfile(path):
        return False, "missing"
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head != PNG_MAGIC:
        return False, f"bad magic {head!r}"
    if size < MIN_PNG_BYTES:
        return False, f"only {size} bytes"
    return True, ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--carecast", default=None)
    parser.add_argument("--source", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    parser.add_argument("--workdir", default=None)
    args, _unknown = parser.parse_known_args()

    script = os.path.join(args.source, "scripts", "plot_fan.py")
    workdir = os.path.abspath(args.workdir or os.path.join(os.getcwd(), "py_test_plot_fan"))
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    env = dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=os.path.join(workdir, "mplconfig"))

    good = os.path.join(workdir, "good.h5")
    write_result(good, [0.05, 0.25, 0.5, 0.75, 0.95])
    no_q25 = os.path.join(workdir, "no_q25.h5")
    write_result(no_q25, [0.05, 0.5, 0.75, 0.95])

    c = Checks()

    # 1. Defaults: every default variable, every scenario, region Total.
    out = os.path.join(workdir, "default")
    rc, so, se = run_plot(script, [good, "-o", out], env)
    c.check("default run exits 0", rc == 0, f"rc={rc} stderr={se.strip()}")
    pngs = [os.path.join(out, f"fan_{v}.png") for v in DEFAULT_VARIABLES]
    bad = [f"{p} ({why})" for p in pngs for ok, why in [valid_png(p)] if not ok]
    c.check("default run writes a valid PNG per default variable", not bad, "; ".join(bad))
    c.check("default run prints the paths written", all(p in so for p in pngs), so.strip())

    # 2. Chosen variables, one scenario, one region.
    out = os.path.join(workdir, "chosen")
    rc, so, se = run_plot(script, [good, "--variable", "care_wage", "turnover_rate", "--scenario",
                                   "real_living_wage", "--region", "Southport", "-o", out], env)
    files = sorted(os.listdir(out)) if os.path.isdir(out) else []
    ok = rc == 0 and files == ["fan_care_wage.png", "fan_turnover_rate.png"] and \
        all(valid_png(os.path.join(out, p))[0] for p in files)
    c.check("chosen variables/scenario/region give exactly those PNGs", ok, f"rc={rc} files={files} stderr={se.strip()}")

    # 3. Unknown variable: exit 2 naming it.
    rc, so, se = run_plot(script, [good, "--variable", "no_such_variable", "-o", os.path.join(workdir, "bad_v")], env)
    c.check("unknown variable exits 2 naming it", rc == 2 and "no_such_variable" in se and "unmet_hours" in se,
            f"rc={rc} stderr={se.strip()}")

    # 4. Missing quantile 0.25: exit 2 naming it.
    rc, so, se = run_plot(script, [no_q25, "-o", os.path.join(workdir, "bad_q")], env)
    c.check("missing quantile exits 2 naming it", rc == 2 and "0.25" in se and "quantile" in se,
            f"rc={rc} stderr={se.strip()}")

    # 5. Unknown scenario and region: exit 2 naming them.
    rc, so, se = run_plot(script, [good, "--scenario", "nowhere_plan", "-o", os.path.join(workdir, "bad_s")], env)
    c.check("unknown scenario exits 2 naming it", rc == 2 and "nowhere_plan" in se and "real_living_wage" in se,
            f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_plot(script, [good, "--region", "Atlantis", "-o", os.path.join(workdir, "bad_r")], env)
    c.check("unknown region exits 2 naming it", rc == 2 and "Atlantis" in se and "Northfield" in se,
            f"rc={rc} stderr={se.strip()}")

    print(f"test_plot_fan: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
