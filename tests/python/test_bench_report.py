#!/usr/bin/env python3
"""scripts/bench_report.py on a made-up results folder: which figures the targets use.

Run by ctest as
    test_bench_report.py --carecast BIN --source REPO_ROOT --workdir DIR

The folder holds what scripts/bench leaves, with numbers chosen so that each rule of the report
gives a different answer:
  - every benchmark figure is the fastest repetition, never an aggregate (the median and mean
    entries of the JSON are faster still, and must be ignored);
  - the sampling floor that the 1-thread run is compared with is the fastest of the per-round
    floor runs (floor_<round>.json: 200 and 190 us per trajectory), not the model benchmark's
    own short repetitions (150 and 160 us);
  - each program run is the fastest of its rounds (1-thread runs of 2.28 and 2.60 s for 10^4
    trajectories, so 228 us a trajectory: 1.2 times 190 us).
Checked in the written performance.md: the end-to-end ratio row (1.20x, 228 us vs 190 us) and
its target row (1.200x, met), and the NumPy row (2-thread runs of 1.00 and 1.25 s, peer 2000
in 40 s: 10000/s against 50/s, 200x).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

MONTHS = 120
LANES = 8


def draws_entry(us_per_trajectory, run_type="iteration", aggregate=None):
    """A CareWf/baseline/draws entry of Google Benchmark JSON (items: trajectory-months)."""
    per_iteration_ns = us_per_trajectory * 1e3 * LANES
    entry = {
        "name": "CareWf/baseline/draws" + (f"_{aggregate}" if aggregate else ""),
        "run_name": "CareWf/baseline/draws",
        "run_type": run_type,
        "iterations": 100,
        "real_time": per_iteration_ns,
        "cpu_time": per_iteration_ns,
        "time_unit": "ns",
        "items_per_second": 1e9 * MONTHS * LANES / per_iteration_ns,
        "months": MONTHS,
        "binomials_per_trajectory": 13440,
        "normals_per_trajectory": 1080,
        "parameters_per_trajectory": 3,
    }
    if aggregate:
        entry["aggregate_name"] = aggregate
    return entry


def write_json(path, entries):
    with open(path, "w") as f:
        json.dump({"context": {}, "benchmarks": entries}, f)


def write_cli(results, label, seconds, threads, trajectories=10000):
    with open(os.path.join(results, f"cli_{label}.txt"), "w") as f:
        f.write(f"timing: {trajectories} trajectories x 1 scenarios x {MONTHS} months in "
                f"{seconds:.3f} s: {trajectories / seconds:.0f} trajectories/s, 1e6 "
                f"trajectory-months/s ({threads} threads, block 256)\n")
    with open(os.path.join(results, f"cli_{label}.time"), "w") as f:
        f.write("\tMaximum resident set size (kbytes): 35000\n"
                f"\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:{seconds:05.2f}\n"
                f"\tPercent of CPU this job got: {100 * threads}%\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carecast")
    ap.add_argument("--source", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    results = os.path.join(a.workdir, "bench_results")
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    with open(os.path.join(results, "machine.txt"), "w") as f:
        f.write("date=2026-12-03 12:00 UTC\nmodel_name=Test CPU\ncpus=2\ncommit=abc1234\n"
                "dirty=0\nload_start=0.1 0.1 0.1\nload_end=0.2 0.2 0.2\nelapsed_seconds=1\n")
    write_json(os.path.join(results, "model_bench.json"),
               [draws_entry(150), draws_entry(160),
                draws_entry(100, "aggregate", "median")])
    write_json(os.path.join(results, "floor_a.json"), [draws_entry(200)])
    write_json(os.path.join(results, "floor_b.json"),
               [draws_entry(190), draws_entry(120, "aggregate", "mean")])
    write_cli(results, "small_t1_a", 2.28, 1)
    write_cli(results, "small_t1_b", 2.60, 1)
    write_cli(results, "small_t2_a", 1.25, 2)
    write_cli(results, "small_t2_b", 1.00, 2)
    write_cli(results, "large_t2", 100.0, 2, trajectories=1000000)
    with open(os.path.join(results, "numpy_a.txt"), "w") as f:
        f.write("numpy_baseline: 2000 trajectories x 1 scenarios x 120 months in 40.000 s: "
                "50.0 trajectories/s\n")

    out = os.path.join(a.workdir, "performance.md")
    script = os.path.join(a.source, "scripts", "bench_report.py")
    run = subprocess.run([sys.executable, script, results, "--out", out],
                         capture_output=True, text=True)
    failures = []
    if run.returncode != 0:
        print(run.stdout, run.stderr, sep="\n")
        print(f"FAIL: bench_report.py exited {run.returncode}")
        return 1
    with open(out) as f:
        text = f.read()
    lines = text.splitlines()

    def row(start):
        return next((line for line in lines if line.startswith(start)), "")

    e2e = row("| end-to-end time per trajectory")
    if "1.20× (228 µs vs 190 µs)" not in e2e:
        failures.append(f"end-to-end ratio row: {e2e!r} (expected 1.20× (228 µs vs 190 µs))")
    target = row("| end to end <= 1.3x")
    if "1.200×" not in target or "| met |" not in target:
        failures.append(f"end-to-end target row: {target!r} (expected 1.200×, met)")
    peer = row("| engine (2 threads")
    if "200.00× (10000/s vs 50/s)" not in peer:
        failures.append(f"NumPy ratio row: {peer!r} (expected 200.00× (10000/s vs 50/s))")
    if "**190 µs** per trajectory" not in text:
        failures.append("the floor paragraph does not give the rounds' fastest floor, 190 µs")
    for failure in failures:
        print("FAIL:", failure)
    if not failures:
        print("OK: bench_report takes the fastest repetition and the rounds' floor")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
