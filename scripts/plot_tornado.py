#!/usr/bin/env python3
"""Tornado chart of what drives a result: partial rank correlations from `carecast attribute`.

    scripts/plot_tornado.py OUT.h5 --variable V --year Y [--scenario S] -o DIR

Reads scenarios/<S>/attribution/<V>_year<Y>/ (datasets prcc, prcc_low, prcc_high over the
`parameter` axis; written by `carecast attribute OUT.h5 --variable V --year Y`) and draws one
horizontal bar per uncertain parameter: its partial rank correlation (PRCC) with the
variable's mean over model year Y, sorted by |PRCC| (largest on top), with the bootstrap
interval as error bars. Parameters are shown by a readable name and their `section.key`.
Writes DIR/tornado_<V>_year<Y>.png. The scenario defaults to the base scenario.

Exits 2 with a clear message when the attribution group is missing ("run carecast attribute
OUT.h5 --variable V --year Y first") or the scenario is unknown.
Reading helpers: carecast_results.py; `tornado_figure(f, variable, year, ...)` returns a Figure.
"""

import argparse
import sys

import matplotlib
import numpy as np
from matplotlib.figure import Figure

import carecast_results as cr
from carecast_results import Missing, listing

POSITIVE = "#c0392b"
NEGATIVE = "#2471a3"


def fail(message):
    cr.fail("plot_tornado.py", message)


def resolve_scenario(f, scenario):
    available = cr.scenario_names(f)
    scenario = scenario or cr.base_scenario(f)
    if scenario not in available:
        raise Missing(f"scenario '{scenario}' not in {f.filename} (available: {listing(available)})")
    return scenario


def tornado_figure(f, variable, year, scenario=None):
    """The tornado chart of one attribution group as a matplotlib Figure (no pyplot state)."""
    scenario = resolve_scenario(f, scenario)
    a = cr.read_attribution(f, scenario, variable, year)
    prcc = a["prcc"]
    order = np.argsort(-np.abs(np.nan_to_num(prcc, nan=0.0)), kind="stable")[::-1]  # largest last = on top
    n = len(order)
    label, _, _ = cr.variable_meta(f, scenario, variable)
    dates, _, _ = cr.read_axes(f)
    first, last = 12 * (a["year"] - 1), min(12 * a["year"], len(dates)) - 1
    span = ""
    if 0 <= first < len(dates) and last >= first:
        span = f" ({cr.month_label(dates[first])} to {cr.month_label(dates[last])})"

    fig = Figure(figsize=(11, 2.0 + 0.42 * max(n, 1)))
    ax = fig.subplots()
    y = np.arange(n)
    values = prcc[order]
    colours = [POSITIVE if v >= 0 else NEGATIVE for v in values]
    ax.barh(y, values, color=colours, alpha=0.85, height=0.65)
    if a["low"] is not None and a["high"] is not None:
        low, high = a["low"][order], a["high"][order]
        xerr = np.vstack([np.maximum(values - low, 0.0), np.maximum(high - values, 0.0)])
        ax.errorbar(values, y, xerr=xerr, fmt="none", ecolor="black", elinewidth=1.2, capsize=3)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{a['labels'][i]}  [{a['parameters'][i]}]" for i in order], fontsize="small")
    ax.axvline(0.0, color="black", linewidth=0.9)
    ax.set_xlim(-1.0, 1.0)
    interval = a["interval"] if a["interval"] is not None else 0.9
    boot = f", {a['bootstrap']} resamples" if a["bootstrap"] else ""
    ax.set_xlabel(f"partial rank correlation with the mean of {variable} over the year\n"
                  f"(bars: {100 * float(interval):.0f}% bootstrap interval{boot})")
    ax.set_title(f"What drives {label}: model year {a['year']}{span}\n"
                 f"scenario {scenario}, region {a['region']}; red: a higher parameter value raises it, "
                 f"blue: lowers it",
                 fontsize="medium")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description="Tornado chart of partial rank correlations "
                                                 "(from carecast attribute).")
    parser.add_argument("result", help="carecast result file (HDF5)")
    parser.add_argument("--variable", required=True, metavar="V", help="output variable, e.g. unmet_hours")
    parser.add_argument("--year", required=True, type=int, metavar="Y", help="model year (1 = the first 12 months)")
    parser.add_argument("--scenario", default=None, metavar="S", help="scenario (default: the base scenario)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for the PNG file")
    args = parser.parse_args(argv)

    matplotlib.use("Agg")
    try:
        with cr.open_result(args.result) as f:
            scenario = resolve_scenario(f, args.scenario)
            have = cr.scenario_variables(f[f"scenarios/{scenario}"])
            if have and args.variable not in have:
                raise Missing(f"variable '{args.variable}' not in scenario '{scenario}' of {args.result} "
                              f"(available: {listing(have)})")
            fig = tornado_figure(f, args.variable, args.year, scenario)
            print(cr.save_png(fig, args.output, f"tornado_{args.variable}_year{args.year}.png"))
    except Missing as e:
        fail(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
