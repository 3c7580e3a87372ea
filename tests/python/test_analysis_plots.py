#!/usr/bin/env python3
"""Checks scripts/plot_compare.py and scripts/plot_tornado.py on synthetic result files.

Run by ctest as
    test_analysis_plots.py --carecast BIN --source REPO_ROOT --workdir DIR
(--carecast is accepted and unused: the files are built here with h5py in docs/output.md's
layout: 3 scenarios, 24 months, 2 regions + Total, vs_<base> groups with p_better for the
variables whose `better` is not neutral, and one attribution group. The base scenario is named
"status_quo", not "baseline", so nothing may assume the name.)

Checks: default and chosen runs write valid, non-blank PNGs of non-trivial size and print their
paths; the tornado chart grows with the number of parameters; the reading module sees the
groups; every error case (no vs_ groups, unknown variable/scenario/region, the base asked as a
scenario, missing attribution group, unknown scenario for the tornado) exits 2 with a message
naming what is missing. Prints "test_analysis_plots: P passed, F failed"; exits 1 on failure.
"""

import os
import sys

import h5py
import numpy as np

from carecast_test_support import (Checks, fresh_workdir, month_days, parse_args, plot_env, png_file_dimensions,
                                   png_file_problem, run_python)

BASE = "status_quo"
SCENARIOS = [BASE, "real_living_wage", "coop_shift"]
REGIONS = ["Northfield", "Southport", "Total"]
MONTHS = 24
TRAJECTORIES = 120
QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]
# variable: (long_name, units, better)
VARIABLES = {
    "unmet_hours": ("Unmet care hours", "hours per month", "lower"),
    "headcount": ("Care workers", "people", "higher"),
    "vacancies": ("Vacancies", "people", "lower"),
    "cost": ("Cost of care", "GBP per month", "neutral"),
    "funding_gap": ("Funding gap", "GBP per month", "lower"),
    "leakage": ("Leakage", "GBP per month", "lower"),
    "wage_bill": ("Wage bill", "GBP per month", "neutral"),
    "care_wage": ("Care wage", "GBP per hour", "higher"),
}
COMPARE_DEFAULT = ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap", "leakage", "wage_bill"]
PARAMETERS = ["demand.prevalence_multiplier", "workforce.beta_w", "workforce.gamma_w",
              "workforce.productivity_new", "workforce.care_time", "workforce.oncost",
              "macro.cpi", "funding.budget_growth_sd"]


def axes_into(group, f, names):
    """Local copies of root axes as dimension scales (so xarray can open the group)."""
    for name in names:
        d = group.create_dataset(name, data=f[name][()])
        for k, v in f[name].attrs.items():
            if k not in ("CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST"):
                d.attrs[k] = v
        d.make_scale(name)


def attach(dataset, group, dims):
    for i, name in enumerate(dims):
        dataset.dims[i].attach_scale(group[name])


def summarise(group, name, values, dims_q=("quantile", "time", "region"), dims=("time", "region")):
    """mean, sd, q of values [trajectory, time, region] into group."""
    for suffix, data, d in (("mean", values.mean(0), dims), ("sd", values.std(0, ddof=1), dims),
                            ("q", np.quantile(values, QUANTILES, axis=0), dims_q)):
        ds = group.create_dataset(f"{name}_{suffix}", data=data)
        attach(ds, group, d)


def write_result(path, with_vs=True, with_attribution=True, parameters=PARAMETERS):
    rng = np.random.default_rng(5)
    with h5py.File(path, "w") as f:
        f.create_dataset("time", data=month_days(2026, 4, MONTHS)).attrs["units"] = "days since 1970-01-01"
        f.create_dataset("region", data=np.array(REGIONS, dtype=h5py.string_dtype()))
        f.create_dataset("quantile", data=np.array(QUANTILES))
        f.create_dataset("parameter", data=np.array(parameters, dtype=h5py.string_dtype()))
        for k, v in {"carecast_version": "test", "model": "care_wf", "mode": "stochastic",
                     "config": "[run]\nname = \"synthetic\"\n", "base_scenario": BASE}.items():
            f.attrs[k] = v
        for k, v in {"seed": 11, "trajectories": TRAJECTORIES, "complete": 1}.items():
            f.attrs[k] = np.int64(v)
        params = rng.normal(size=(TRAJECTORIES, len(parameters)))
        t = np.arange(MONTHS, dtype=np.float64)
        draws = {}
        for s_i, s in enumerate(SCENARIOS):
            g = f.create_group(f"scenarios/{s}/summary")
            axes_into(g, f, ("time", "region", "quantile"))
            draws[s] = {}
            for v_i, (v, (long_name, units, better)) in enumerate(VARIABLES.items()):
                level = (1000.0 + 100.0 * v_i) * (1.0 + 0.01 * t)
                effect = 1.0 + 0.04 * s_i * (1.0 + t / MONTHS)
                noise = 0.05 * params[:, :1] + 0.02 * rng.normal(size=(TRAJECTORIES, 1))
                regional = level[None, :, None] * effect[None, :, None] * (1.0 + noise[:, :, None]) \
                    * np.array([0.6, 0.4])[None, None, :]
                values = np.concatenate([regional, regional.sum(2, keepdims=True)], axis=2)
                draws[s][v] = values
                summarise(g, v, values)
                for k, val in (("long_name", long_name), ("units", units), ("better", better)):
                    g[f"{v}_mean"].attrs[k] = val
        if with_vs:
            for s in SCENARIOS[1:]:
                g = f.create_group(f"scenarios/{s}/vs_{BASE}")
                g.attrs["base"] = BASE
                axes_into(g, f, ("time", "region", "quantile"))
                for v, (_, _, better) in VARIABLES.items():
                    diff = draws[s][v] - draws[BASE][v]
                    summarise(g, v, diff)
                    if better != "neutral":
                        p = (diff < 0).mean(0) if better == "lower" else (diff > 0).mean(0)
                        attach(g.create_dataset(f"{v}_p_better", data=p), g, ("time", "region"))
        if with_attribution:
            g = f.create_group(f"scenarios/{BASE}/attribution/unmet_hours_year1")
            axes_into(g, f, ("parameter",))
            prcc = np.linspace(0.9, -0.7, len(parameters))
            for name, data in (("prcc", prcc), ("prcc_low", prcc - 0.1), ("prcc_high", np.minimum(prcc + 0.1, 1.0))):
                attach(g.create_dataset(name, data=data), g, ("parameter",))
            g.attrs["variable"] = "unmet_hours"
            g.attrs["year"] = np.int64(1)
            g.attrs["region"] = "Total"
            g.attrs["method"] = "partial rank correlation"
            g.attrs["bootstrap"] = np.int64(200)
            g.attrs["interval"] = 0.9


def chart_problem(path):
    """Why path is not a valid, non-blank chart ("" if it is): a PNG of at least 5000 bytes and
    200 x 200 pixels whose pixels are not all alike."""
    return png_file_problem(path, min_width=200, min_height=200, non_blank=True)


def main():
    args = parse_args("test_analysis_plots")
    scripts = os.path.join(args.source, "scripts")
    compare = os.path.join(scripts, "plot_compare.py")
    tornado = os.path.join(scripts, "plot_tornado.py")
    workdir = fresh_workdir(args.workdir)
    env = plot_env(workdir)

    good = os.path.join(workdir, "good.h5")
    write_result(good)
    no_vs = os.path.join(workdir, "no_vs.h5")
    write_result(no_vs, with_vs=False, with_attribution=False)
    few = os.path.join(workdir, "few_parameters.h5")
    write_result(few, parameters=PARAMETERS[:3])
    c = Checks("test_analysis_plots")

    # The reading module sees the layout.
    sys.path.insert(0, scripts)
    import carecast_results as cr
    with cr.open_result(good) as f:
        c.check("base_scenario is read from the root attribute", cr.base_scenario(f) == BASE, cr.base_scenario(f))
        c.check("compared_scenarios lists the non-base scenarios",
                sorted(cr.compared_scenarios(f)) == sorted(SCENARIOS[1:]),
                str(cr.compared_scenarios(f)))
        d = cr.read_vs(f, "coop_shift", "cost")
        e = cr.read_vs(f, "coop_shift", "unmet_hours")
        c.check("read_vs: no p_better for a neutral variable, p_better in [0, 1] otherwise",
                d["p_better"] is None and e["p_better"] is not None and
                float(e["p_better"].min()) >= 0 and float(e["p_better"].max()) <= 1)
        c.check("read_vs: units from the file's attributes", e["units"] == "hours per month", e["units"])
        groups = cr.attribution_groups(f)
        c.check("attribution_groups finds the one group",
                [(g["scenario"], g["variable"], g["year"]) for g in groups] == [(BASE, "unmet_hours", 1)], str(groups))
        a = cr.read_attribution(f, BASE, "unmet_hours", 1)
        c.check("read_attribution: parameters and readable labels",
                a["parameters"] == PARAMETERS and a["labels"][1] != PARAMETERS[1] and len(a["prcc"]) == len(PARAMETERS),
                str(a["labels"]))
        c.check("every one of the 30 parameters has a readable label", len(cr.PARAMETER_LABELS) == 30)
    ds = cr.open_vs_xr(good, "real_living_wage", BASE)
    c.check("xarray opens a vs_ group with decoded dates and regions",
            str(ds["time"].values[0])[:10] == "2026-04-01" and list(ds["region"].values) == REGIONS,
            str(ds))
    ds.close()

    # 1. plot_compare defaults: one PNG per default variable.
    out = os.path.join(workdir, "compare_default")
    rc, so, se = run_python(compare, [good, "-o", out], env)
    c.check("plot_compare default run exits 0", rc == 0, f"rc={rc} stderr={se.strip()}")
    pngs = [os.path.join(out, f"compare_{v}.png") for v in COMPARE_DEFAULT]
    bad = [f"{p} ({why})" for p in pngs for why in [chart_problem(p)] if why]
    c.check("plot_compare writes a valid, non-blank PNG per default variable", not bad, "; ".join(bad))
    c.check("plot_compare prints the paths written", all(p in so for p in pngs), so.strip())

    # 2. Chosen variable, scenario and region.
    out = os.path.join(workdir, "compare_chosen")
    rc, so, se = run_python(compare, [good, "--variable", "care_wage", "--scenario", "coop_shift",
                                      "--region", "Southport", "-o", out], env)
    files = sorted(os.listdir(out)) if os.path.isdir(out) else []
    c.check("plot_compare with a chosen variable/scenario/region writes exactly that PNG",
            rc == 0 and files == ["compare_care_wage.png"] and not chart_problem(os.path.join(out, files[0])),
            f"rc={rc} files={files} stderr={se.strip()}")

    # 3. Error cases of plot_compare.
    rc, so, se = run_python(compare, [no_vs, "-o", os.path.join(workdir, "bad1")], env)
    c.check("plot_compare on a file without vs_ groups exits 2 naming them",
            rc == 2 and f"vs_{BASE}" in se and "no " in se, f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(compare, [good, "--variable", "no_such_variable", "-o", os.path.join(workdir, "bad2")], env)
    c.check("plot_compare: unknown variable exits 2 naming it and the available ones",
            rc == 2 and "no_such_variable" in se and "unmet_hours" in se, f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(compare, [good, "--scenario", "nowhere_plan", "-o", os.path.join(workdir, "bad3")], env)
    c.check("plot_compare: unknown scenario exits 2 naming it and the available ones",
            rc == 2 and "nowhere_plan" in se and "coop_shift" in se, f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(compare, [good, "--scenario", BASE, "-o", os.path.join(workdir, "bad4")], env)
    c.check("plot_compare: the base as a scenario exits 2 saying it is the base",
            rc == 2 and BASE in se and "base" in se, f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(compare, [good, "--region", "Atlantis", "-o", os.path.join(workdir, "bad5")], env)
    c.check("plot_compare: unknown region exits 2 naming it", rc == 2 and "Atlantis" in se and "Northfield" in se,
            f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(compare, [os.path.join(workdir, "absent.h5"), "-o", os.path.join(workdir, "bad6")], env)
    c.check("plot_compare: a missing file exits 2 naming it", rc == 2 and "absent.h5" in se,
            f"rc={rc} stderr={se.strip()}")
    c.check("no output directory is made for a failed request", not os.path.exists(os.path.join(workdir, "bad2")))

    # 4. plot_tornado.
    out = os.path.join(workdir, "tornado")
    rc, so, se = run_python(tornado, [good, "--variable", "unmet_hours", "--year", "1", "-o", out], env)
    png = os.path.join(out, "tornado_unmet_hours_year1.png")
    why = chart_problem(png)
    c.check("plot_tornado exits 0 and writes a valid, non-blank PNG", rc == 0 and not why,
            f"rc={rc} {why} stderr={se.strip()}")
    c.check("plot_tornado prints the path written", png in so, so.strip())
    out_few = os.path.join(workdir, "tornado_few")
    rc2, so2, se2 = run_python(tornado, [few, "--variable", "unmet_hours", "--year", "1", "--scenario", BASE,
                                         "-o", out_few], env)
    few_png = os.path.join(out_few, "tornado_unmet_hours_year1.png")
    sizes = (png_file_dimensions(png), png_file_dimensions(few_png))
    c.check("the tornado chart is taller with more parameters (one bar each)",
            rc2 == 0 and None not in sizes and sizes[0][1] > sizes[1][1], f"rc={rc2} sizes={sizes} {se2.strip()}")

    rc, so, se = run_python(tornado, [good, "--variable", "unmet_hours", "--year", "2",
                                      "-o", os.path.join(workdir, "bad7")], env)
    c.check("plot_tornado: a missing attribution group exits 2 saying to run carecast attribute",
            rc == 2 and "carecast attribute" in se and "--variable unmet_hours --year 2" in se,
            f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(tornado, [good, "--variable", "cost", "--year", "1", "--scenario", "coop_shift",
                                      "-o", os.path.join(workdir, "bad8")], env)
    c.check("plot_tornado: missing group in another scenario names --scenario",
            rc == 2 and "--scenario coop_shift" in se and "attribution" in se, f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(tornado, [good, "--variable", "unmet_hours", "--year", "1", "--scenario", "nowhere",
                                      "-o", os.path.join(workdir, "bad9")], env)
    c.check("plot_tornado: unknown scenario exits 2 naming it", rc == 2 and "nowhere" in se and BASE in se,
            f"rc={rc} stderr={se.strip()}")
    rc, so, se = run_python(tornado, [good, "--variable", "no_such_variable", "--year", "1",
                                      "-o", os.path.join(workdir, "bad10")], env)
    c.check("plot_tornado: unknown variable exits 2 naming it", rc == 2 and "no_such_variable" in se,
            f"rc={rc} stderr={se.strip()}")

    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
