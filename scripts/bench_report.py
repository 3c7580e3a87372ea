#!/usr/bin/python3
"""Write docs/performance.md from the raw results of one scripts/bench run.

    /usr/bin/python3 scripts/bench_report.py RESULTS_DIR [--out FILE] [--command TEXT]
        [--small N] [--large N] [--numpy N] [--min-time S] [--repetitions K]

RESULTS_DIR holds what scripts/bench leaves there: machine.txt, <name>_bench.json (Google
Benchmark JSON, every repetition), floor_<round>.json (the sampling floor benchmark again, once
in each round of the carecast runs), numpy.txt and numpy.time (the NumPy
peer's timing line and its /usr/bin/time -v report), cli_<label>.txt and cli_<label>.time
(carecast run's stderr and /usr/bin/time -v report) for labels small_t1, small_t2, large_t2.
Every ratio is computed from figures of that one run.
"""

import argparse
import json
import os
import re
import sys

TARGET_BINOMIAL_SPEEDUP = 3.0


def read_key_values(path):
    out = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                key, value = line.rstrip("\n").split("=", 1)
                out[key] = value
    return out


def to_ns(value, unit):
    return value * {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]


def load_benchmarks(path, runs=None):
    """name -> dict(ips, real_ns, cpu_ns, counters) of the fastest repetition (the one with the
    most items per second; else the shortest real time), added to `runs` (a name already there
    keeps the faster of the two). On a shared machine other work only ever adds time, so the
    fastest repetition is the one least disturbed."""
    runs = {} if runs is None else runs
    if not os.path.exists(path):
        return runs
    with open(path) as f:
        data = json.load(f)

    def speed(run):
        return (run["ips"] or 0.0, -run["real_ns"])

    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate" or b.get("error_occurred"):
            continue
        skip = {"name", "run_name", "run_type", "aggregate_name", "aggregate_unit", "repetitions",
                "repetition_index", "threads", "iterations", "real_time", "cpu_time",
                "time_unit", "family_index", "per_family_instance_index", "items_per_second",
                "bytes_per_second", "label", "error_occurred", "error_message"}
        run = {
            "ips": b.get("items_per_second"),
            "real_ns": to_ns(b["real_time"], b["time_unit"]),
            "cpu_ns": to_ns(b["cpu_time"], b["time_unit"]),
            "counters": {k: v for k, v in b.items() if k not in skip},
        }
        if name not in runs or speed(run) > speed(runs[name]):
            runs[name] = run
    return runs


def read_time_v(path):
    """Max RSS (bytes), wall seconds and CPU share (1.0 = one core busy all the time) from a
    /usr/bin/time -v report."""
    out = {"rss": None, "wall": None, "cpu": None}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Maximum resident set size (kbytes):"):
                out["rss"] = int(line.rsplit(":", 1)[1]) * 1024
            elif line.startswith("Elapsed (wall clock) time"):
                parts = line.rsplit(" ", 1)[1].split(":")
                out["wall"] = sum(float(x) * 60 ** i for i, x in enumerate(reversed(parts)))
            elif line.startswith("Percent of CPU this job got:"):
                out["cpu"] = float(line.rsplit(":", 1)[1].strip().rstrip("%")) / 100
    return out


def read_cli(results, label):
    """carecast run's timing line: trajectories, seconds (simulation and summaries, not the
    HDF5 write), threads; plus max RSS and the process's wall time."""
    path = os.path.join(results, f"cli_{label}.txt")
    out = {"label": label}
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        m = re.search(r"timing: (\d+) trajectories x (\d+) scenarios x (\d+) months in "
                      r"([\d.]+) s: .*\((\d+) threads", text)
        if m:
            out.update(trajectories=int(m.group(1)), scenarios=int(m.group(2)),
                       months=int(m.group(3)), seconds=float(m.group(4)),
                       threads=int(m.group(5)))
    out.update(read_time_v(os.path.join(results, f"cli_{label}.time")))
    return out


def read_numpy(results, label):
    out = {"label": label}
    path = os.path.join(results, f"numpy_{label}.txt")
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        m = re.search(r"numpy_baseline: (\d+) trajectories x (\d+) scenarios x (\d+) months in "
                      r"([\d.]+) s", text)
        if m:
            out.update(trajectories=int(m.group(1)), scenarios=int(m.group(2)),
                       months=int(m.group(3)), seconds=float(m.group(4)))
    out.update(read_time_v(os.path.join(results, f"numpy_{label}.time")))
    return out


def fastest(runs):
    """The run with the shortest time among those that have one (else the first)."""
    timed = [r for r in runs if "seconds" in r]
    return min(timed, key=lambda r: r["seconds"]) if timed else runs[0]


# ---- formatting ----

def fmt_rate(x):
    if x is None:
        return "n/a"
    for scale, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if x >= scale:
            return f"{x / scale:.3g}{suffix}/s"
    return f"{x:.3g} /s"


def fmt_time(ns):
    if ns is None:
        return "n/a"
    for scale, suffix in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            return f"{ns / scale:.3g} {suffix}"
    return f"{ns:.3g} ns"


def fmt_bytes(b):
    return "n/a" if b is None else f"{b / 2**20:.0f} MiB"


def fmt_ratio(x):
    return "n/a" if x is None else f"{x:.2f}×"


def ns_per_item(run):
    return None if not run or not run.get("ips") else 1e9 / run["ips"]


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


class Doc:
    def __init__(self):
        self.lines = []

    def add(self, text=""):
        self.lines.append(text)

    def table(self, header, rows, numeric=True):
        self.add("| " + " | ".join(header) + " |")
        self.add("|" + "|".join("---" if i == 0 or not numeric else "---:"
                                for i in range(len(header))) + "|")
        for row in rows:
            self.add("| " + " | ".join(str(c) for c in row) + " |")
        self.add()

    def text(self):
        return "\n".join(self.lines).rstrip() + "\n"


def status(value, ok):
    return "n/a" if value is None else ("met" if ok(value) else "NOT met")


def fmt_ratio3(x):
    """A ratio to three decimals: judged against a threshold, it must not round onto it."""
    return "n/a" if x is None else f"{x:.3f}×"


def target_rows(binomial, floor_ratio, peer_ratio, scaling, small_rss, big, a):
    """One row per target of the performance issue, each judged on this run's figures."""
    memory = ratio(big.get("rss"), small_rss)
    seconds = big.get("seconds")
    full = big.get("trajectories") == 10**6
    million = None if seconds is None else seconds * 10**6 / big["trajectories"]
    return [
        ["binomial throughput >= 3x the scalar BTRS baseline (default mix)",
         fmt_ratio(binomial), status(binomial, lambda x: x >= TARGET_BINOMIAL_SPEEDUP)],
        ["end to end <= 1.3x the engine's sampling floor", fmt_ratio3(floor_ratio),
         status(floor_ratio, lambda x: x <= 1.3)],
        [">= 20x the NumPy peer (2 threads vs 1 process)", fmt_ratio3(peer_ratio),
         status(peer_ratio, lambda x: x >= 20)],
        ["2 threads >= 1.9x 1 thread", fmt_ratio3(scaling), status(scaling, lambda x: x >= 1.9)],
        [f"peak memory flat (save_trajectories = 0): {a.large} within 10% of {a.small}, "
         "under 1 GiB",
         f"{fmt_ratio3(memory)} ({fmt_bytes(big.get('rss'))})",
         status(memory, lambda x: x <= 1.1 and (big.get("rss") or 0) < 2**30)],
        ["10^6 trajectories of the baseline in under 150 s (2 threads)",
         "n/a" if million is None else
         f"{million:.0f} s" + ("" if full else
                               f" (extrapolated from {big['trajectories']} trajectories)"),
         status(million, lambda x: x < 150)],
    ]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results")
    ap.add_argument("--out", default="docs/performance.md")
    ap.add_argument("--command", default="scripts/bench")
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--large", type=int, default=100000)
    ap.add_argument("--numpy", type=int, default=2000)
    ap.add_argument("--scale", type=int, default=100000)
    ap.add_argument("--min-time", default="0.1")
    ap.add_argument("--repetitions", type=int, default=5)
    a = ap.parse_args(argv)

    R = a.results
    machine = read_key_values(os.path.join(R, "machine.txt"))
    sampling = load_benchmarks(os.path.join(R, "sampling_bench.json"))
    model = load_benchmarks(os.path.join(R, "model_bench.json"))
    # The sampling floor again, once in each round of the carecast runs and for as long as the
    # 1-thread run: the fastest of those rounds is the floor the end-to-end run is compared with
    # (the benchmark's own short repetitions, which more easily fall between the machine's other
    # work, stay in the model table).
    rounds = {}
    for name in sorted(os.listdir(R)):
        if name.startswith("floor_") and name.endswith(".json"):
            load_benchmarks(os.path.join(R, name), rounds)
    reduction = load_benchmarks(os.path.join(R, "reduction_bench.json"))
    e2e = load_benchmarks(os.path.join(R, "end_to_end_bench.json"))
    labels = sorted(f[4:-4] for f in os.listdir(R) if f.startswith("cli_") and f.endswith(".txt"))
    cli_runs = [read_cli(R, label) for label in labels]
    peer_runs = [read_numpy(R, f[6:-4]) for f in sorted(os.listdir(R))
                 if f.startswith("numpy_") and f.endswith(".txt")]
    if not peer_runs:
        peer_runs = [{"label": "none", "rss": None, "wall": None, "cpu": None}]

    # ---- the ratios ----
    mix = {(impl, mode): sampling.get(f"BinomialMix/{impl}/{mode}")
           for impl in ("engine", "engine_shared_probability", "engine_lanes", "engine_presetup",
                        "baseline")
           for mode in ("stream_per_draw", "shared_stream")}
    # The scalar engine sampler as a one-trajectory-at-a-time model would call it (a stream per
    # draw, the p-dependent constants shared), and the lane sampler as care_wf calls it.
    engine_mix_ns = ns_per_item(mix[("engine_shared_probability", "stream_per_draw")])
    baseline_mix_ns = ns_per_item(mix[("baseline", "stream_per_draw")])
    speedup = ratio(baseline_mix_ns, engine_mix_ns)
    lanes_mix_ns = ns_per_item(mix[("engine_lanes", "stream_per_draw")])
    speedup_lanes = ratio(baseline_mix_ns, lanes_mix_ns)
    speedup_shared = ratio(ns_per_item(mix[("baseline", "shared_stream")]),
                           ns_per_item(mix[("engine", "shared_stream")]))

    draws = sampling.get("TrajectoryDraws")
    # The sampling floor: the model's own draws of 16 batches, replayed from a DrawLog.
    recorded = rounds.get("CareWf/baseline/draws") or model.get("CareWf/baseline/draws")
    counters = (recorded or draws or {}).get("counters", {})
    n_binomial = counters.get("binomials_per_trajectory", 13440)
    n_normal = counters.get("normals_per_trajectory", 0)
    n_param = counters.get("parameters_per_trajectory", 0)
    months = counters.get("months", 120)
    normal_ns = ns_per_item(sampling.get("Normal/stream_per_draw"))
    param_ns = ns_per_item(sampling.get("ParameterDraws/all"))
    # The sampling floor is CareWf/baseline/draws: every draw call the model made for baseline
    # trajectories, replayed with the same inputs at the same addresses. TrajectoryDraws (the
    # month-0 mix drawn for every month) and the sum of the parts (binomials at the lane
    # sampler's per-draw cost, normals and parameter draws at the scalar costs) are shown beside
    # it as checks.
    floor_parts_ns = None
    if lanes_mix_ns is not None:
        floor_parts_ns = (n_binomial * lanes_mix_ns + n_normal * (normal_ns or 0)
                          + n_param * (param_ns or 0))
    floor_direct_ns = ns_per_item(draws) * draws["counters"].get("months", 120) if draws else None
    floor_recorded_ns = ns_per_item(recorded) * months if recorded else None
    floor_ns = next((f for f in (floor_recorded_ns, floor_direct_ns, floor_parts_ns)
                     if f is not None), None)

    def per_trajectory_ns(run):
        if "seconds" not in run:
            return None
        return run["seconds"] * 1e9 / run["trajectories"]

    def throughput(run):
        return None if "seconds" not in run else run["trajectories"] / run["seconds"]

    t1 = fastest([r for r in cli_runs if r["label"].startswith("small_t1")] or [{}])
    t2 = fastest([r for r in cli_runs if r["label"].startswith("small_t2")] or [{}])
    big = fastest([r for r in cli_runs if r["label"].startswith("large_t2")] or [{}])
    small_t2_rss = max((r["rss"] or 0 for r in cli_runs if r["label"].startswith("small_t2")),
                       default=None)
    peer = fastest(peer_runs)
    e2e_ns = per_trajectory_ns(t1)
    model_run = model.get("CareWf/baseline/trajectory")
    model_ns = ns_per_item(model_run) * model_run["counters"].get("months", 120) \
        if model_run else None
    replay = model.get("CareWf/baseline/replay")
    replay_ns = ns_per_item(replay) * replay["counters"].get("months", 120) if replay else None
    peer_rate = None if "seconds" not in peer else peer["trajectories"] / peer["seconds"]
    e2e_bench = {1: None, 2: None}
    for name, run in e2e.items():
        if name.startswith("EndToEnd/baseline/"):
            e2e_bench[int(run["counters"].get("run_threads", 0))] = run
    e2e_n = next((r["counters"].get("trajectories", 0) for r in e2e_bench.values() if r), 0)
    e2e_block = next((r["counters"].get("block", 0) for r in e2e_bench.values() if r), 0)

    d = Doc()
    d.add("# Performance")
    d.add()
    d.add(f"Generated by `{a.command}` (scripts/bench_report.py) on a **shared 2-core machine**: "
          "other work (builds, tests) was running on it at the same time (load average at "
          "start and end below). Single-threaded benchmarks are timed in CPU time and are "
          "affected little; wall-clock figures (the carecast and NumPy runs, everything at 2 "
          "threads) suffer whenever the other work takes a core, which the CPU share column of "
          "the last table shows. Every ratio below is computed from figures of this one run. "
          "Each benchmark figure is the fastest of "
          f"{a.repetitions} repetition{'s' if a.repetitions != 1 else ''} "
          f"(`--benchmark_min_time={a.min_time}`), and each program run the fastest of its "
          "rounds: other work only ever adds time, so the fastest is the least disturbed. The "
          "sampling floor, whose ratio to the 1-thread run is a target, is timed again in every "
          "round of the carecast runs, for as long as that run takes, so that both are exposed "
          "to the other work alike; the ratio compares the fastest of each.")
    d.add()
    d.add("## Machine")
    d.add()
    d.table(["", ""], [
        ["CPU (lscpu model name)", machine.get("model_name", "?")],
        ["cores", machine.get("cpus", "?")],
        ["CPU family, model (lscpu)", machine.get("cpu_family", "?")],
        ["vector extensions (-march=native uses them)", machine.get("vector_isa", "?")],
        ["date", machine.get("date", "?")],
        ["kernel", machine.get("kernel", "?")],
        ["compiler", machine.get("compiler", "?")],
        ["build", f"{machine.get('build_type', '?')}, -march=native "
                  f"{'on' if machine.get('native', 'ON') in ('ON', 'TRUE', '1') else 'off'}"],
        ["source", f"commit {machine.get('commit', '?')}"
                   + (f" plus {machine['dirty']} uncommitted file(s)"
                      if machine.get("dirty", "0") not in ("0", "") else "")],
        ["load average (1, 5, 15 min)", f"start {machine.get('load_start', '?')}, "
                                        f"end {machine.get('load_end', '?')}"],
        ["scripts/bench wall time", f"{machine.get('elapsed_seconds', '?')} s "
                                    "(before writing this file)"],
    ], numeric=False)
    d.add("Google Benchmark prints `Library was built as DEBUG` with Debian's libbenchmark; "
          "that concerns the harness library only, the code measured is built in Release.")
    d.add()

    d.add("## Ratios")
    d.add()
    met = None if speedup_lanes is None else speedup_lanes >= TARGET_BINOMIAL_SPEEDUP
    rows = [
        ["engine binomial (lanes, as care_wf draws: 8 trajectories at once through "
         "`sample_binomial_lanes`, lanes at distinct n and p) vs scalar BTRS baseline, default "
         "model's mix, a stream per draw",
         f"{fmt_ratio(speedup_lanes)} ({fmt_time(baseline_mix_ns)} → {fmt_time(lanes_mix_ns)} "
         f"per draw; target ≥ {TARGET_BINOMIAL_SPEEDUP:g}×: "
         f"{'met' if met else 'NOT met' if met is not None else 'n/a'})"],
        ["scalar engine binomial (one trajectory at a time, p-dependent constants shared) vs "
         "the same baseline",
         f"{fmt_ratio(speedup)} ({fmt_time(engine_mix_ns)} per draw)"],
        ["same, every uniform from one stream (scalar sampler arithmetic only)",
         fmt_ratio(speedup_shared)],
        ["end-to-end time per trajectory (carecast run, 1 thread, "
         f"{a.small} trajectories) vs the engine's sampling floor",
         f"{fmt_ratio(ratio(e2e_ns, floor_ns))} ({fmt_time(e2e_ns)} vs {fmt_time(floor_ns)})"],
        [f"engine (2 threads, {a.small} trajectories) vs NumPy peer (1 process, "
         f"{peer.get('trajectories', a.numpy)} trajectories), trajectories/s",
         f"{fmt_ratio(ratio(throughput(t2), peer_rate))} ({throughput(t2) or 0:.0f}/s vs "
         f"{peer_rate or 0:.0f}/s)"],
        [f"2 threads vs 1 thread (carecast run, {a.small} trajectories)",
         f"{fmt_ratio(ratio(throughput(t2), throughput(t1)))} (the 2-thread run had "
         f"{'n/a' if t2.get('cpu') is None else format(t2['cpu'], '.2f')} cores' worth of CPU)"],
        [f"2 threads vs 1 thread (EndToEnd benchmark, {e2e_n:.0f} trajectories)",
         fmt_ratio(ratio((e2e_bench[2] or {}).get("ips"), (e2e_bench[1] or {}).get("ips")))],
        [f"peak memory (max RSS), {a.small} → {a.large} trajectories, 2 threads",
         f"{fmt_bytes(small_t2_rss)} → {fmt_bytes(big.get('rss'))} "
         f"({fmt_ratio(ratio(big.get('rss'), small_t2_rss))} for {a.large // max(a.small, 1)}× "
         "the trajectories)"],
    ]
    d.table(["ratio", "value"], rows, numeric=False)

    d.add("## Targets (issue: performance)")
    d.add()
    d.table(["target", "measured here", "status"], target_rows(
        speedup_lanes, ratio(e2e_ns, floor_ns), ratio(throughput(t2), peer_rate),
        ratio(throughput(t2), throughput(t1)), small_t2_rss, big, a), numeric=False)
    reduction_run = reduction.get("Reduction/insert/block_buffered")
    reduction_ns = ns_per_item(reduction_run)
    d.add("Where the time goes, from the figures below, per baseline trajectory on one core: "
          f"the end-to-end run takes {fmt_time(e2e_ns)}; the model with its draws "
          f"(`CareWf/baseline/trajectory`, 8 trajectories in lanes) {fmt_time(model_ns)}; "
          f"measured apart, its draws alone (the sampling floor, `CareWf/baseline/draws`) take "
          f"{fmt_time(floor_ns)} and its arithmetic alone (draws replayed from a tape, which "
          f"adds the tape's reads) {fmt_time(replay_ns)}; the runner's "
          f"per-block reduction (sketches and moments, `Reduction/insert/block_buffered`) "
          f"{fmt_time(reduction_ns)}; the rest is the runner's differences and saved trajectories, "
          "the final summaries, and what the parts cost more together than apart "
          "(they share the caches). The runner steps a block's batches a month at a time and "
          "summarises each month from a cache-sized buffer. care_wf steps 8 trajectories in "
          "lanes and "
          "draws every variate through the lane samplers (engine/lane_samplers.h: Philox for 8 "
          "streams at once, vectorised inversion and BTRS), each variate still at its own stream "
          "address, so results are bit for bit those of one trajectory at a time, whatever the "
          "threads or block size.")
    d.add()

    d.add("**The sampling floor** is what the draws of one baseline trajectory cost with the "
          "engine's samplers, nothing else, measured directly (`CareWf/baseline/draws`, "
          "bench/model_bench.cpp): 16 batches of 8 baseline trajectories are run once with every "
          "draw logged (`CareWf::simulate_logging` into an `engine::DrawLog`: each call's stream "
          "address and inputs), and the benchmark replays the logs, making the same lane sampler "
          f"calls with the same inputs: per trajectory {n_binomial:.0f} binomials (7 regions × 4 "
          f"providers × 4 flows × 120 months), {n_normal:.0f} normal shocks (2 macro + 7 "
          f"regional a month from month 1, the budget growth each April), {n_param:.0f} "
          "parameter draws, and the binomial probabilities made once a month per provider, as "
          "the model makes them. That is the same draws, bit for bit (tests/models/"
          f"care_wf_draw_log_test.cpp): **{fmt_time(floor_recorded_ns)}** per trajectory. Two "
          "checks beside it: `TrajectoryDraws` (bench/sampling_bench.cpp) draws month 0's mix "
          "at the parameters' means, lanes spread ±10%, for all 120 months: "
          f"{fmt_time(floor_direct_ns)}; the sum of the parts is {n_binomial:.0f} × "
          f"{fmt_time(lanes_mix_ns)} (lane sampler, default mix) + {n_normal:.0f} × "
          f"{fmt_time(normal_ns)} (scalar normal) + {n_param:.0f} × {fmt_time(param_ns)} = "
          f"{fmt_time(floor_parts_ns)}. The model alone (`CareWf/baseline/trajectory`, draws "
          f"included, no reductions) takes {fmt_time(model_ns)} per trajectory, "
          f"{fmt_ratio(ratio(model_ns, floor_ns))} the floor.")
    d.add()

    # ---- sampling ----
    d.add("## Sampling floor (`bench/sampling_bench.cpp`)")
    d.add()
    d.add("Philox4x32-10 (`engine/random_stream.h`):")
    d.add()
    rows = []
    for name, what in (("Philox/bits32", "32-bit words from one stream"),
                       ("Philox/uniform", "uniform doubles from one stream"),
                       ("Philox/open_stream_uniform",
                        "open a stream at a new address + one uniform (per care_wf variate)"),
                       ("Philox/lanes_first_block",
                        "first blocks of 8 streams at once (engine/philox_lanes.h), per block")):
        run = sampling.get(name)
        rows.append([f"`{name}`", fmt_rate(run and run["ips"]), fmt_time(ns_per_item(run)), what])
    d.table(["benchmark", "throughput", "per item", "what"], rows)

    any_mix = next((r for r in mix.values() if r), None)
    if any_mix:
        c = any_mix["counters"]
        d.add(f"Binomial at **the default model's mix**: the {c.get('mix_draws', 0):.0f} "
              "binomial (n, p) of one month of the default baseline (month 0, every uncertain "
              "parameter at its mean; headcount and vacancies stay within ~10% of that level "
              f"over the 120 months): n·p' from {c.get('mix_min_np', 0):.2g} to "
              f"{c.get('mix_max_np', 0):.3g}, mean {c.get('mix_mean_np', 0):.3g}; "
              f"{100 * c.get('mix_inversion_share', 0):.0f}% of the draws have n·p' < 10 "
              "(inversion in the baseline), "
              f"{100 * c.get('mix_engine_inversion_share', 0):.0f}% n·p' < "
              f"{c.get('engine_btrs_threshold', float('nan')):.0f} (inversion in "
              "the engine). `engine` calls `sample_binomial(stream, n, p)` (setup on every draw); "
              "`engine_shared_probability` calls it as care_wf does, with the p-dependent "
              "constants made once a month per distinct p; `engine_lanes` draws each (n, p) for 8 "
              "trajectories at once through `sample_binomial_lanes` (engine/lane_samplers.h), "
              "probabilities shared likewise, a stream per draw only; `engine_presetup` reuses a "
              "precomputed "
              "`BinomialSetup`; `baseline` is the scalar per-draw BTRS of "
              "`bench/btrs_baseline.h` (setup on every draw, inversion below n·p' = 10, "
              "log-factorials by `std::lgamma`), fed by the same Philox streams.")
        d.add()
        rows = []
        for impl in ("engine", "engine_shared_probability", "engine_lanes", "engine_presetup",
                     "baseline"):
            row = [f"`{impl}`"]
            for mode in ("stream_per_draw", "shared_stream"):
                run = mix[(impl, mode)]
                row += [fmt_rate(run and run["ips"]), fmt_time(ns_per_item(run))]
            rows.append(row)
        d.table(["sampler", "a stream per draw", "per draw", "one stream", "per draw"], rows)

    grid = {}
    for name, run in sampling.items():
        m = re.match(r"Binomial/(\w+)/np=([\d.e+-]+)/p=([\d.e+-]+)$", name)
        if m:
            grid[(float(m.group(2)), float(m.group(3)), m.group(1))] = run
    if grid:
        d.add("Binomial on a grid (one stream, ns per draw; n = n·p / p rounded):")
        d.add()
        rows = []
        for np_, p in sorted({(k[0], k[1]) for k in grid}):
            e, pre, base = (grid.get((np_, p, i)) for i in ("engine", "engine_presetup",
                                                            "baseline"))
            n = (e or base or pre)["counters"].get("n", 0)
            rows.append([f"{np_:g}", f"{p:.4g}", f"{n:.0f}", fmt_time(ns_per_item(e)),
                         fmt_time(ns_per_item(pre)), fmt_time(ns_per_item(base)),
                         fmt_ratio(ratio(ns_per_item(base), ns_per_item(e)))])
        d.table(["n·p", "p", "n", "engine", "engine, preset", "baseline", "baseline / engine"],
                rows)

    rows = []
    for name, run in sampling.items():
        if name.startswith(("Normal/", "ParameterDraws/")):
            rows.append([f"`{name}`", fmt_rate(run["ips"]), fmt_time(ns_per_item(run))])
    if draws:
        rows.append(["`TrajectoryDraws` (per trajectory)", fmt_rate(draws["ips"] / months),
                     fmt_time(floor_direct_ns)])
    if rows:
        d.add("Other draws (`ParameterDraws/<key>`: the default's uncertain parameters, a "
              "stream per draw as care_wf draws them; `all`: the three of one trajectory):")
        d.add()
        d.table(["benchmark", "throughput (draws/s)", "per draw"], rows)

    # ---- model ----
    d.add("## Model step (`bench/model_bench.cpp`)")
    d.add()
    rows = []
    for name, run in model.items():
        c = run["counters"]
        rows.append([f"`{name}`", f"{c.get('scenarios', 1):.0f}", fmt_rate(run["ips"]),
                     fmt_time(ns_per_item(run)),
                     fmt_time(ns_per_item(run) * c.get("months", 120) * c.get("scenarios", 1))])
    d.table(["benchmark", "scenarios", "trajectory-months/s", "one month", "one trajectory"],
            rows)
    if replay_ns is not None and model_ns:
        d.add(f"`CareWf/baseline/replay` runs the same trajectories with their "
              f"{replay['counters'].get('tape_values_per_trajectory', 0):.0f} shocks and binomial flows taken "
              "from a pre-filled buffer (`CareWf::simulate_replaying` with a `DrawTape` recorded "
              "beforehand; the three parameter draws are still sampled): the model's own "
              f"arithmetic is {fmt_time(replay_ns)} per trajectory "
              f"({fmt_time(replay_ns / months)} a month), so sampling is "
              f"{100 * (1 - replay_ns / model_ns):.0f}% of a model trajectory "
              f"({fmt_time(model_ns - replay_ns)}; the sampling floor above: "
              f"{fmt_time(floor_ns)}).")
    else:
        d.add("The same with the draws replaced by a pre-filled buffer is **not measured** "
              "(no `CareWf/baseline/replay` result).")
    d.add()

    # ---- reduction ----
    d.add("## Reduction (`bench/reduction_bench.cpp`)")
    d.add()
    cells = next((r["counters"].get("cells") for r in reduction.values() if r), None)
    block = next((r["counters"].get("block") for r in reduction.values()
                  if r and r["counters"].get("block")), 0)
    d.add(f"On real care_wf outputs (baseline: {cells or 0:.0f} cells per trajectory = 17 "
          "variables × 120 months × 8 regions), in blocks of the runner's automatic size "
          f"({block:.0f} trajectories). `insert/*`: items are trajectories; `merge/*`: items are "
          "merges of two whole block summaries.")
    d.add()
    rows = []
    for name, run in reduction.items():
        per = ns_per_item(run)
        rows.append([f"`{name}`", fmt_rate(run["ips"]), fmt_time(per),
                     fmt_time(None if per is None or not cells else per / cells)])
    d.table(["benchmark", "throughput", "per item", "per cell"], rows)

    # ---- end to end ----
    d.add("## End to end")
    d.add()
    d.add(f"`engine::run` in-process (`bench/end_to_end_bench.cpp`, baseline, {e2e_n:.0f} "
          f"trajectories in blocks of {e2e_block:.0f}, wall clock, no file written; short runs, "
          "so the fixed cost of setting up and finishing a run weighs more than in the "
          "carecast runs below):")
    d.add()
    rows = []
    for t, run in sorted(e2e_bench.items()):
        if run:
            rows.append([t, fmt_rate(run["ips"]), fmt_time(run["real_ns"]),
                         fmt_time(run["real_ns"] / e2e_n)])
    d.table(["threads", "trajectory-months/s", "run", "per trajectory"], rows)
    d.add("`carecast run data/scenarios/wm_baseline.toml --scenario baseline "
          "--save-trajectories 0 -n N --threads T` "
          "and the NumPy peer (`scripts/numpy_baseline.py ... --scenario baseline`, one process), "
          "in the order run. Time is the program's own timing line (carecast: simulation and "
          "summaries, not the HDF5 write); max RSS and the CPU share (user + system time over "
          "wall time; 2.0 = both cores busy throughout) come from `/usr/bin/time -v`. A CPU "
          "share well below the thread count means other work took the cores; the ratios above "
          "use the fastest run of each kind (marked *).")
    d.add()
    rows = []
    chosen = {id(t1), id(t2), id(big), id(peer)}
    order = [f"{kind}_{r}" for r in "abcdefghi" for kind in ("numpy", "small_t1", "small_t2")]
    everything = [("numpy_" + r["label"], r, "NumPy peer") for r in peer_runs if "seconds" in r]
    everything += [(r["label"], r, f"carecast, {r.get('threads', '?')} thread(s)")
                   for r in cli_runs if "seconds" in r]
    everything.sort(key=lambda x: order.index(x[0]) if x[0] in order else len(order))
    everything = [x for x in everything if not x[0].startswith("scale_")]
    for label, run, program in everything:
        rate = run["trajectories"] / run["seconds"]
        rows.append([program + (" *" if id(run) in chosen else ""), run["trajectories"],
                     f"{run['seconds']:.2f} s", f"{rate:.0f}",
                     fmt_rate(rate * run["months"] * run["scenarios"]),
                     "n/a" if run["cpu"] is None else f"{run['cpu']:.2f}",
                     fmt_bytes(run["rss"])])
    d.table(["program", "trajectories", "time", "trajectories/s", "trajectory-months/s",
             "CPU share", "max RSS"], rows)

    # ---- thread scaling ----
    scale_runs = sorted((r for r in cli_runs if r["label"].startswith("scale_") and "seconds" in r),
                        key=lambda r: r["threads"])
    d.add("## Thread scaling")
    d.add()
    if scale_runs:
        one = next((r for r in scale_runs if r["threads"] == 1), None)
        d.add(f"`carecast run data/scenarios/wm_baseline.toml --scenario baseline "
              f"--save-trajectories 0 -n {a.scale} "
              f"--threads T` on this machine's {machine.get('cpus', '?')} cores, in turn. Speedup "
              "is over the 1-thread run of this table, efficiency the speedup per thread; the CPU "
              "share shows whether the threads had their cores.")
        d.add()
        rows = []
        for run in scale_runs:
            speedup = ratio(one["seconds"], run["seconds"]) if one else None
            rows.append([run["threads"], f"{run['seconds']:.2f} s",
                         f"{run['trajectories'] / run['seconds']:.0f}", fmt_ratio(speedup),
                         "n/a" if speedup is None else f"{100 * speedup / run['threads']:.0f}%",
                         "n/a" if run["cpu"] is None else f"{run['cpu']:.2f}"])
        d.table(["threads", "time", "trajectories/s", "speedup", "efficiency", "CPU share"], rows)
    else:
        d.add("Not measured in this run: `scripts/bench` measures 1, 2, 4, 8, 16, ... threads on a "
              "machine of 4 cores or more (or with `--scaling`).")
        d.add()

    d.add("## Reproducing")
    d.add()
    d.add("`scripts/bench` (about 2 minutes here; `--full`, about 4, runs the large size at 10^6 "
          "trajectories; `--scaling` measures thread scaling on a machine of fewer than 4 "
          "cores, `--scale N` sets its size). Raw results (benchmark JSON, timing lines, "
          "`/usr/bin/time -v` reports) are left in `build/bench_results/`. Every benchmark also runs as a ctest "
          "smoke test (`bench_smoke_*`, `--benchmark_min_time=0.01`).")

    with open(a.out, "w") as f:
        f.write(d.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
