"""Reading carecast result files (HDF5, docs/output.md) for the plotting and report scripts.

    import carecast_results as cr
    with cr.open_result("out/wm_baseline.h5") as f:
        base = cr.base_scenario(f)
        s = cr.read_summary(f, base, "unmet_hours")      # mean, sd, q, dates, regions, quantiles
        d = cr.read_vs(f, "real_living_wage", "unmet_hours")   # paired difference from the base
        a = cr.read_attribution(f, base, "unmet_hours", 1)     # PRCC per parameter

Everything here reads with h5py into numpy; `open_xr` opens one group with xarray (h5netcdf).
A request for something the file lacks raises `Missing`, whose message names what is missing
and what the file has; the scripts turn it into exit status 2.
"""

import os
import sys

import h5py
import numpy as np

EXIT_USAGE = 2

# (label, unit) per output variable of care_wf (MODEL.md, "Outputs of month t"). The file's own
# `units`/`long_name` attributes of `<var>_mean`, when present, take precedence for units.
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

# Readable names of the model's uncertain parameters, keyed by the file's `section.key` names
# (the `parameter` axis). `parameter_label` also accepts the bare key.
PARAMETER_LABELS = {
    "demand.prevalence_multiplier": "Prevalence of care need (multiplier)",
    "demand.shock_rho": "Persistence of demand shocks",
    "demand.shock_sd": "Size of demand shocks (sd)",
    "workforce.beta_w": "Turnover response to relative wage",
    "workforce.beta_u": "Turnover response to unemployment",
    "workforce.gamma_w": "Recruitment response to relative wage",
    "workforce.gamma_u": "Recruitment response to unemployment",
    "workforce.productivity_new": "Productivity of new starters",
    "workforce.care_time": "Share of paid hours spent on care",
    "workforce.oncost": "Employer on-costs (share of wages)",
    "workforce.vacancy0": "Vacancy rate at the start",
    "workforce.new_share0": "Share of new starters at the start",
    "macro.outside_wage0": "Outside-option wage at the start",
    "macro.g_w": "Growth of the outside-option wage",
    "macro.rho_w": "Persistence of outside-wage shocks",
    "macro.sd_w": "Size of outside-wage shocks (sd)",
    "macro.u_mean": "Long-run unemployment rate",
    "macro.rho_u": "Persistence of unemployment",
    "macro.sd_u": "Size of unemployment shocks (sd)",
    "macro.cpi": "Inflation (CPI)",
    "policy.nlw0": "National Living Wage at the start",
    "policy.g_nlw": "Growth of the National Living Wage",
    "policy.rlw0": "Real Living Wage at the start",
    "policy.g_rlw": "Growth of the Real Living Wage",
    "policy.parity_ratio": "Pay parity ratio",
    "policy.phase_years": "Years to phase in parity",
    "policy.transition_years": "Years of provider-mix transition",
    "funding.budget_cover0": "Budget cover of demand at the start",
    "funding.budget_growth_mean": "Budget growth (mean)",
    "funding.budget_growth_sd": "Budget growth volatility (sd)",
}
_PARAMETER_BY_KEY = {k.split(".")[-1]: v for k, v in PARAMETER_LABELS.items()}

HEADLINE_VARIABLES = ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap"]
COMPARE_VARIABLES = ["unmet_hours", "headcount", "vacancies", "cost", "funding_gap", "leakage", "wage_bill"]
QUANTILE_TOL = 1e-6
ATTRIBUTION_PREFIX = "attribution"
VS_PREFIX = "vs_"


class Missing(Exception):
    """Something requested is not in the file; the message names it and what is there."""


def fail(script, message):
    """Exits with EXIT_USAGE after `script: error: message` on stderr."""
    print(f"{script}: error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def add_chart_arguments(parser, default_variables, scenario_help):
    """The options shared by the chart scripts: result file, variables, scenarios, region, -o."""
    parser.add_argument("result", help="carecast result file (HDF5)")
    parser.add_argument("--variable", nargs="+", action="extend", metavar="V",
                        help=f"variables to plot (default: {' '.join(default_variables)})")
    parser.add_argument("--scenario", nargs="+", action="extend", metavar="S", help=scenario_help)
    parser.add_argument("--region", default="Total", help="region to plot (default: Total)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="directory for the PNG files")


def save_png(fig, directory, name):
    """Writes `fig` as DIR/NAME (creating DIR) and returns the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    fig.savefig(path, dpi=110)
    return path


# ----------------------------------------------------------------------------- small helpers

def as_text(values):
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def listing(names):
    return ", ".join(str(n) for n in names) if names else "(none)"


def attr(obj, name, default=None):
    """An HDF5 attribute as a plain Python value (str for strings, int/float for scalars)."""
    if name not in obj.attrs:
        return default
    value = obj.attrs[name]
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode_time(days):
    """int64 days since 1970-01-01 -> datetime64[D]."""
    days = np.asarray(days, dtype=np.int64)
    return (np.datetime64("1970-01-01", "D") + days.astype("timedelta64[D]")).astype("datetime64[D]")


def month_label(date):
    """datetime64 -> 'Dec 2026'."""
    d = np.datetime64(date, "D").astype(object)
    return d.strftime("%b %Y")


def parameter_label(name):
    """'workforce.beta_w' -> 'Turnover response to relative wage' (the name itself if unknown)."""
    if name in PARAMETER_LABELS:
        return PARAMETER_LABELS[name]
    return _PARAMETER_BY_KEY.get(name.split(".")[-1], name)


def variable_label(variable):
    return LABELS.get(variable, (variable.replace("_", " ").capitalize(), ""))[0]


def variable_units(variable):
    return LABELS.get(variable, ("", ""))[1]


def axis_label(variable, units=None):
    label, unit = LABELS.get(variable, (variable.replace("_", " ").capitalize(), ""))
    if units:
        unit = units
    return f"{label} ({unit})" if unit else label


def format_percent(p):
    """0.015 -> '1.5%', 0.82 -> '82%'."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{100.0 * p:.1f}".rstrip("0").rstrip(".") + "%"


def format_number(x):
    """Compact human-readable number: thousands separators for large values, 3 digits for small."""
    if x is None or not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:,.1f}"
    if a == 0:
        return "0"
    return f"{x:.3g}"


# ----------------------------------------------------------------------------- the file

def open_result(path):
    """Open a result file read-only; Missing if it does not exist or is not HDF5."""
    if not os.path.isfile(path):
        raise Missing(f"no such result file: {path}")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise Missing(f"cannot open {path} as HDF5: {e}") from None


def read_axes(f, path=None):
    """Root dimension scales: (dates datetime64[D], region names, quantiles float64)."""
    path = path or f.filename
    for name in ("time", "region", "quantile"):
        if name not in f:
            raise Missing(f"{path} has no root dataset '{name}' (available: {listing(sorted(f.keys()))})")
    dates = decode_time(f["time"][()])
    regions = as_text(f["region"][()])
    quantiles = np.asarray(f["quantile"][()], dtype=np.float64)
    return dates, regions, quantiles


def quantile_index(quantiles, needed, path, purpose):
    """{q: index} for each q in needed; Missing naming the purpose if one is absent."""
    index = {}
    for q in needed:
        hits = np.flatnonzero(np.abs(np.asarray(quantiles) - q) <= QUANTILE_TOL)
        if hits.size == 0:
            have = listing([f"{x:g}" for x in quantiles])
            raise Missing(f"quantile {q:g} is missing from {path}: {purpose} need "
                          f"{listing([f'{x:g}' for x in needed])}; the file has {have}")
        index[q] = int(hits[0])
    return index


def scenario_names(f):
    """Scenarios in the file, the base first."""
    if "scenarios" not in f or len(f["scenarios"]) == 0:
        raise Missing(f"{f.filename} has no scenarios/ group with results")
    names = list(f["scenarios"].keys())
    base = base_scenario(f)
    if base in names:
        names.remove(base)
        names.insert(0, base)
    return names


def base_scenario(f):
    """Root attribute base_scenario; files written before it existed use 'baseline'."""
    base = attr(f, "base_scenario")
    if base:
        return base
    if "scenarios" in f and "baseline" not in f["scenarios"] and len(f["scenarios"]):
        return list(f["scenarios"].keys())[0]
    return "baseline"


def check_scenarios(f, requested):
    """The requested scenarios (default: all, base first); Missing for unknown ones."""
    available = scenario_names(f)
    scenarios = list(requested) if requested else available
    unknown = [s for s in scenarios if s not in available]
    if unknown:
        raise Missing(f"scenario {listing(unknown)} not in {f.filename} (available: {listing(available)})")
    return scenarios


def region_index(f, region):
    regions = as_text(f["region"][()])
    if region not in regions:
        raise Missing(f"region '{region}' not in {f.filename} (available: {listing(regions)})")
    return regions.index(region)


def scenario_variables(group):
    """Variables with a summary in a scenarios/<name> group."""
    if "summary" not in group:
        return []
    return sorted(k[:-2] for k in group["summary"].keys() if k.endswith("_q"))


def variable_meta(f, scenario, variable):
    """(long_name, units, better) from the attributes of summary/<var>_mean, else LABELS."""
    label, units = LABELS.get(variable, (variable.replace("_", " ").capitalize(), ""))
    better = "neutral"
    path = f"scenarios/{scenario}/summary/{variable}_mean"
    if path in f:
        d = f[path]
        units = attr(d, "units", units) or units
        label = attr(d, "long_name", label) or label
        better = attr(d, "better", better) or better
    return label, units, better


def run_settings(f):
    """Run settings from the root attributes and the resolved config."""
    dates, regions, quantiles = read_axes(f)
    config_text = attr(f, "config", "") or ""
    run = {}
    try:
        import tomllib
        run = tomllib.loads(config_text).get("run", {})
    except Exception:  # an unreadable config still lets the rest be shown
        run = {}
    return {
        "file": f.filename,
        "name": run.get("name", ""),
        "carecast_version": attr(f, "carecast_version", ""),
        "model": attr(f, "model", ""),
        "mode": attr(f, "mode", ""),
        "trajectories": attr(f, "trajectories", ""),
        "seed": attr(f, "seed", ""),
        "start": str(dates[0])[:7] if len(dates) else "",
        "months": len(dates),
        "regions": [r for r in regions if r != "Total"],
        "quantiles": [float(q) for q in quantiles],
        "scenarios": scenario_names(f) if "scenarios" in f else [],
        "base_scenario": base_scenario(f),
        "complete": attr(f, "complete", ""),
        "saved_trajectories": int(f["trajectory"].shape[0]) if "trajectory" in f else 0,
        "config": config_text,
    }


# ----------------------------------------------------------------------------- model years

def model_years(n_months):
    """Model year (1-based) of each month: months 12(Y-1)..12Y-1 are year Y."""
    return np.arange(n_months) // 12 + 1


def year_end_months(n_months):
    """Index of the last month of each model year present (a partial last year ends early)."""
    years = model_years(n_months)
    return [int(np.flatnonzero(years == y)[-1]) for y in np.unique(years)]


# ----------------------------------------------------------------------------- groups

def read_summary(f, scenario, variable):
    """scenarios/<s>/summary/<v>_mean|_sd|_q as numpy, with the axes and metadata."""
    g = f"scenarios/{scenario}/summary"
    if f"scenarios/{scenario}" not in f:
        raise Missing(f"scenario '{scenario}' not in {f.filename} (available: {listing(scenario_names(f))})")
    if f"{g}/{variable}_q" not in f:
        have = scenario_variables(f[f"scenarios/{scenario}"])
        raise Missing(f"variable '{variable}' not in scenario '{scenario}' of {f.filename} "
                      f"(available: {listing(have)})")
    dates, regions, quantiles = read_axes(f)
    label, units, better = variable_meta(f, scenario, variable)
    return {
        "mean": f[f"{g}/{variable}_mean"][()],
        "sd": f[f"{g}/{variable}_sd"][()],
        "q": f[f"{g}/{variable}_q"][()],
        "dates": dates, "regions": regions, "quantiles": quantiles,
        "label": label, "units": units, "better": better,
    }


def vs_group(f, scenario, base=None):
    base = base or base_scenario(f)
    return f"scenarios/{scenario}/{VS_PREFIX}{base}"


def compared_scenarios(f, base=None):
    """Scenarios with a vs_<base> group (every scenario but the base, once the C++ writes them)."""
    base = base or base_scenario(f)
    if "scenarios" not in f:
        return []
    return [s for s in scenario_names(f) if vs_group(f, s, base) in f]


def read_vs(f, scenario, variable, base=None):
    """scenarios/<s>/vs_<base>/<v>_mean|_sd|_q|_p_better (p_better None when not written)."""
    base = base or base_scenario(f)
    path = vs_group(f, scenario, base)
    if path not in f:
        have = compared_scenarios(f, base)
        raise Missing(f"{f.filename} has no {path} group (scenarios compared with '{base}': {listing(have)})")
    g = f[path]
    if f"{variable}_mean" not in g:
        have = sorted(k[:-5] for k in g.keys() if k.endswith("_mean"))
        raise Missing(f"variable '{variable}' not in {path} of {f.filename} (available: {listing(have)})")
    dates, regions, quantiles = read_axes(f)
    label, units, better = variable_meta(f, base, variable)
    return {
        "mean": g[f"{variable}_mean"][()],
        "sd": g[f"{variable}_sd"][()] if f"{variable}_sd" in g else None,
        "q": g[f"{variable}_q"][()],
        "p_better": g[f"{variable}_p_better"][()] if f"{variable}_p_better" in g else None,
        "dates": dates, "regions": regions, "quantiles": quantiles,
        "label": label, "units": units, "better": better, "base": attr(g, "base", base),
    }


def attribution_groups(f):
    """Every attribution group: list of dicts (scenario, variable, year, region, path)."""
    found = []
    if "scenarios" not in f:
        return found
    for s in scenario_names(f):
        path = f"scenarios/{s}/{ATTRIBUTION_PREFIX}"
        if path not in f:
            continue
        for name, g in f[path].items():
            if not isinstance(g, h5py.Group) or "prcc" not in g:
                continue
            variable = attr(g, "variable") or name.rsplit("_year", 1)[0]
            year = attr(g, "year")
            if year is None and "_year" in name:
                year = name.rsplit("_year", 1)[1]
            found.append({"scenario": s, "variable": variable, "year": int(year),
                          "region": attr(g, "region", "Total"), "path": f"{path}/{name}"})
    return found


def attribution_path(scenario, variable, year):
    return f"scenarios/{scenario}/{ATTRIBUTION_PREFIX}/{variable}_year{int(year)}"


def read_attribution(f, scenario, variable, year):
    """PRCC per parameter with its bootstrap interval, from one attribution group."""
    path = attribution_path(scenario, variable, year)
    if path not in f:
        have = [f"{a['scenario']}: {a['variable']} year {a['year']}" for a in attribution_groups(f)]
        raise Missing(f"{f.filename} has no {path} group; run "
                      f"`carecast attribute {f.filename} --variable {variable} --year {int(year)}"
                      f"{'' if scenario == base_scenario(f) else ' --scenario ' + scenario}` first "
                      f"(attribution groups present: {listing(have)})")
    g = f[path]
    if "parameter" in g:
        parameters = as_text(g["parameter"][()])
    elif "parameter" in f:
        parameters = as_text(f["parameter"][()])
    else:
        parameters = [f"parameter {i}" for i in range(g["prcc"].shape[0])]
    return {
        "parameters": parameters,
        "labels": [parameter_label(p) for p in parameters],
        "prcc": np.asarray(g["prcc"][()], dtype=np.float64),
        "low": np.asarray(g["prcc_low"][()], dtype=np.float64) if "prcc_low" in g else None,
        "high": np.asarray(g["prcc_high"][()], dtype=np.float64) if "prcc_high" in g else None,
        "variable": attr(g, "variable", variable),
        "year": int(attr(g, "year", year)),
        "region": attr(g, "region", "Total"),
        "method": attr(g, "method", "partial rank correlation"),
        "bootstrap": attr(g, "bootstrap"),
        "interval": attr(g, "interval", 0.9),
        "scenario": scenario,
        "path": path,
    }


def open_xr(path, group):
    """One group of the file as an xarray Dataset (h5netcdf engine; dates decoded)."""
    import xarray as xr
    return xr.open_dataset(path, group=group, engine="h5netcdf")


def open_summary_xr(path, scenario):
    return open_xr(path, f"scenarios/{scenario}/summary")


def open_vs_xr(path, scenario, base):
    return open_xr(path, f"scenarios/{scenario}/{VS_PREFIX}{base}")


def open_attribution_xr(path, scenario, variable, year):
    return open_xr(path, attribution_path(scenario, variable, year))
