#!/usr/bin/python3
"""A vectorised NumPy implementation of the care_wf model (../shared/MODEL.md).

This is the peer an economist would otherwise write: the same model as carecast's C++ engine,
read from the same scenario files, simulated in batches of trajectories held as arrays with a
leading trajectory axis. It follows docs/model.md wherever MODEL.md leaves room (month 0 runs
steps 4-8 including the flows; one budget growth draw per April shared by all regions and
scenarios; the initial S and B from the base configuration; floors only in stochastic mode;
vacancies = V - H; Total region rules; sample sd).

    /usr/bin/python3 scripts/numpy_baseline.py FILE [-n N] [--seed S] [--batch B]
        [--scenario NAME ...] [--mode expected|stochastic] [-o OUT.npz] [--quiet]

Random numbers come from numpy.random.Generator(PCG64(seed)); they are not carecast's, so the
peer agrees with the engine in distribution, not draw for draw. Within the peer, every scenario
of a trajectory reuses the same parameter draws (where the scenario keeps the base distribution)
and the same normal shocks (common random numbers); the binomial flows are drawn per scenario.
Results depend on the seed and on the batch size.

Prints a timing line to stderr; with -o writes an .npz holding `mean` and `sd`
[scenario, variable, time, region] (`Total` last), `scenarios`, `variables`, `regions`,
`trajectories`, `months` (YYYY-MM) and `mode`.
"""

import argparse
import math
import os
import sys
import time
import tomllib
from statistics import NormalDist

import numpy as np

DEFAULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "data",
                        "west_midlands.toml")
WEEKS_PER_MONTH = 52.0 / 12.0
BASE = "baseline"

VARIABLES = ["demand_hours", "supplied_hours", "delivered_hours", "unmet_hours", "gap_hours",
             "headcount", "vacancies", "leavers", "hires", "turnover_rate", "care_wage",
             "outside_wage", "cost", "budget", "funding_gap", "leakage", "wage_bill"]
IX = {name: i for i, name in enumerate(VARIABLES)}

INF = math.inf
# Scalar parameters (number or distribution) and their allowed ranges (low, high, low_open,
# high_open), as in docs/model.md.
ANY = (-INF, INF, True, True)
POS = (0.0, INF, True, True)
NONNEG = (0.0, INF, False, True)
UNIT = (0.0, 1.0, False, False)
OPEN_UNIT = (0.0, 1.0, True, True)
RHO = (-1.0, 1.0, True, True)
GROWTH = (-1.0, INF, True, True)
PARAMS = {
    "demand.prevalence_multiplier": POS, "demand.shock_rho": RHO, "demand.shock_sd": NONNEG,
    "workforce.beta_w": ANY, "workforce.beta_u": ANY, "workforce.gamma_w": ANY,
    "workforce.gamma_u": ANY, "workforce.productivity_new": UNIT,
    "workforce.care_time": (0.0, 1.0, True, False), "workforce.oncost": NONNEG,
    "workforce.vacancy0": UNIT, "workforce.new_share0": UNIT, "macro.outside_wage0": POS,
    "macro.g_w": GROWTH, "macro.rho_w": RHO, "macro.sd_w": NONNEG, "macro.u_mean": OPEN_UNIT,
    "macro.rho_u": RHO, "macro.sd_u": NONNEG, "macro.cpi": GROWTH, "policy.nlw0": POS,
    "policy.g_nlw": GROWTH, "policy.rlw0": POS, "policy.g_rlw": GROWTH,
    "policy.parity_ratio": POS, "policy.phase_years": NONNEG,
    "policy.transition_years": NONNEG, "funding.budget_cover0": NONNEG,
    "funding.budget_growth_mean": ANY, "funding.budget_growth_sd": NONNEG,
}
# Keys a scenario may not override: the shared axes, run/output settings, and the keys that
# only set the initial state (taken from the base configuration for every scenario).
AXES = {"regions.names", "population.age_bands", "providers.names"}
INITIAL_ONLY = {"workforce.vacancy0", "workforce.new_share0", "funding.budget0",
                "funding.budget_cover0"}
DIST_FIELDS = {"normal": ("mean", "sd"), "lognormal": ("mu", "sigma"),
               "uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
               "beta": ("a", "b"), "truncnormal": ("mean", "sd", "low", "high")}


class ConfigError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Distributions


def _phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def truncated_standard_mean(a, b):
    """E[Z | a <= Z <= b] for Z standard normal, a < b."""
    if a >= 0:   # upper tail: use erfc so nothing cancels
        mass = 0.5 * (math.erfc(a / math.sqrt(2.0)) - math.erfc(b / math.sqrt(2.0)))
    elif b <= 0:
        return -truncated_standard_mean(-b, -a)
    else:
        mass = 0.5 * (math.erf(b / math.sqrt(2.0)) - math.erf(a / math.sqrt(2.0)))
    return (_phi(a) - _phi(b)) / mass


class Dist:
    """A scalar parameter: a fixed number or one of the MODEL.md distributions."""

    def __init__(self, key, spec, where):
        self.key = key
        if isinstance(spec, bool) or not isinstance(spec, (int, float, dict)):
            raise ConfigError(f"{where}: {key}: expected a number or a distribution table, "
                              f"got {spec!r}")
        if isinstance(spec, dict):
            kind = spec.get("dist")
            if kind not in DIST_FIELDS:
                raise ConfigError(f"{where}: {key}: unknown distribution {kind!r} (expected one "
                                  f"of {', '.join(DIST_FIELDS)})")
            fields = DIST_FIELDS[kind]
            extra = set(spec) - set(fields) - {"dist"}
            missing = [f for f in fields if f not in spec]
            if extra or missing:
                raise ConfigError(f"{where}: {key}: a {kind} distribution takes "
                                  f"{', '.join(fields)} (unknown: {sorted(extra)}, missing: "
                                  f"{missing})")
            vals = []
            for f in fields:
                v = spec[f]
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ConfigError(f"{where}: {key}.{f}: expected a number, got {v!r}")
                vals.append(float(v))
            self.kind, self.p = kind, tuple(vals)
        else:
            self.kind, self.p = "fixed", (float(spec),)
        self._check(where)

    def _check(self, where):
        k, p = self.kind, self.p
        ok = {"fixed": lambda: math.isfinite(p[0]),
              "normal": lambda: p[1] > 0, "lognormal": lambda: p[1] > 0,
              "uniform": lambda: p[0] < p[1],
              "triangular": lambda: p[0] < p[2] and p[0] <= p[1] <= p[2],
              "beta": lambda: p[0] > 0 and p[1] > 0,
              "truncnormal": lambda: p[1] > 0 and p[2] < p[3]}[k]()
        if not ok or not all(math.isfinite(x) for x in p[:2]):
            raise ConfigError(f"{where}: {self.key}: invalid {k} parameters {p}")
        lo, hi, lo_open, hi_open = PARAMS[self.key]
        s_lo, s_hi, s_lo_open, s_hi_open = self.support()
        low_ok = s_lo > lo or (s_lo == lo and (not lo_open or s_lo_open))
        high_ok = s_hi < hi or (s_hi == hi and (not hi_open or s_hi_open))
        if not (low_ok and high_ok):
            rng = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
            raise ConfigError(f"{where}: {self.key}: the support of {k}{p} leaves the allowed "
                              f"range {rng}")

    def support(self):
        k, p = self.kind, self.p
        if k == "fixed":
            return p[0], p[0], False, False
        if k == "normal":
            return -INF, INF, True, True
        if k == "lognormal":
            return 0.0, INF, True, True
        if k in ("uniform", "truncnormal"):
            lo, hi = (p[0], p[1]) if k == "uniform" else (p[2], p[3])
            return lo, hi, False, False
        if k == "triangular":
            return p[0], p[2], False, False
        return 0.0, 1.0, True, True   # beta

    @property
    def fixed(self):
        return self.kind == "fixed"

    def mean(self):
        k, p = self.kind, self.p
        if k in ("fixed", "normal"):
            return p[0]
        if k == "lognormal":
            return math.exp(p[0] + 0.5 * p[1] ** 2)
        if k == "uniform":
            return 0.5 * (p[0] + p[1])
        if k == "triangular":
            return (p[0] + p[1] + p[2]) / 3.0
        if k == "beta":
            return p[0] / (p[0] + p[1])
        m, s, lo, hi = p
        return min(max(m + s * truncated_standard_mean((lo - m) / s, (hi - m) / s), lo), hi)

    def draw(self, rng, n):
        k, p = self.kind, self.p
        if k == "fixed":
            return np.full(n, p[0])
        if k == "normal":
            return rng.normal(p[0], p[1], n)
        if k == "lognormal":
            return rng.lognormal(p[0], p[1], n)
        if k == "uniform":
            return rng.uniform(p[0], p[1], n)
        if k == "triangular":
            return rng.triangular(p[0], p[1], p[2], n) if p[0] < p[2] else np.full(n, p[0])
        if k == "beta":
            return rng.beta(p[0], p[1], n)
        m, s, lo, hi = p
        nd = NormalDist()
        a, b = nd.cdf((lo - m) / s), nd.cdf((hi - m) / s)
        if b - a > 0.05:   # rejection from the parent normal
            x = rng.normal(m, s, n)
            bad = (x < lo) | (x > hi)
            while bad.any():
                x[bad] = rng.normal(m, s, int(bad.sum()))
                bad = (x < lo) | (x > hi)
            return x
        # narrow window: inversion of the CDF (scalar, but rare)
        u = rng.uniform(a, b, n)
        x = np.array([m + s * nd.inv_cdf(min(max(ui, 1e-300), 1 - 1e-16)) for ui in u])
        return np.clip(x, lo, hi)

    def __eq__(self, other):
        return self.kind == other.kind and self.p == other.p


# ---------------------------------------------------------------------------------------------
# Configuration


def _flatten(table, prefix=""):
    out = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and "dist" not in v and "." not in k:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


class Scenario:
    """The resolved parameters of one scenario (index 0 = the base)."""

    def __init__(self, name, get, where):
        self.name = name
        num = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)

        def names(key):
            v = get(key)
            if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
                raise ConfigError(f"{where}: {key}: expected a non-empty list of names")
            return v

        def arr(key, shape, lo=-INF, hi=INF, allow_empty=False):
            v = get(key)
            if allow_empty and v == []:
                return None
            try:
                a = np.array(v, dtype=float)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: {key}: expected numbers of shape {shape}")
            if a.shape != shape:
                raise ConfigError(f"{where}: {key}: expected shape {shape}, got {a.shape}")
            if not np.all(np.isfinite(a)) or np.any(a < lo) or np.any(a > hi):
                raise ConfigError(f"{where}: {key}: expected values in [{lo}, {hi}]")
            return a

        def choice(key, options):
            v = get(key)
            if v not in options:
                raise ConfigError(f"{where}: {key}: expected one of {options}, got {v!r}")
            return v

        self.regions = names("regions.names")
        self.ages = names("population.age_bands")
        self.providers = names("providers.names")
        R, A, P = len(self.regions), len(self.ages), len(self.providers)
        self.pop0 = arr("population.initial", (R, A), 0.0)
        self.growth = arr("population.annual_growth", (R, A), -1.0 + 1e-300)
        self.prevalence = arr("demand.prevalence", (A,), 0.0, 1.0)
        self.hours_per_week = arr("demand.hours_per_week", (A,), 0.0)
        self.share = arr("providers.share", (P,), 0.0, 1.0)
        self.contract_hours = arr("providers.contract_hours", (P,), 1e-300)
        self.wage_premium = arr("providers.wage_premium", (P,), -1.0 + 1e-300)
        self.overhead = arr("providers.overhead", (P,), 0.0)
        self.margin = arr("providers.margin", (P,), 0.0, 1.0 - 1e-16)
        self.leakage = arr("providers.leakage", (P,), 0.0, 1.0)
        self.turnover_base = arr("providers.turnover_base", (P, 2), 1e-300, 1.0 - 1e-16)
        self.fill_base = arr("providers.fill_base", (P,), 1e-300, 1.0 - 1e-16)
        self.turnover_model = choice("workforce.turnover_model", ["wage_logit", "constant"])
        self.wage = choice("policy.wage", ["nlw", "real_living_wage", "parity"])
        path = get("policy.nlw_path")
        if not isinstance(path, list) or not all(num(x) and x > 0 for x in path):
            raise ConfigError(f"{where}: policy.nlw_path: expected a list of positive numbers")
        self.nlw_path = [float(x) for x in path]
        self.share_target = arr("policy.share_target", (P,), 0.0, 1.0, allow_empty=True)
        self.budget0 = arr("funding.budget0", (R,), 0.0, allow_empty=True)
        for key, s in (("providers.share", self.share),
                       ("policy.share_target", self.share_target)):
            if s is not None and abs(s.sum() - 1.0) > 1e-9:
                raise ConfigError(f"{where}: {key}: shares must sum to 1, got {s.sum()}")
        self.params = {key: Dist(key, get(key), where) for key in PARAMS}


def load_config(path, selected=None):
    """Returns (run settings dict, [Scenario], base first)."""
    with open(DEFAULTS, "rb") as f:
        defaults = _flatten(tomllib.load(f))
    try:
        with open(path, "rb") as f:
            user_doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}")
    scenario_tables = user_doc.pop("scenario", [])
    user = _flatten(user_doc)
    for key in user:
        if key not in defaults:
            raise ConfigError(f"{path}: {key}: not a key of the schema")
    base_get = lambda key: user[key] if key in user else defaults[key]
    if base_get("run.model") != "care_wf":
        raise ConfigError(f"{path}: run.model: expected 'care_wf', got {base_get('run.model')!r}")

    overrides = [(BASE, {})]
    for i, table in enumerate(scenario_tables):
        where = f"{path}: scenario {i + 1}"
        if set(table) - {"name", "set"} or not isinstance(table.get("name"), str):
            raise ConfigError(f"{where}: expected a table with a 'name' and a 'set' table")
        sets = _flatten(table.get("set", {}))
        for key in sets:
            if key not in defaults:
                raise ConfigError(f"{where} '{table['name']}': {key}: not a key of the schema")
            if key.split(".")[0] in ("run", "output") or key in AXES or key in INITIAL_ONLY:
                raise ConfigError(f"{where} '{table['name']}': {key}: cannot be overridden by "
                                  "a scenario")
        if any(table["name"] == n for n, _ in overrides):
            raise ConfigError(f"{where}: duplicate scenario name {table['name']!r}")
        overrides.append((table["name"], sets))
    if selected:
        known = [n for n, _ in overrides]
        for name in selected:
            if name not in known:
                raise ConfigError(f"{path}: no scenario named '{name}' (available: "
                                  f"{', '.join(known)})")
        overrides = [o for o in overrides if o[0] == BASE or o[0] in selected]

    scenarios = []
    for name, sets in overrides:
        get = (lambda s: lambda key: s[key] if key in s else base_get(key))(sets)
        scenarios.append(Scenario(name, get, f"{path}" + ("" if name == BASE else
                                                           f": scenario '{name}'")))
    start = base_get("run.start")
    try:
        year, month = (int(x) for x in str(start).split("-"))
        assert 1 <= month <= 12
    except (ValueError, AssertionError):
        raise ConfigError(f"{path}: run.start: expected 'YYYY-MM', got {start!r}")
    run = {"start": (year, month), "months": int(base_get("run.months")),
           "trajectories": int(base_get("run.trajectories")), "seed": int(base_get("run.seed")),
           "mode": base_get("run.mode")}
    if run["months"] < 1 or run["mode"] not in ("expected", "stochastic"):
        raise ConfigError(f"{path}: run.months must be >= 1 and run.mode expected|stochastic")
    return run, scenarios


# ---------------------------------------------------------------------------------------------
# The model, vectorised over a batch of trajectories


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def logit(p):
    return np.log(p / (1.0 - p))


class Batch:
    """One batch of n trajectories: parameter draws and normal shocks shared by all scenarios."""

    def __init__(self, scenarios, n, months, rng, expected):
        self.n, self.expected, self.rng = n, expected, rng
        base = scenarios[0]
        R = len(base.regions)
        if expected:
            self.params = [{k: np.full(n, d.mean()) for k, d in s.params.items()}
                           for s in scenarios]
            self.e1 = self.e2 = self.eb = np.zeros((months, n))
            self.e3 = np.zeros((months, n, R))
        else:
            bp = {k: d.draw(rng, n) for k, d in base.params.items()}
            self.params = [bp]
            for s in scenarios[1:]:
                # Same distribution as the base: the same draw (common random numbers).
                self.params.append({k: bp[k] if d == base.params[k] else d.draw(rng, n)
                                    for k, d in s.params.items()})
            self.e1 = rng.standard_normal((months, n))   # outside-wage shock
            self.e2 = rng.standard_normal((months, n))   # unemployment shock
            self.eb = rng.standard_normal((months, n))   # budget growth shock (Aprils)
            self.e3 = rng.standard_normal((months, n, R))  # regional demand shocks

    def floor(self, x):
        return x if self.expected else np.floor(x)

    def binomial(self, count, p):
        if self.expected:
            return count * p
        p = np.broadcast_to(p, count.shape)
        return self.rng.binomial(count.astype(np.int64), p).astype(float)


def prices(c, v, t, nlw, rlw, w_out):
    """Steps 5-6 up to fee_avg: wages w[n,P], shares s[n,P], fees fee[n,P], fee_avg[n]."""
    if c.wage == "nlw":
        base = nlw
    elif c.wage == "real_living_wage":
        base = np.maximum(nlw, rlw)
    else:
        ph = v["policy.phase_years"]
        lam = np.where(ph == 0, 1.0, np.minimum(1.0, t / (12.0 * np.where(ph == 0, 1.0, ph))))
        base = np.maximum(nlw, (1 - lam) * nlw + lam * v["policy.parity_ratio"] * w_out)
    w = base[:, None] * (1.0 + c.wage_premium)
    if c.share_target is None:
        s = np.broadcast_to(c.share, w.shape)
    else:
        tr = v["policy.transition_years"]
        lam_s = np.where(tr == 0, 1.0, np.minimum(1.0, t / (12.0 * np.where(tr == 0, 1.0, tr))))
        s = c.share + lam_s[:, None] * (c.share_target - c.share)
    overhead = c.overhead * (1.0 + v["macro.cpi"][:, None]) ** (t / 12.0)
    fee = ((w * (1.0 + v["workforce.oncost"][:, None]) / v["workforce.care_time"][:, None]
            + overhead) / (1.0 - c.margin))
    return w, s, fee, (s * fee).sum(axis=1)


def demand_hours(c, v, pop, d):
    """Step 4: D[n,R] from population pop[R,A] and log shocks d[n,R]."""
    per_person = c.prevalence * c.hours_per_week * WEEKS_PER_MONTH          # [A]
    base = (pop * per_person).sum(axis=1)                                  # [R]
    return base * v["demand.prevalence_multiplier"][:, None] * np.exp(d)


def initial_nlw(c, v):
    return np.full_like(v["policy.nlw0"], c.nlw_path[0]) if c.nlw_path else v["policy.nlw0"]


def initial_state(batch, c):
    """Initial S (new, settled) [n,R,P] and B [n,R] from the base configuration."""
    v = batch.params[0]
    n, R = batch.n, len(c.regions)
    w, s, fee, fee_avg = prices(c, v, 0, initial_nlw(c, v), v["policy.rlw0"],
                                v["macro.outside_wage0"])
    D = demand_hours(c, v, c.pop0, np.zeros((n, R)))
    if c.budget0 is None:
        B = v["funding.budget_cover0"][:, None] * D * fee_avg[:, None]
    else:
        B = np.broadcast_to(c.budget0, (n, R)).copy()
    F = np.minimum(D, B / fee_avg[:, None])
    hours_per_post = c.contract_hours * v["workforce.care_time"][:, None] * WEEKS_PER_MONTH
    posts = s[:, None, :] * F[:, :, None] / hours_per_post[:, None, :]
    total = batch.floor(posts * (1.0 - v["workforce.vacancy0"][:, None, None]))
    new = batch.floor(v["workforce.new_share0"][:, None, None] * total)
    return new, total - new, B


class Moments:
    """Per-cell mean and M2 merged over batches (Chan et al.), memory independent of N."""

    def __init__(self, shape):
        self.count = 0
        self.mean = np.zeros(shape)
        self.m2 = np.zeros(shape)

    def add_batch(self, k, t, x):
        """x[n, V, R1]: one month of one scenario for a whole batch."""
        n = x.shape[0]
        # Centre on the first trajectory so that a constant cell has mean exactly that
        # constant and M2 exactly 0 (a plain x.mean() can be off by an ulp).
        shifted = x - x[0]
        offset = shifted.mean(axis=0)
        bmean = x[0] + offset
        bm2 = ((shifted - offset) ** 2).sum(axis=0)
        na = self.count
        delta = bmean - self.mean[k, :, t]
        tot = na + n
        self.mean[k, :, t] += delta * (n / tot)
        self.m2[k, :, t] += bm2 + delta ** 2 * (na * n / tot)

    def sd(self, count):
        return np.sqrt(self.m2 / (count - 1)) if count > 1 else np.zeros_like(self.m2)


def run_scenario(batch, k, c, state0, calendar, moments):
    v = batch.params[k]
    n, R, P, T = batch.n, len(c.regions), len(c.providers), len(calendar)
    new0, settled0, B0 = state0
    new, settled, B = new0.copy(), settled0.copy(), B0.copy()
    pop = c.pop0.copy()
    monthly_growth = (1.0 + c.growth) ** (1.0 / 12.0)
    d = np.zeros((n, R))
    xw = np.zeros(n)
    z = np.zeros(n)
    w_out = v["macro.outside_wage0"].copy()
    nlw, rlw = initial_nlw(c, v).copy(), v["policy.rlw0"].copy()
    fiscal_year = 0
    u_mean = v["macro.u_mean"]
    u = logistic(logit(u_mean) + z)
    care_time = v["workforce.care_time"]
    oncost = v["workforce.oncost"][:, None, None]
    prod_new = v["workforce.productivity_new"][:, None, None]
    hours_per_post = (c.contract_hours * care_time[:, None] * WEEKS_PER_MONTH)[:, None, :]
    logit_tb = logit(c.turnover_base)        # [P, 2]
    logit_fill = logit(c.fill_base)          # [P]
    pay_hours = c.contract_hours * WEEKS_PER_MONTH
    out = np.empty((n, len(VARIABLES), R + 1))

    for t in range(T):
        if t >= 1:
            # 1. Macro.
            xw = v["macro.rho_w"] * xw + v["macro.sd_w"] * batch.e1[t]
            w_out = w_out * np.exp(v["macro.g_w"] / 12.0 + xw)
            z = v["macro.rho_u"] * z + v["macro.sd_u"] * batch.e2[t]
            u = logistic(logit(u_mean) + z)
            # 2. April.
            if calendar[t] == 4:
                fiscal_year += 1
                if fiscal_year < len(c.nlw_path):
                    nlw = np.full(n, c.nlw_path[fiscal_year])
                else:
                    nlw = nlw * (1.0 + v["policy.g_nlw"])
                rlw = rlw * (1.0 + v["policy.g_rlw"])
                gB = v["funding.budget_growth_mean"] + v["funding.budget_growth_sd"] * batch.eb[t]
                B = B * (1.0 + gB[:, None])
            # 3. Demand.
            pop = pop * monthly_growth
            d = v["demand.shock_rho"][:, None] * d + v["demand.shock_sd"][:, None] * batch.e3[t]
        # 4-6.
        D = demand_hours(c, v, pop, d)                                      # [n,R]
        w, s, fee, fee_avg = prices(c, v, t, nlw, rlw, w_out)                # [n,P] / [n]
        F = np.minimum(D, B / fee_avg[:, None])                             # [n,R]
        funded_p = s[:, None, :] * F[:, :, None]                            # [n,R,P]
        posts = funded_p / hours_per_post
        # 7. Flows.
        rel = np.log(w / w_out[:, None])                                    # [n,P]
        du = (u - u_mean)[:, None]
        if c.turnover_model == "wage_logit":
            x = (v["workforce.beta_w"][:, None] * rel
                 + v["workforce.beta_u"][:, None] * du)[:, :, None]
            tau = logistic(logit_tb + x)                                     # [n,P,2]
        else:
            tau = np.broadcast_to(c.turnover_base, (n, P, 2))
        q = 1.0 - (1.0 - tau) ** (1.0 / 12.0)
        fill = logistic(logit_fill + v["workforce.gamma_w"][:, None] * rel
                        + v["workforce.gamma_u"][:, None] * du)             # [n,P]
        start = new + settled
        left_new = batch.binomial(new, q[:, None, :, 0])
        left_set = batch.binomial(settled, q[:, None, :, 1])
        promoted = batch.binomial(new - left_new, 1.0 / 12.0)
        vacant = np.maximum(0.0, batch.floor(posts - (start - left_new - left_set)))
        hired = batch.binomial(vacant, fill[:, None, :])
        new = new + hired - left_new - promoted
        settled = settled + promoted - left_set
        # 8. Outputs.
        stock = new + settled
        supplied = (new * prod_new + settled) * hours_per_post
        delivered = np.minimum(supplied, funded_p)
        fee3 = fee[:, None, :]
        wage3 = w[:, None, :]
        leavers = left_new + left_set
        per_rp = {
            "supplied_hours": supplied, "delivered_hours": delivered, "headcount": stock,
            "vacancies": vacant - hired, "leavers": leavers, "hires": hired,
            "cost": delivered * fee3, "leakage": delivered * fee3 * c.leakage,
            "wage_bill": stock * pay_hours * wage3 * (1.0 + oncost),
        }
        for name, a in per_rp.items():
            out[:, IX[name], :R] = a.sum(axis=2)
        out[:, IX["demand_hours"], :R] = D
        out[:, IX["budget"], :R] = B
        out[:, IX["funding_gap"], :R] = D * fee_avg[:, None] - B
        # Total: sums over regions for counts, hours and money.
        summed = [i for name, i in IX.items()
                  if name not in ("turnover_rate", "care_wage", "outside_wage")]
        out[:, summed, R] = out[:, summed, :R].sum(axis=2)
        out[:, IX["unmet_hours"]] = out[:, IX["demand_hours"]] - out[:, IX["delivered_hours"]]
        out[:, IX["gap_hours"]] = out[:, IX["demand_hours"]] - out[:, IX["supplied_hours"]]
        # Rates and wages: weighted means, for the regions and the Total.
        start_r = np.concatenate([start.sum(axis=2), start.sum(axis=(1, 2))[:, None]], axis=1)
        weight = (stock * wage3).sum(axis=2)
        weight = np.concatenate([weight, weight.sum(axis=1)[:, None]], axis=1)
        head = out[:, IX["headcount"]]
        lv = out[:, IX["leavers"]]
        out[:, IX["turnover_rate"]] = np.where(
            start_r > 0, 12.0 * lv / np.where(start_r > 0, start_r, 1.0), 0.0)
        share_wage = (s * w).sum(axis=1)[:, None]
        out[:, IX["care_wage"]] = np.where(head > 0, weight / np.where(head > 0, head, 1.0),
                                           share_wage)
        out[:, IX["outside_wage"]] = w_out[:, None]
        moments.add_batch(k, t, out)


def calendar_months(start, months):
    y, m = start
    cal, labels = [], []
    for t in range(months):
        mm = (m - 1 + t) % 12
        cal.append(mm + 1)
        labels.append(f"{y + (m - 1 + t) // 12:04d}-{mm + 1:02d}")
    return cal, labels


def simulate(path, n=None, seed=None, batch_size=1000, selected=None, mode=None, quiet=True):
    """Runs the peer; returns a dict with mean, sd, scenarios, variables, regions, ... ."""
    run, scenarios = load_config(path, selected)
    mode = mode or run["mode"]
    expected = mode == "expected"
    n = 1 if expected else (n or run["trajectories"])
    seed = run["seed"] if seed is None else seed
    T = run["months"]
    calendar, labels = calendar_months(run["start"], T)
    base = scenarios[0]
    regions = base.regions + ["Total"]
    moments = Moments((len(scenarios), len(VARIABLES), T, len(regions)))
    rng = np.random.Generator(np.random.PCG64(seed))
    done = 0
    t0 = time.perf_counter()
    while done < n:
        size = min(batch_size, n - done)
        batch = Batch(scenarios, size, T, rng, expected)
        state0 = initial_state(batch, base)
        with np.errstate(divide="ignore", invalid="ignore"):
            for k, c in enumerate(scenarios):
                run_scenario(batch, k, c, state0, calendar, moments)
        moments.count += size
        done += size
        if not quiet:
            print(f"numpy_baseline: {done}/{n} trajectories", file=sys.stderr)
    seconds = time.perf_counter() - t0
    return {"mean": moments.mean, "sd": moments.sd(n), "scenarios": [s.name for s in scenarios],
            "variables": VARIABLES, "regions": regions, "months": labels, "trajectories": n,
            "mode": mode, "seconds": seconds, "T": T}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("-n", "--trajectories", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--scenario", nargs="+", default=None,
                    help="scenarios to run besides the base (default: all)")
    ap.add_argument("--mode", choices=["expected", "stochastic"])
    ap.add_argument("-o", "--output")
    ap.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    a = ap.parse_args(argv)
    if a.trajectories is not None and a.trajectories < 1 or a.batch < 1:
        ap.error("-n and --batch must be positive")
    try:
        r = simulate(a.file, a.trajectories, a.seed, a.batch, a.scenario, a.mode, a.quiet)
    except ConfigError as e:
        print(f"numpy_baseline: error: {e}", file=sys.stderr)
        return 2
    n, S, T, sec = r["trajectories"], len(r["scenarios"]), r["T"], r["seconds"]
    print(f"numpy_baseline: {n} trajectories x {S} scenarios x {T} months in {sec:.3f} s: "
          f"{n / sec:.1f} trajectories/s", file=sys.stderr)
    if a.output:
        np.savez(a.output, mean=r["mean"], sd=r["sd"], scenarios=np.array(r["scenarios"]),
                 variables=np.array(r["variables"]), regions=np.array(r["regions"]),
                 months=np.array(r["months"]), trajectories=np.int64(n), mode=np.array(r["mode"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
