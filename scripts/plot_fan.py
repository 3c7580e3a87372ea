#!/usr/bin/env python3
"""Fan charts from a carecast result file.

    scripts/plot_fan.py OUT.h5 [--variable V ...] [--scenario S ...] [--region R] -o DIR

Writes one PNG per variable, DIR/fan_<variable>.png: for each scenario the median as a line
and the 50% (0.25-0.75) and 90% (0.05-0.95) bands shaded in the scenario's colour. Reads the
layout of MODEL.md's Output section with h5py:
  root datasets  time (int64 days since 1970-01-01), region, quantile
  root attribute trajectories
  scenarios/<name>/summary/<variable>_q  float64 [quantile, time, region]
Exits 2, naming what is missing and what is available, when a requested variable, scenario or
region is not in the file, or the file lacks one of the quantiles 0.05, 0.25, 0.5, 0.75, 0.95.
"""

import argparse
import os
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import StrMethodFormatter  # noqa: E402

# (label, unit) per output variable of care_wf (MODEL.md, "Outputs of month t").
LABELS = {
    "demand_hours": ("Demand", "hours per month"),
    "supplied_hours": ("Supplied care hours", "hours per month"),
    "delivered_hours": ("Delivered care hours", "hours per month"),
    "unmet_hours": ("Unmet demand", "hours per month"),
    "gap_hours": ("Demand less supply", "hours per month"),
    "headcount": ("Care workers in post", "people"),
    "vacancies": ("Vacancies unfilled after hiring", "posts"),
    "leavers": ("Leavers", "people per month"),
    "hires": ("Hires", "people per month"),
    "turnover_rate": ("Turnover rate", "share per year"),
    "care_wage": ("Care worker wage", "GBP per hour"),
    "outside_wage": ("Outside-option wage (retail median)", "GBP per hour"),
    "cost": ("Cost of delivered care", "GBP per month"),
    "budget": ("Care budget", "GBP per month"),
    "funding_gap": ("Funding gap (demand at average fee less budget)", "GBP per month"),
    "leakage": ("Spend leaving the local economy", "GBP per month"),
    "wage_bill": ("Wage bill incl. on-costs", "GBP per month"),
}
DEFAULT_VARIABLES = ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap"]
NEEDED_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]
QUANTILE_TOL = 1e-6
EXIT_USAGE = 2


class Missing(Exception):
    """Something requested is not in the file; the message names it and what is there."""


def fail(message):
    print(f"plot_fan.py: error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def as_text(values):
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def listing(names):
    return ", ".join(names) if names else "(none)"


def read_axes(f, path):
    for name in ("time", "region", "quantile"):
        if name not in f:
            raise Missing(f"{path} has no root dataset '{name}' (available: {listing(sorted(f.keys()))})")
    days = np.asarray(f["time"][()], dtype=np.int64)
    dates = (np.datetime64("1970-01-01", "D") + days.astype("timedelta64[D]")).astype("datetime64[D]")
    regions = as_text(f["region"][()])
    quantiles = np.asarray(f["quantile"][()], dtype=np.float64)
    return dates, regions, quantiles


def quantile_index(quantiles, path):
    index = {}
    for q in NEEDED_QUANTILES:
        hits = np.flatnonzero(np.abs(quantiles - q) <= QUANTILE_TOL)
        if hits.size == 0:
            have = listing([f"{x:g}" for x in quantiles])
            raise Missing(f"quantile {q:g} is missing from {path}: fan charts need "
                          f"{listing([f'{x:g}' for x in NEEDED_QUANTILES])}; the file has {have}")
        index[q] = int(hits[0])
    return index


def scenario_variables(group):
    if "summary" not in group:
        return []
    return sorted(k[:-2] for k in group["summary"].keys() if k.endswith("_q"))


def axis_label(variable):
    label, unit = LABELS.get(variable, (variable.replace("_", " ").capitalize(), ""))
    return f"{label} ({unit})" if unit else label


def plot_variable(variable, region, region_index, dates, qi, data, trajectories, out_dir):
    fig, ax = plt.subplots(figsize=(10, 5.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    x = dates.astype("datetime64[D]").astype(object)
    for i, (scenario, q) in enumerate(data.items()):
        colour = colours[i % len(colours)]
        series = {k: q[j, :, region_index] for k, j in qi.items()}
        ax.fill_between(x, series[0.05], series[0.95], color=colour, alpha=0.15, linewidth=0)
        ax.fill_between(x, series[0.25], series[0.75], color=colour, alpha=0.30, linewidth=0)
        ax.plot(x, series[0.5], color=colour, linewidth=1.8, label=f"{scenario} (median, 50% and 90% bands)")
    top = max(float(np.nanmax(np.abs(q[:, :, region_index]))) for q in data.values()) if data else 0.0
    if np.isfinite(top) and top >= 1e4:
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("Month")
    ax.set_ylabel(axis_label(variable))
    ax.set_title(f"{variable}: {region}, {trajectories} trajectories")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    fig.autofmt_xdate()
    fig.tight_layout()
    path = os.path.join(out_dir, f"fan_{variable}.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fan charts (median, 50% and 90% bands) from a carecast HDF5 result.")
    parser.add_argument("result", help="carecast result file (HDF5)")
    parser.add_argument("--variable", nargs="+", action="extend", metavar="V",
                        help=f"variables to plot (default: {' '.join(DEFAULT_VARIABLES)})")
    parser.add_argument("--scenario", nargs="+", action="extend", metavar="S",
                        help="scenarios to draw (default: all in the file)")
    parser.add_argument("--region", default="Total", help="region to plot (default: Total)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for the PNG files")
    args = parser.parse_args(argv)

    if not os.path.isfile(args.result):
        fail(f"no such result file: {args.result}")
    try:
        f = h5py.File(args.result, "r")
    except OSError as e:
        fail(f"cannot open {args.result} as HDF5: {e}")

    with f:
        try:
            dates, regions, quantiles = read_axes(f, args.result)
            qi = quantile_index(quantiles, args.result)
            if "scenarios" not in f or len(f["scenarios"]) == 0:
                raise Missing(f"{args.result} has no scenarios/ group with results")
            available = list(f["scenarios"].keys())
            if "baseline" in available:
                available.remove("baseline")
                available.insert(0, "baseline")
            scenarios = args.scenario or available
            unknown = [s for s in scenarios if s not in available]
            if unknown:
                raise Missing(f"scenario {listing(unknown)} not in {args.result} (available: {listing(available)})")
            if args.region not in regions:
                raise Missing(f"region '{args.region}' not in {args.result} (available: {listing(regions)})")
            region_index = regions.index(args.region)
            variables = args.variable or DEFAULT_VARIABLES
            for s in scenarios:
                have = scenario_variables(f["scenarios"][s])
                unknown = [v for v in variables if v not in have]
                if unknown:
                    raise Missing(f"variable {listing(unknown)} not in scenario '{s}' of {args.result} "
                                  f"(available: {listing(have)})")
            trajectories = f.attrs.get("trajectories", "?")
            if isinstance(trajectories, np.ndarray) and trajectories.size == 1:
                trajectories = trajectories.item()
            if isinstance(trajectories, bytes):
                trajectories = trajectories.decode()
            expected_shape = (len(quantiles), len(dates), len(regions))
            os.makedirs(args.output, exist_ok=True)
            for v in variables:
                data = {}
                for s in scenarios:
                    q = f["scenarios"][s]["summary"][f"{v}_q"][()]
                    if q.shape != expected_shape:
                        raise Missing(f"scenarios/{s}/summary/{v}_q has shape {q.shape}, expected "
                                      f"[quantile, time, region] = {expected_shape}")
                    data[s] = q
                path = plot_variable(v, args.region, region_index, dates, qi, data, trajectories, args.output)
                print(path)
        except Missing as e:
            fail(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
