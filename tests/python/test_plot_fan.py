#!/usr/bin/env python3
"""Checks scripts/plot_fan.py on a synthetic result file in MODEL.md's HDF5 layout.

Run by ctest as
    test_plot_fan.py --carecast BIN --source REPO_ROOT --workdir DIR
(--carecast is accepted and unused: the result file is built here with h5py.)
"""

import os
import sys

import h5py
import numpy as np

from carecast_test_support import Checks, fresh_workdir, month_days, parse_args, plot_env, png_file_problem, run_python

DEFAULT_VARIABLES = ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap"]
VARIABLES = DEFAULT_VARIABLES + ["care_wage", "turnover_rate"]
SCENARIOS = ["baseline", "real_living_wage"]
REGIONS = ["Northfield", "Southport", "Total"]
MONTHS = 24


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


def main():
    args = parse_args("test_plot_fan")
    script = os.path.join(args.source, "scripts", "plot_fan.py")
    workdir = fresh_workdir(args.workdir)
    env = plot_env(workdir)

    good = os.path.join(workdir, "good.h5")
    write_result(good, [0.05, 0.25, 0.5, 0.75, 0.95])
    no_q25 = os.path.join(workdir, "no_q25.h5")
    write_result(no_q25, [0.05, 0.5, 0.75, 0.95])

    c = Checks("test_plot_fan")

    # 1. Defaults: every default variable, every scenario, region Total.
    out = os.path.join(workdir, "default")
    rc, so, se = run_python(script, [good, "-o", out], env)
    c.check("default run exits 0", rc == 0, f"rc={rc} stderr={se.strip()}")
    pngs = [os.path.join(out, f"fan_{v}.png") for v in DEFAULT_VARIABLES]
    bad = [f"{p} ({why})" for p in pngs for why in [png_file_problem(p)] if why]
    c.check("default run writes a valid PNG per default variable", not bad, "; ".join(bad))
    c.check("default run prints the paths written", all(p in so for p in pngs), so.strip())

    # 2. Chosen variables, one scenario, one region.
    out = os.path.join(workdir, "chosen")
    rc, so, se = run_python(script, [good, "--variable", "care_wage", "turnover_rate", "--scenario",
                                     "real_living_wage", "--region", "Southport", "-o", out], env)
    files = sorted(os.listdir(out)) if os.path.isdir(out) else []
    ok = rc == 0 and files == ["fan_care_wage.png", "fan_turnover_rate.png"] and \
        not any(png_file_problem(os.path.join(out, p)) for p in files)
    c.check("chosen variables/scenario/region give exactly those PNGs", ok, f"rc={rc} files={files} stderr={se.strip()}")

    # 3. Unknown variable: exit 2 naming it.
    rc, so, se = run_python(script, [good, "--variable", "no_such_variable", "-o", os.path.join(workdir, "bad_v")],
                            env)
    c.check("unknown variable exits 2 naming it", rc == 2 and "no_such_variable" in se and "unmet_hours" in se,
            f"rc={rc} stderr={se.strip()}")

    # 4. Missing quantile 0.25: exit 2 naming it.
    rc, so, se = run_python(script, [no_q25, "-o", os.path.join(workdir, "bad_q")], env)
    c.check("missing quantile exits 2 naming it", rc == 2 and "0.25" in se and "quantile" in se,
            f"rc={rc} stderr={se.strip()}")

    # 5. Unknown scenario and region: exit 2 naming them.
    rc, so, se = run_python(script, [good, "--scenario", "nowhere_plan", "-o", os.path.join(workdir, "bad_s")], env)
    c.check("unknown scenario exits 2 naming it", rc == 2 and "nowhere_plan" in se and "real_living_wage" in se,
            f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(script, [good, "--region", "Atlantis", "-o", os.path.join(workdir, "bad_r")], env)
    c.check("unknown region exits 2 naming it", rc == 2 and "Atlantis" in se and "Northfield" in se,
            f"rc={rc} stderr={se.strip()}")

    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
