#!/usr/bin/env python3
"""One self-contained HTML page summarising a carecast result file.

    scripts/report.py OUT.h5 -o report.html [--region R]

The page has no external references: charts are PNGs embedded as base64 data URIs, the CSS is
inline and there is no script. Sections:
  1. run settings (model, mode, trajectories, seed, start, months, regions, scenarios, version);
  2. headline table for the region (default Total) at the last month of the last model year:
     per scenario the mean and 90% interval (quantiles 0.05-0.95) of unmet hours, headcount,
     vacancies, cost and funding gap; for each scenario other than the base, the mean paired
     difference from the base with its 5-95% interval and the share of trajectories in which
     the scenario is better (from scenarios/<s>/vs_<base>/);
  3. fan charts (scripts/plot_fan.py), 4. comparison charts (scripts/plot_compare.py),
  5. a tornado chart (scripts/plot_tornado.py) per attribution group in the file;
  6. the resolved configuration in a <details> block.
A section whose data the file lacks says so instead of failing. Prints the path written.
Exits 2 when the file cannot be read or the region is unknown.
"""

import argparse
import base64
import html
import io
import os
import sys

import matplotlib

import carecast_results as cr
from carecast_results import Missing, format_number
import plot_compare
import plot_fan
import plot_tornado

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1150px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { border-bottom: 3px solid #2471a3; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: .15em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #d0d0d0; padding: .3em .6em; text-align: right; vertical-align: top; }
th { background: #eef3f8; }
td.name, th.name { text-align: left; }
.interval { color: #666; font-size: .85em; display: block; }
.better { color: #1e8449; } .worse { color: #c0392b; }
.note { color: #555; font-size: .92em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: .85em; }
details summary { cursor: pointer; font-weight: 600; }
"""


def fail(message):
    cr.fail("report.py", message)


def e(text):
    return html.escape(str(text), quote=True)


def figure_uri(fig, dpi=100):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(fig, alt, caption):
    return (f'<figure><img src="{figure_uri(fig)}" alt="{e(alt)}">'
            f"<figcaption>{e(caption)}</figcaption></figure>")


def settings_html(s):
    scen = ", ".join(f"{x} (base)" if x == s["base_scenario"] else x for x in s["scenarios"])
    rows = [
        ("Run name", s["name"]), ("Model", s["model"]), ("Mode", s["mode"]),
        ("Trajectories", s["trajectories"]), ("Seed", s["seed"]), ("Start", s["start"]),
        ("Months", s["months"]), ("Regions", ", ".join(s["regions"])), ("Scenarios", scen),
        ("Quantiles", ", ".join(f"{q:g}" for q in s["quantiles"])),
        ("Saved trajectories", s["saved_trajectories"]),
        ("carecast version", s["carecast_version"]), ("Complete", s["complete"]),
        ("File", os.path.basename(s["file"])),
    ]
    body = "".join(f'<tr><th class="name">{e(k)}</th><td class="name">{e(v)}</td></tr>' for k, v in rows)
    return f"<table>{body}</table>"


def cell(mean, low, high, extra=""):
    return (f"<td>{e(format_number(mean))}<span class=\"interval\">"
            f"[{e(format_number(low))} to {e(format_number(high))}]</span>{extra}</td>")


def headline_html(f, region):
    """Tables at the last month of the last model year, for the region."""
    dates, regions, quantiles = cr.read_axes(f)
    ri = cr.region_index(f, region)
    last = len(dates) - 1
    year = int(cr.model_years(len(dates))[-1])
    try:
        qi = cr.quantile_index(quantiles, [0.05, 0.95], f.filename, "90% intervals")
    except Missing as err:
        return f'<p class="note">{e(err)}</p>'
    base = cr.base_scenario(f)
    scenarios = cr.scenario_names(f)
    variables = [v for v in cr.HEADLINE_VARIABLES if all(
        v in cr.scenario_variables(f[f"scenarios/{s}"]) for s in scenarios)]
    when = f"{region}, {cr.month_label(dates[last])} (last month of model year {year})"
    head = "".join(f"<th>{e(cr.variable_meta(f, base, v)[0])}<br><small>{e(cr.variable_meta(f, base, v)[1])}"
                   f"</small></th>" for v in variables)
    out = [f"<p>{e(when)}. Each cell: mean over trajectories, below it the 90% interval "
           f"(5% and 95% quantiles).</p>",
           f'<table class="headline"><tr><th class="name">Scenario</th>{head}</tr>']
    for s in scenarios:
        cells = []
        for v in variables:
            d = cr.read_summary(f, s, v)
            cells.append(cell(d["mean"][last, ri], d["q"][qi[0.05], last, ri], d["q"][qi[0.95], last, ri]))
        out.append(f'<tr><td class="name">{e(s)}{" (base)" if s == base else ""}</td>{"".join(cells)}</tr>')
    out.append("</table>")

    compared = cr.compared_scenarios(f, base)
    if not compared:
        out.append(f'<p class="note">This file has no vs_{e(base)} groups, so no paired differences '
                   f"from the base are shown.</p>")
        return "\n".join(out)
    directions = {"lower": [], "higher": [], "neutral": []}
    for v in variables:
        label, _, better = cr.variable_meta(f, base, v)
        directions.setdefault(better, []).append(label.lower())
    said = "; ".join(f"{k} is better for {', '.join(directions[k])}" for k in ("lower", "higher")
                     if directions[k])
    if directions["neutral"]:
        said += f"; no better direction for {', '.join(directions['neutral'])}"
    out.append(f"<p>Difference from <b>{e(base)}</b> at the same time and region: the mean of the "
               f"paired differences (same trajectory, same random numbers), its 5%-95% range, and "
               f"P(better), the share of trajectories in which the scenario does better than {e(base)} "
               f"({e(said)}).</p>")
    out.append(f'<table class="difference"><tr><th class="name">Scenario minus {e(base)}</th>{head}</tr>')
    for s in compared:
        cells = []
        for v in variables:
            try:
                d = cr.read_vs(f, s, v, base)
            except Missing:
                cells.append("<td>n/a</td>")
                continue
            extra = ""
            if d["p_better"] is not None:
                p = float(d["p_better"][last, ri])
                css = "better" if p >= 0.5 else "worse"
                extra = f'<span class="interval {css}">P(better) {cr.format_percent(p)}</span>'
            cells.append(cell(d["mean"][last, ri], d["q"][qi[0.05], last, ri], d["q"][qi[0.95], last, ri], extra))
        out.append(f'<tr><td class="name">{e(s)}</td>{"".join(cells)}</tr>')
    out.append("</table>")
    return "\n".join(out)


def fan_html(f, region):
    try:
        figs = plot_fan.fan_charts(f, cr.HEADLINE_VARIABLES, None, region)
    except Missing as err:
        return f'<p class="note">No fan charts: {e(err)}</p>'
    parts = ['<p class="note">Each scenario: the median month by month (line), the 50% band '
             "(25%-75%, darker) and the 90% band (5%-95%, lighter) across trajectories.</p>"]
    for v, fig in figs.items():
        parts.append(figure_html(fig, f"fan chart of {v}", f"{cr.variable_label(v)}: fan chart, {region}"))
    return "\n".join(parts)


def compare_html(f, region):
    try:
        figs = plot_compare.compare_charts(f, None, None, region)
    except Missing as err:
        return f'<p class="note">No comparison charts: {e(err)}</p>'
    base = cr.base_scenario(f)
    parts = [f'<p class="note">Each scenario minus {e(base)}, at the last month of each model year: '
             "the point is the mean paired difference, the bar its 5%-95% range across trajectories. "
             "A bar that does not cross zero means the scenario differs from the base in at least 95% "
             "of trajectories in that direction.</p>"]
    for v, fig in figs.items():
        parts.append(figure_html(fig, f"comparison chart of {v}",
                                 f"{cr.variable_label(v)}: difference from {base}, {region}"))
    return "\n".join(parts)


def tornado_html(f):
    groups = cr.attribution_groups(f)
    if not groups:
        return ('<p class="note">No attribution groups in this file. Run '
                "<code>carecast attribute OUT.h5 --variable V --year Y</code> to add one.</p>")
    parts = ['<p class="note">Partial rank correlation (PRCC) of each uncertain parameter with the '
             "variable's mean over the model year, holding the other parameters fixed in rank; "
             "bars sorted by size, with the bootstrap interval. Near +1 or -1: the parameter "
             "drives the result; near 0: it does not matter.</p>"]
    for g in groups:
        try:
            fig = plot_tornado.tornado_figure(f, g["variable"], g["year"], g["scenario"])
        except Missing as err:
            parts.append(f'<p class="note">{e(err)}</p>')
            continue
        parts.append(figure_html(fig, f"tornado chart of {g['variable']} year {g['year']}",
                                 f"{cr.variable_label(g['variable'])}, model year {g['year']}, "
                                 f"scenario {g['scenario']}, region {g['region']}"))
    return "\n".join(parts)


def build_report(path, region="Total"):
    """The HTML text of the report for the result file at path."""
    with cr.open_result(path) as f:
        s = cr.run_settings(f)
        cr.region_index(f, region)
        title = f"carecast result: {s['name'] or os.path.basename(path)}"
        sections = [
            ("Run settings", settings_html(s)),
            ("Headline figures", headline_html(f, region)),
            ("Fan charts", fan_html(f, region)),
            ("Scenario comparison", compare_html(f, region)),
            ("What drives the results", tornado_html(f)),
        ]
    body = "\n".join(f"<h2>{e(h)}</h2>\n{c}" for h, c in sections)
    config = (f"<h2>Configuration</h2>\n<details><summary>Resolved configuration (TOML; "
              f"<code>carecast run</code> on it alone reproduces the run)</summary>\n"
              f"<pre>{e(s['config'])}</pre></details>")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{e(title)}</h1>\n"
            f"{body}\n{config}\n</body>\n</html>\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Self-contained HTML report of a carecast result file.")
    parser.add_argument("result", help="carecast result file (HDF5)")
    parser.add_argument("-o", "--output", required=True, metavar="HTML", help="the page to write")
    parser.add_argument("--region", default="Total", help="region of the tables and charts (default: Total)")
    args = parser.parse_args(argv)
    matplotlib.use("Agg")
    try:
        text = build_report(args.result, args.region)
    except Missing as err:
        fail(str(err))
    folder = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(folder, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
