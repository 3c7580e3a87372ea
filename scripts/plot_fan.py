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

Reading helpers and the label/unit table live in carecast_results.py (same directory);
`fan_charts(f, ...)` returns the figures for notebooks and scripts/report.py.
"""

import argparse
import sys

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from carecast_results import (LABELS, Missing, axis_label, listing,  # noqa: F401  (LABELS re-exported)
                              open_result, read_axes, scenario_variables)
import carecast_results

DEFAULT_VARIABLES = ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap"]
NEEDED_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]
EXIT_USAGE = carecast_results.EXIT_USAGE


def fail(message):
    carecast_results.fail("plot_fan.py", message)


def quantile_index(quantiles, path):
    return carecast_results.quantile_index(quantiles, NEEDED_QUANTILES, path, "fan charts")


def fan_figure(variable, region, region_index, dates, qi, data, trajectories):
    """The fan chart of one variable as a matplotlib Figure (no pyplot state)."""
    fig = Figure(figsize=(10, 5.5))
    ax = fig.subplots()
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
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
    return fig


def load_fan_data(f, path, variables, scenarios, region):
    """Checks the request against the file and reads it: returns
    (scenarios, region_index, dates, qi, {variable: {scenario: q}}, trajectories)."""
    dates, regions, quantiles = read_axes(f, path)
    qi = quantile_index(quantiles, path)
    if "scenarios" not in f or len(f["scenarios"]) == 0:
        raise Missing(f"{path} has no scenarios/ group with results")
    available = carecast_results.scenario_names(f)
    scenarios = list(scenarios) if scenarios else available
    unknown = [s for s in scenarios if s not in available]
    if unknown:
        raise Missing(f"scenario {listing(unknown)} not in {path} (available: {listing(available)})")
    if region not in regions:
        raise Missing(f"region '{region}' not in {path} (available: {listing(regions)})")
    region_index = regions.index(region)
    variables = list(variables) if variables else DEFAULT_VARIABLES
    for s in scenarios:
        have = scenario_variables(f["scenarios"][s])
        unknown = [v for v in variables if v not in have]
        if unknown:
            raise Missing(f"variable {listing(unknown)} not in scenario '{s}' of {path} "
                          f"(available: {listing(have)})")
    trajectories = carecast_results.attr(f, "trajectories", "?")
    expected_shape = (len(quantiles), len(dates), len(regions))
    data = {}
    for v in variables:
        data[v] = {}
        for s in scenarios:
            q = f["scenarios"][s]["summary"][f"{v}_q"][()]
            if q.shape != expected_shape:
                raise Missing(f"scenarios/{s}/summary/{v}_q has shape {q.shape}, expected "
                              f"[quantile, time, region] = {expected_shape}")
            data[v][s] = q
    return scenarios, region_index, dates, qi, data, trajectories


def fan_charts(f, variables=None, scenarios=None, region="Total"):
    """{variable: Figure} for an open result file (for notebooks and the report)."""
    scenarios, ri, dates, qi, data, trajectories = load_fan_data(f, f.filename, variables, scenarios, region)
    return {v: fan_figure(v, region, ri, dates, qi, d, trajectories) for v, d in data.items()}


def plot_variable(variable, region, region_index, dates, qi, data, trajectories, out_dir):
    fig = fan_figure(variable, region, region_index, dates, qi, data, trajectories)
    return carecast_results.save_png(fig, out_dir, f"fan_{variable}.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fan charts (median, 50% and 90% bands) from a carecast HDF5 result.")
    carecast_results.add_chart_arguments(parser, DEFAULT_VARIABLES,
                                         "scenarios to draw (default: all in the file)")
    args = parser.parse_args(argv)

    matplotlib.use("Agg")
    try:
        f = open_result(args.result)
    except Missing as e:
        fail(str(e))

    with f:
        try:
            _, ri, dates, qi, data, trajectories = load_fan_data(f, args.result, args.variable, args.scenario,
                                                                  args.region)
            for v, d in data.items():
                path = plot_variable(v, args.region, ri, dates, qi, d, trajectories, args.output)
                print(path)
        except Missing as e:
            fail(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
