#!/usr/bin/env python3
"""End to end: carecast run on the default scenario file, carecast info, and the fan charts.

Run by ctest as
    test_end_to_end.py --carecast BIN --source REPO_ROOT --workdir DIR
"""

import os
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

from carecast_test_support import MIN_PNG_BYTES, Checks, fresh_workdir, parse_args, png_file_problem


def main():
    args = parse_args("test_end_to_end", required=True)
    fresh_workdir(args.workdir)
    out = os.path.join(args.workdir, "wm.h5")
    scenario_file = os.path.join(args.source, "data", "scenarios", "wm_baseline.toml")
    c = Checks("test_end_to_end")

    run = subprocess.run([args.carecast, "run", scenario_file, "-n", "300", "-o", out],
                         capture_output=True, text=True)
    c.check("carecast run exits 0", run.returncode == 0, run.stderr)
    c.check("run prints the output path", "wrote " + out in run.stdout, run.stdout)
    c.check("run prints its timing", "trajectories/s" in run.stderr, run.stderr)
    c.check("the result file exists", os.path.exists(out))

    with h5py.File(out, "r") as f:
        c.check("complete = 1", int(f.attrs["complete"]) == 1)
        c.check("trajectories = 300", int(f.attrs["trajectories"]) == 300)
        scenarios = sorted(f["scenarios"].keys())
        c.check(f"the four default scenarios: {scenarios}",
                scenarios == ["baseline", "community_shift", "parity", "real_living_wage"])
        config = f.attrs["config"]
        config = config.decode() if isinstance(config, bytes) else config
        c.check("the resolved config holds the scenarios",
                "[[scenario]]" in config and "real_living_wage" in config)

    ds = xr.open_dataset(out, group="scenarios/baseline/summary", engine="h5netcdf")
    c.check(f"dims: {dict(ds.sizes)}", set(ds.sizes) == {"time", "region", "quantile"})
    c.check(f"sizes: {dict(ds.sizes)}", ds.sizes["time"] == 120 and ds.sizes["region"] == 8)
    c.check(f"first month: {ds['time'].values[0]}", str(ds["time"].values[0])[:10] == "2026-04-01")
    total = ds["unmet_hours_mean"].sel(region="Total")
    regions = ds["unmet_hours_mean"].drop_sel(region="Total").sum("region")
    c.check("Total is the sum of the regions", np.allclose(total, regions, rtol=1e-9))
    c.check("a real workforce", float(ds["headcount_mean"].sel(region="Total")[0]) > 1000)
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
    c.check("rerun of the resolved config", rerun.returncode == 0, rerun.stderr)
    if rerun.returncode == 0:
        with h5py.File(out, "r") as a, h5py.File(again, "r") as b:
            same = all(np.array_equal(a[f"scenarios/{s}/summary/{v}"][()],
                                      b[f"scenarios/{s}/summary/{v}"][()])
                       for s in a["scenarios"] for v in a[f"scenarios/{s}/summary"])
            c.check("the resolved config reproduces every summary bit for bit", same)

    info = subprocess.run([args.carecast, "info", out], capture_output=True, text=True)
    c.check("carecast info exits 0", info.returncode == 0, info.stderr)
    for word in ["scenario baseline", "scenario parity", "unmet hours/month", "headcount",
                 "vacancies", "cost GBP/month", "funding gap GBP/month", "2027-03"]:
        c.check(f"info shows '{word}'", word in info.stdout)
    c.check("info has ten years for each of the four scenarios",
            len([l for l in info.stdout.splitlines() if l.startswith("10 ")]) == 4)

    bad = subprocess.run([args.carecast, "info", os.path.join(args.workdir, "missing.h5")],
                         capture_output=True, text=True)
    c.check("info on a missing file fails clearly", bad.returncode != 0 and "missing.h5" in bad.stderr)

    plots = os.path.join(args.workdir, "plots")
    plot = subprocess.run([sys.executable, os.path.join(args.source, "scripts", "plot_fan.py"), out,
                           "-o", plots], capture_output=True, text=True)
    c.check("plot_fan.py exits 0", plot.returncode == 0, plot.stderr)
    for variable in ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap"]:
        png = os.path.join(plots, f"fan_{variable}.png")
        why = png_file_problem(png, min_bytes=MIN_PNG_BYTES + 1)  # the PNG magic number and more than 5000 bytes
        c.check(f"{png} is a PNG", not why, why)

    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
