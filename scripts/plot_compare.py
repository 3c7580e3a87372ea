#!/usr/bin/env python3
"""Scenario comparison charts from a carecast result file: each scenario minus the base.

    scripts/plot_compare.py OUT.h5 [--variable V ...] [--scenario S ...] [--region R] -o DIR

Writes one PNG per variable, DIR/compare_<variable>.png. For every scenario compared with the
base (root attribute base_scenario), it draws, at the LAST MONTH OF EACH MODEL YEAR (months
11, 23, ...; a partial last year uses its last month), the mean of the paired differences
scenario - base (same trajectory, same random numbers) as a point, and their 5% to 95% range as
an error bar, all read from scenarios/<s>/vs_<base>/<variable>_mean and _q. A zero line marks
"no difference". The legend gives, where the file has it, the share of trajectories in which
the scenario does better than the base at the last month (<variable>_p_better).

Exits 2 with a message naming what is missing when the file has no vs_<base> groups, a
variable or scenario is unknown, the region is unknown, or quantiles 0.05/0.95 are absent.
Reading helpers: carecast_results.py; `compare_figure(f, variable, ...)` returns a Figure.
"""

import argparse
import sys

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

import carecast_results as cr
from carecast_results import Missing, listing

DEFAULT_VARIABLES = list(cr.COMPARE_VARIABLES)
INTERVAL_QUANTILES = [0.05, 0.95]


def fail(message):
    cr.fail("plot_compare.py", message)


def check_request(f, variables=None, scenarios=None, region="Total"):
    """Validates a request; returns (base, scenarios, variables, region_index). Raises Missing."""
    path = f.filename
    cr.read_axes(f, path)
    base = cr.base_scenario(f)
    available = cr.scenario_names(f)
    compared = cr.compared_scenarios(f, base)
    if not compared:
        raise Missing(f"{path} has no scenarios/<name>/vs_{base} groups (paired differences from the base "
                      f"scenario '{base}'; scenarios in the file: {listing(available)}). They are written by "
                      f"`carecast run` for every scenario other than the base: rerun with a carecast that "
                      f"writes them, and with at least one scenario besides '{base}'")
    if scenarios:
        unknown = [s for s in scenarios if s not in available]
        if unknown:
            raise Missing(f"scenario {listing(unknown)} not in {path} (available: {listing(available)})")
        if base in scenarios:
            raise Missing(f"scenario '{base}' is the base: it has no difference from itself "
                          f"(scenarios compared with it: {listing(compared)})")
        lacking = [s for s in scenarios if s not in compared]
        if lacking:
            raise Missing(f"scenario {listing(lacking)} has no vs_{base} group in {path} "
                          f"(scenarios compared with '{base}': {listing(compared)})")
    else:
        scenarios = compared
    variables = list(variables) if variables else list(DEFAULT_VARIABLES)
    for s in scenarios:
        g = f[cr.vs_group(f, s, base)]
        have = sorted(k[:-5] for k in g.keys() if k.endswith("_mean"))
        unknown = [v for v in variables if f"{v}_mean" not in g or f"{v}_q" not in g]
        if unknown:
            raise Missing(f"variable {listing(unknown)} not in scenarios/{s}/vs_{base} of {path} "
                          f"(available: {listing(have)})")
    ri = cr.region_index(f, region)
    _, _, quantiles = cr.read_axes(f, path)
    cr.quantile_index(quantiles, INTERVAL_QUANTILES, path, "comparison intervals")
    return base, list(scenarios), variables, ri


def compare_figure(f, variable, scenarios=None, region="Total"):
    """The comparison chart of one variable as a matplotlib Figure (no pyplot state)."""
    base, scenarios, _, ri = check_request(f, [variable], scenarios, region)
    dates, _, quantiles = cr.read_axes(f)
    qi = cr.quantile_index(quantiles, INTERVAL_QUANTILES, f.filename, "comparison intervals")
    ends = cr.year_end_months(len(dates))
    years = np.arange(1, len(ends) + 1)
    label, units, better = cr.variable_meta(f, base, variable)

    n = len(scenarios)
    fig = Figure(figsize=(10, 5.8 + 0.22 * n), layout="constrained")
    ax = fig.subplots()
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    width = 0.6
    offsets = (np.arange(n) - (n - 1) / 2.0) * (width / max(n, 1))
    top = 0.0
    for i, s in enumerate(scenarios):
        d = cr.read_vs(f, s, variable, base)
        mean = d["mean"][ends, ri]
        low = d["q"][qi[0.05]][ends, ri]
        high = d["q"][qi[0.95]][ends, ri]
        # The 5-95% range of the differences need not contain their mean; clip the bar lengths.
        yerr = np.vstack([np.maximum(mean - low, 0.0), np.maximum(high - mean, 0.0)])
        name = s
        if d["p_better"] is not None:
            share = cr.format_percent(d["p_better"][ends[-1], ri])
            name += f" (better than {base} in {share} of trajectories, year {years[-1]})"
        colour = colours[i % len(colours)]
        x = years + offsets[i]
        ax.plot(x, mean, color=colour, linewidth=1.0, alpha=0.6)
        ax.errorbar(x, mean, yerr=yerr, fmt="o", color=colour, ecolor=colour, elinewidth=2.0, capsize=4,
                    markersize=6, label=name)
        top = max(top, float(np.nanmax(np.abs(np.concatenate([low, high, mean])))))
    ax.axhline(0.0, color="black", linewidth=0.9)
    ax.set_xticks(years)
    ax.set_xticklabels([f"Year {y}\n{cr.month_label(dates[m])}" for y, m in zip(years, ends)])
    ax.set_xlim(0.5, len(years) + 0.5)
    if np.isfinite(top) and top >= 1e4:
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("Model year (value at its last month)")
    ax.set_ylabel(f"difference from {base} ({units})" if units else f"difference from {base}")
    hint = {"lower": "below zero is better", "higher": "above zero is better"}.get(better, "")
    ax.set_title(f"{label}: scenario minus {base}, {region}\n"
                 f"last month of each model year; point = mean paired difference, bar = 5-95%"
                 + (f"; {hint}" if hint else ""), fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)
    # Below the axes, so that it never hides a point.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small", frameon=False)
    return fig


def compare_charts(f, variables=None, scenarios=None, region="Total"):
    """{variable: Figure}; Missing when the request does not fit the file."""
    _, scenarios, variables, _ = check_request(f, variables, scenarios, region)
    return {v: compare_figure(f, v, scenarios, region) for v in variables}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Scenario minus base: mean paired difference and its 5-95% "
                                                 "range at the last month of each model year.")
    cr.add_chart_arguments(parser, DEFAULT_VARIABLES,
                           "scenarios to draw (default: every scenario compared with the base)")
    args = parser.parse_args(argv)

    matplotlib.use("Agg")
    try:
        with cr.open_result(args.result) as f:
            _, scenarios, variables, _ = check_request(f, args.variable, args.scenario, args.region)
            for v in variables:
                fig = compare_figure(f, v, scenarios, args.region)
                print(cr.save_png(fig, args.output, f"compare_{v}.png"))
    except Missing as e:
        fail(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
