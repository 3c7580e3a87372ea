#!/usr/bin/python3
"""The NumPy peer (scripts/numpy_baseline.py) against the golden values and against carecast.

Run by ctest as
    test_numpy_peer.py --carecast BIN --source REPO_ROOT --workdir DIR

(a) The peer in expected mode on ../shared/golden/small.toml reproduces every value of
    small_expected.csv to 1e-9 relative (1e-6 absolute near 0).
(b) carecast and the peer, each with 2000 trajectories and its own seed, on tests/data/tiny.toml:
    for every scenario, the Total region, the variables below and months 0, 6, 12, 23, the means
    agree by a two-sample z-test, z = (m1 - m2) / sqrt(sd1^2/n1 + sd2^2/n2), with a Bonferroni
    threshold that keeps the family-wise false-alarm rate at 1e-3 over the K comparisons:
    |z| < Phi^-1(1 - 0.0005 / K). The comparisons across months are correlated; Bonferroni is
    still valid (conservative). A cell where neither run varies must agree to 1e-9 relative.
Takes about 2 s on a quiet machine (carecast 0.5 s, the peer 0.7 s for 2000 x 3 scenarios x 24
months), well inside the 60 s budget, so N stays at 2000.
"""

import csv
import math
import os
import subprocess
import sys
import time
from statistics import NormalDist

import h5py
import numpy as np

from carecast_test_support import Checks, fresh_workdir, parse_args

N = 2000
ENGINE_SEED = 5
PEER_SEED = 20261124          # another seed: the two runs are independent samples
VARIABLES = ["unmet_hours", "headcount", "vacancies", "leavers", "hires", "cost", "funding_gap"]
MONTHS = [0, 6, 12, 23]
FAMILY_ALPHA = 1e-3
REL_TOL, ABS_TOL = 1e-9, 1e-6


def close(got, ref, rel=REL_TOL, abs_tol=ABS_TOL):
    return abs(got - ref) <= max(rel * abs(ref), abs_tol)


def run(cmd, c, what):
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    c.check(f"{what} exits 0", r.returncode == 0, f"rc {r.returncode}: {r.stderr.strip()}")
    print(f"{what}: {time.perf_counter() - start:.2f} s", file=sys.stderr)
    return r


def carecast_binary(path):
    # Others may be rebuilding carecast while the test runs: wait a little for it to reappear.
    for _ in range(60):
        if os.path.exists(path) and os.access(path, os.X_OK):
            return path
        time.sleep(1)
    return path


def golden_check(peer, source, workdir, c):
    golden = os.path.normpath(os.path.join(source, os.pardir, "shared", "golden"))
    toml, expected = os.path.join(golden, "small.toml"), os.path.join(golden, "small_expected.csv")
    out = os.path.join(workdir, "peer_expected.npz")
    r = run([sys.executable, peer, toml, "--mode", "expected", "--quiet", "-o", out], c,
            "peer, expected mode, golden small.toml")
    if r.returncode != 0:
        return
    res = np.load(out)
    c.check("expected mode runs one trajectory", int(res["trajectories"]) == 1)
    scen = {s: i for i, s in enumerate(res["scenarios"].tolist())}
    var = {v: i for i, v in enumerate(res["variables"].tolist())}
    month = {m: i for i, m in enumerate(res["months"].tolist())}
    reg = {x: i for i, x in enumerate(res["regions"].tolist())}
    mean = res["mean"]
    with open(expected, newline="") as f:   # CRLF line endings: csv handles them
        rows = list(csv.DictReader(f))
    columns = [k for k in rows[0] if k not in ("scenario", "month", "region")]
    c.check("the CSV has the 17 variables", sorted(columns) == sorted(var), str(columns))
    c.check(f"one CSV row per scenario, month and region ({len(rows)} rows)",
            len(rows) == len(scen) * len(month) * len(reg))
    bad = 0
    for row in rows:
        for v in columns:
            ref = float(row[v])
            try:
                got = mean[scen[row["scenario"]], var[v], month[row["month"]], reg[row["region"]]]
            except KeyError as e:
                bad += 1
                print(f"FAIL: golden {row['scenario']} {row['month']} {row['region']} {v}: "
                      f"peer has no {e}", file=sys.stderr)
                continue
            if not close(got, ref):
                bad += 1
                if bad <= 20:
                    print(f"FAIL: golden {row['scenario']} {row['month']} {row['region']} {v}: "
                          f"peer {got!r} vs {ref!r}", file=sys.stderr)
    n = len(rows) * len(columns)
    c.check(f"golden: every one of the {n} values agrees to 1e-9 relative", bad == 0,
            f"{bad} of {n} values differ by more than 1e-9 relative")
    print(f"golden: {n - bad} of {n} values agree", file=sys.stderr)


def z_tests(carecast, peer, source, workdir, c):
    tiny = os.path.join(source, "tests", "data", "tiny.toml")
    engine_out = os.path.join(workdir, "engine.h5")
    peer_out = os.path.join(workdir, "peer.npz")
    r1 = run([carecast_binary(carecast), "run", tiny, "-n", str(N), "--seed", str(ENGINE_SEED),
              "-q", "-o", engine_out], c, f"carecast run tiny.toml -n {N}")
    r2 = run([sys.executable, peer, tiny, "-n", str(N), "--seed", str(PEER_SEED), "--quiet",
              "-o", peer_out], c, f"peer tiny.toml -n {N}")
    if r1.returncode != 0 or r2.returncode != 0:
        return
    p = np.load(peer_out)
    p_scen = p["scenarios"].tolist()
    p_var = {v: i for i, v in enumerate(p["variables"].tolist())}
    c.check("the peer's last region is Total", p["regions"].tolist()[-1] == "Total")
    n2 = int(p["trajectories"])
    with h5py.File(engine_out, "r") as f:
        n1 = int(f.attrs["trajectories"])
        regions = [x.decode() if isinstance(x, bytes) else str(x) for x in f["region"][:]]
        c.check("the engine's last region is Total", regions[-1] == "Total", str(regions))
        e_scen = sorted(f["scenarios"].keys())
        c.check(f"same scenarios: engine {e_scen}, peer {p_scen}", sorted(p_scen) == e_scen)
        scenarios = [s for s in p_scen if s in e_scen]
        months = [m for m in MONTHS if m < f["time"].shape[0]]
        c.check(f"tiny.toml has the months {MONTHS}", months == MONTHS)
        K = len(scenarios) * len(VARIABLES) * len(months)
        threshold = NormalDist().inv_cdf(1.0 - FAMILY_ALPHA / 2.0 / K)
        print(f"z-tests: K = {K} comparisons, Bonferroni threshold |z| < {threshold:.3f} "
              f"(family-wise alpha {FAMILY_ALPHA}), n1 = {n1}, n2 = {n2}", file=sys.stderr)
        worst = (0.0, None)
        for s in scenarios:
            g = f[f"scenarios/{s}/summary"]
            k = p_scen.index(s)
            for v in VARIABLES:
                em, esd = g[f"{v}_mean"][:, -1], g[f"{v}_sd"][:, -1]
                for t in months:
                    m1, s1 = float(em[t]), float(esd[t])
                    m2, s2 = float(p["mean"][k, p_var[v], t, -1]), float(p["sd"][k, p_var[v], t, -1])
                    what = f"{s} {v} Total month {t}: engine {m1:.6g} (sd {s1:.4g}), peer " \
                           f"{m2:.6g} (sd {s2:.4g})"
                    # Neither run varies (sd 0 up to rounding): the means must agree exactly.
                    if max(s1, s2) <= 1e-12 * max(1.0, abs(m1), abs(m2)):
                        c.check(what, close(m2, m1, REL_TOL, 0.0), "deterministic cell differs")
                        continue
                    z = (m1 - m2) / math.sqrt(s1 * s1 / n1 + s2 * s2 / n2)
                    if abs(z) > worst[0]:
                        worst = (abs(z), what)
                    c.check(what, abs(z) < threshold, f"|z| = {abs(z):.3f} >= {threshold:.3f}")
        print(f"z-tests: max |z| = {worst[0]:.3f} ({worst[1]})", file=sys.stderr)


def main():
    args = parse_args("test_numpy_peer", required=True)
    fresh_workdir(args.workdir)
    peer = os.path.join(args.source, "scripts", "numpy_baseline.py")
    c = Checks("test_numpy_peer")
    golden_check(peer, args.source, args.workdir, c)
    z_tests(args.carecast, peer, args.source, args.workdir, c)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
