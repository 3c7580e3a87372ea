#!/usr/bin/env python3
"""End to end: carecast run on the default scenario file, carecast info, and the fan charts.

Run by ctest as
    test_end_to_end.py --carecast BIN --source REPO_ROOT --workdir DIR
"""

import argparse
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--carecast", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--workdir", required=True)
    args, _ = parser.parse_known_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    out = os.path.join(args.workdir, "wm.h5")
    scenario_file = os.path.join(args.source, "data", "scenarios", "wm_baseline.toml")
    c = Checks()

    run = subprocess.run([args.carecast, "run", scenario_file, "-n", "300", "-o", out],
                         capture_output=True, text=True)
    c.check(run.returncode == 0, f"carecast run exits 0: {run.stderr}")
    c.check("wrote " + out in run.stdout, f"run prints the output path: {run.stdout}")
    c.check("trajectories/s" in run.stderr, f"run prints its timing: {run.stderr}")
    c.check(os.path.exists(out), "the result file exists")

    with h5py.File(out, "r") as f:
        c.check(int(f.attrs["complete"]) == 1, "complete = 1")
        c.check(int(f.attrs["trajectories"]) == 300, "trajectories = 300")
        scenarios = sorted(f["scenarios"].keys())
        c.check(scenarios == ["baseline", "community_shift", "parity", "real_living_wage"],
                f"the four default scenarios: {scenarios}")
        config = f.attrs["config"]
        config = config.decode() if isinstance(config, bytes) else config
        c.check("[[scenario]]" in config and "real_living_wage" in config,
                "the resolved config holds the scenarios")

    ds = xr.open_dataset(out, group="scenarios/baseline/summary", engine="h5netcdf")
    c.check(set(ds.sizes) == {"time", "region", "quantile"}, f"dims: {dict(ds.sizes)}")
    c.check(ds.sizes["time"] == 120 and ds.sizes["region"] == 8, f"sizes: {dict(ds.sizes)}")
    c.check(str(ds["time"].values[0])[:10] == "2026-04-01", f"first month: {ds['time'].values[0]}")
    total = ds["unmet_hours_mean"].sel(region="Total")
    regions = ds["unmet_hours_mean"].drop_sel(region="Total").sum("region")
    c.check(np.allclose(total, regions, rtol=1e-9), "Total is the sum of the regions")
    c.check(float(ds["headcount_mean"].sel(region="Total")[0]) > 1000, "a real workforce")
    ds.close()

    # The same run re-read from its own config reproduces the file.
    with h5py.File(out, "r") as f:
        config = f.attrs["config"]
        config = config.decode() if isinstance(config, bytes) else config
    resolved = os.path.join(args.workdir, "resolved.toml")
    with open(resolved, "w") as fh:
        fh.write(config)
    again = os.path.join(args.workdir, "again.h5")
    rerun = subprocess.run([args.carecast, "run", resolved, "-q", "-o", again],
                           capture_output=True, text=True)
    c.check(rerun.returncode == 0, f"rerun of the resolved config: {rerun.stderr}")
    if rerun.returncode == 0:
        with h5py.File(out, "r") as a, h5py.File(again, "r") as b:
            same = all(np.array_equal(a[f"scenarios/{s}/summary/{v}"][()],
                                      b[f"scenarios/{s}/summary/{v}"][()])
                       for s in a["scenarios"] for v in a[f"scenarios/{s}/summary"])
            c.check(same, "the resolved config reproduces every summary bit for bit")

    info = subprocess.run([args.carecast, "info", out], capture_output=True, text=True)
    c.check(info.returncode == 0, f"carecast info exits 0: {info.stderr}")
    for word in ["scenario baseline", "scenario parity", "unmet hours/month", "headcount",
                 "vacancies", "cost GBP/month", "funding gap GBP/month", "2027-03"]:
        c.check(word in info.stdout, f"info shows '{word}'")
    c.check(len([l for l in info.stdout.splitlines() if l.startswith("10 ")]) == 4,
            "info has ten years for each of the four scenarios")

    bad = subprocess.run([args.carecast, "info", os.path.join(args.workdir, "missing.h5")],
                         capture_output=True, text=True)
    c.check(bad.returncode != 0 and "missing.h5" in bad.stderr, "info on a missing file fails clearly")

    plots = os.path.join(args.workdir, "plots")
    plot = subprocess.run([sys.executable, os.path.join(args.source, "scripts", "plot_fan.py"), out,
                           "-o", plots], capture_output=True, text=True)
    c.check(plot.returncode == 0, f"plot_fan.py exits 0: {plot.stderr}")
    for variable in ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap"]:
        png = os.path.join(plots, f"fan_{variable}.png")
        ok = os.path.exists(png) and open(png, "rb").read(8) == PNG_MAGIC and os.path.getsize(png) > 5000
        c.check(ok, f"{png} is a PNG")

    print(f"test_end_to_end: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
