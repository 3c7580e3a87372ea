#!/usr/bin/env python3
"""Checks that a carecast result file has the documented layout (MODEL.md, "Output (HDF5)").

Runs `carecast run SOURCE/tests/data/tiny.toml -o WORKDIR/tiny.h5 -n 50 --seed 3`, then checks
the file with h5py and with xarray (engine="h5netcdf"): the root attributes and dimension scales,
the summary datasets of every scenario, the dimensions and decoded coordinates xarray sees, and
properties every sane result has (finite values, sd >= 0, quantiles nondecreasing along the
quantile axis, ...). `--file PATH` checks an existing file instead of running carecast.

Prints one line per check and finally "test_hdf5_layout: N passed, M failed"; exits 1 if any
check failed.
"""

import os
import subprocess
import sys
import tomllib

import h5py
import numpy as np
import xarray as xr

from carecast_test_support import CheckFailed, Checks, parse_args, require

SEED = 3
TRAJECTORIES = 50
# Relative slack for comparisons between summaries computed in floating point.
TOLERANCE = 1e-9


def text(value):
    """An h5py string attribute or element, as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def slack(values):
    return TOLERANCE * (1.0 + np.abs(values))


class Result:
    """What the checks share: the open file, its parsed configuration and its variables."""

    def __init__(self, path, ran_carecast):
        self.path = path
        self.ran_carecast = ran_carecast
        self.h5 = h5py.File(path, "r")
        self._config = None

    def config(self):
        if self._config is None:
            self._config = tomllib.loads(text(self.h5.attrs["config"]))
        return self._config

    def scenarios(self):
        return list(self.h5["scenarios"].keys())

    def variables(self, scenario):
        summary = self.h5[f"scenarios/{scenario}/summary"]
        return sorted(name[: -len("_mean")] for name in summary if name.endswith("_mean"))

    def summary(self, scenario):
        return xr.open_dataset(self.path, group=f"scenarios/{scenario}/summary", engine="h5netcdf")

    def first_month(self):
        return np.datetime64(self.config()["run"]["start"] + "-01", "ns")


# ---- checks on the HDF5 structure (h5py) --------------------------------------------------------


def check_root_attributes(r):
    attrs = r.h5.attrs
    for name in ["carecast_version", "model", "mode", "seed", "trajectories", "config", "complete"]:
        require(name in attrs, f"root attribute '{name}' missing")
    require(int(attrs["complete"]) == 1, f"complete = {attrs['complete']}, expected 1")
    for name in ["carecast_version", "model", "mode", "config"]:
        value = text(attrs[name])
        require(isinstance(value, str) and value.strip(),
                f"'{name}' is not non-empty text: {value!r}")
    require(text(attrs["mode"]) in ("expected", "stochastic"), f"mode = {text(attrs['mode'])!r}")
    for name in ["seed", "trajectories"]:
        require(np.issubdtype(np.asarray(attrs[name]).dtype, np.integer),
                f"'{name}' is not an integer")
    require(int(attrs["trajectories"]) >= 1, f"trajectories = {attrs['trajectories']}")


def check_config(r):
    config = r.config()  # raises if the text is not TOML
    require("run" in config and "start" in config["run"], "config has no run.start")
    if "seed" in config["run"]:
        require(int(r.h5.attrs["seed"]) == config["run"]["seed"],
                f"seed = {r.h5.attrs['seed']}, config's run.seed = {config['run']['seed']}")


def check_run_arguments(r):
    attrs = r.h5.attrs
    require(int(attrs["seed"]) == SEED, f"seed = {attrs['seed']}, expected {SEED} (--seed)")
    if text(attrs["mode"]) == "stochastic":
        require(int(attrs["trajectories"]) == TRAJECTORIES,
                f"trajectories = {attrs['trajectories']}, expected {TRAJECTORIES} (-n)")


def check_root_scales(r):
    for name in ["time", "region", "quantile"]:
        require(name in r.h5, f"root dataset '{name}' missing")
        scale = r.h5[name]
        require(text(scale.attrs.get("CLASS", b"")) == "DIMENSION_SCALE",
                f"'{name}' is not a dimension scale")
        require(scale.ndim == 1 and scale.shape[0] >= 1, f"'{name}' has shape {scale.shape}")
    time = r.h5["time"]
    require(time.dtype == np.int64, f"time has dtype {time.dtype}, expected int64")
    require(text(time.attrs.get("units", "")) == "days since 1970-01-01",
            f"time units = {time.attrs.get('units')!r}")
    regions = [text(v) for v in r.h5["region"][()]]
    require(regions[-1] == "Total", f"last region is {regions[-1]!r}, expected 'Total'")
    require(len(set(regions)) == len(regions), f"duplicate regions: {regions}")
    quantiles = r.h5["quantile"][()]
    require(r.h5["quantile"].dtype == np.float64, "quantile is not float64")
    require(np.all((quantiles > 0) & (quantiles < 1)) and np.all(np.diff(quantiles) > 0),
            f"quantiles {quantiles} are not increasing probabilities in (0, 1)")


def check_scenarios(r):
    scenarios = r.scenarios()
    require("baseline" in scenarios, f"no scenario 'baseline' (scenarios: {scenarios})")
    configured = [s["name"] for s in r.config().get("scenario", [])]
    require(set(scenarios) == {"baseline", *configured},
            f"scenarios {scenarios}, config names baseline + {configured}")
    saved = "trajectory" in r.h5
    for scenario in scenarios:
        group = r.h5[f"scenarios/{scenario}"]
        require("summary" in group, f"{group.name}/summary missing")
        require(("trajectories" in group) == saved,
                f"{group.name}/trajectories {'missing' if saved else 'present'}, "
                f"root scale 'trajectory' {'present' if saved else 'missing'}")


def check_summary_layout(r):
    months, regions, quantiles = (r.h5[n].shape[0] for n in ("time", "region", "quantile"))
    baseline_variables = r.variables("baseline")
    require(baseline_variables, "scenarios/baseline/summary has no <variable>_mean")
    for scenario in r.scenarios():
        summary = r.h5[f"scenarios/{scenario}/summary"]
        require(r.variables(scenario) == baseline_variables,
                f"{scenario}: variables differ from baseline's")
        for variable in baseline_variables:
            for suffix, shape in [("_mean", (months, regions)), ("_sd", (months, regions)),
                                  ("_q", (quantiles, months, regions))]:
                name = variable + suffix
                require(name in summary, f"{summary.name}/{name} missing")
                require(summary[name].shape == shape and summary[name].dtype == np.float64,
                        f"{summary.name}/{name}: {summary[name].dtype} {summary[name].shape}, "
                        f"expected float64 {shape}")


def check_trajectories(r):
    months, regions = r.h5["time"].shape[0], r.h5["region"].shape[0]
    saved = r.h5["trajectory"].shape[0]
    require(1 <= saved <= int(r.h5.attrs["trajectories"]), f"{saved} saved trajectories")
    for scenario in r.scenarios():
        group = r.h5[f"scenarios/{scenario}/trajectories"]
        for variable in r.variables(scenario):
            data = group[variable]
            require(data.dtype == np.float32 and data.shape == (saved, months, regions),
                    f"{data.name}: {data.dtype} {data.shape}")
            require(data.chunks is not None and data.compression == "gzip",
                    f"{data.name} is not chunked and gzip-compressed")
        if "parameters" in group:
            require(group["parameters"].shape == (saved, r.h5["parameter"].shape[0]),
                    f"{group.name}/parameters has shape {group['parameters'].shape}")
        dims = dict(xr.open_dataset(r.path, group=group.name, engine="h5netcdf").dims)
        require({"trajectory", "time", "region"} <= set(dims),
                f"xarray sees {group.name} dims {dims}")


# ---- what xarray sees ---------------------------------------------------------------------------


def check_xarray_dims(r):
    with r.summary("baseline") as ds:
        require(set(ds.dims) == {"time", "region", "quantile"}, f"dims {dict(ds.dims)}")


def check_xarray_time(r):
    with r.summary("baseline") as ds:
        time = ds["time"].values
        require(np.issubdtype(time.dtype, np.datetime64), f"time decodes to {time.dtype}")
        require(time[0] == r.first_month(),
                f"first time {time[0]}, expected {r.first_month()} (run.start)")
        months = time.astype("datetime64[M]")
        require(np.all(months.astype(time.dtype) == time), "times are not the 1st of a month")
        require(np.all(np.diff(months).astype(int) == 1), "times are not consecutive months")
        expected = r.config()["run"].get("months", len(time))
        require(len(time) == expected, f"{len(time)} months, config says {expected}")


def check_xarray_region(r):
    with r.summary("baseline") as ds:
        regions = list(ds["region"].values)
        require(all(isinstance(v, str) for v in regions), f"region values {regions!r}")
        require(regions[-1] == "Total", f"regions {regions} do not end with 'Total'")
        configured = r.config().get("regions", {}).get("names")
        if configured is not None:
            require(regions == configured + ["Total"], f"regions {regions}, config {configured}")


def check_xarray_variables(r):
    for scenario in r.scenarios():
        with r.summary(scenario) as ds:
            require(set(ds.dims) == {"time", "region", "quantile"},
                    f"{scenario}: dims {dict(ds.dims)}")
            for variable in r.variables(scenario):
                for name, dims in [(variable + "_mean", ("time", "region")),
                                   (variable + "_sd", ("time", "region")),
                                   (variable + "_q", ("quantile", "time", "region"))]:
                    require(ds[name].dims == dims, f"{scenario}/{name} has dims {ds[name].dims}")


# ---- values every sane result has ---------------------------------------------------------------


def summaries(r):
    """(scenario, variable, mean, sd, q) for every summary, as numpy arrays."""
    for scenario in r.scenarios():
        summary = r.h5[f"scenarios/{scenario}/summary"]
        for variable in r.variables(scenario):
            yield (f"{scenario}/{variable}", summary[variable + "_mean"][()],
                   summary[variable + "_sd"][()], summary[variable + "_q"][()])


def check_finite_and_sd(r):
    for name, mean, sd, q in summaries(r):
        for part, values in [("mean", mean), ("sd", sd), ("q", q)]:
            require(np.all(np.isfinite(values)), f"{name}: non-finite {part}")
        require(np.all(sd >= 0), f"{name}: negative sd (min {sd.min()})")


def check_quantiles_nondecreasing(r):
    for name, _, _, q in summaries(r):
        step = np.diff(q, axis=0)
        require(np.all(step >= -slack(q[:-1])),
                f"{name}: quantiles decrease along the quantile axis (by up to {-step.min()})")


SKETCH_RELATIVE_ACCURACY = 0.005  # engine/quantile_sketch.h, kRelativeAccuracy


def check_quantiles_agree_with_mean_and_sd(r):
    # Any median lies within one standard deviation of the mean; the stored median is the
    # sketch's estimate, within its documented relative accuracy (0.5%) of the exact one. With no
    # spread at all, every quantile equals the mean.
    levels = list(r.h5["quantile"][()])
    median = levels.index(0.5) if 0.5 in levels else None
    for name, mean, sd, q in summaries(r):
        if median is not None:
            sketch_error = SKETCH_RELATIVE_ACCURACY * np.abs(q[median])
            require(np.all(np.abs(mean - q[median]) <= sd + sketch_error + slack(mean)),
                    f"{name}: median further than one sd from the mean")
        flat = sd == 0
        require(np.all(np.abs(q[:, flat] - mean[flat]) <= slack(mean[flat])),
                f"{name}: quantiles differ from the mean where sd == 0")


# ---- driver -------------------------------------------------------------------------------------


def run_carecast(args):
    os.makedirs(args.workdir, exist_ok=True)
    path = os.path.join(args.workdir, "tiny.h5")
    if os.path.exists(path):
        os.remove(path)
    command = [args.carecast, "run", os.path.join(args.source, "tests", "data", "tiny.toml"),
               "-o", path, "-n", str(TRAJECTORIES), "--seed", str(SEED)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(command)} exited with {done.returncode}:\n"
                          f"{done.stdout}{done.stderr}")
    return path


def main():
    args = parse_args("test_hdf5_layout", required=True, file_option=True, description=__doc__.splitlines()[0])
    c = Checks("test_hdf5_layout")

    path = args.file
    if path is None:
        def produce():
            nonlocal path
            path = run_carecast(args)
        c.attempt("carecast run tiny.toml", produce)

    result = None
    if path is not None:
        def open_file():
            nonlocal result
            result = Result(path, ran_carecast=args.file is None)
        c.attempt(f"open {path} with h5py", open_file)

    if result is not None:
        checks = [
            ("root attributes", check_root_attributes),
            ("config is TOML with run.start", check_config),
            ("root dimension scales time, region, quantile", check_root_scales),
            ("scenarios", check_scenarios),
            ("summary datasets and shapes", check_summary_layout),
            ("xarray: summary dims are time, region, quantile", check_xarray_dims),
            ("xarray: time decodes to the 1st of each month from run.start", check_xarray_time),
            ("xarray: region coordinate ends with Total", check_xarray_region),
            ("xarray: variable dims in every scenario", check_xarray_variables),
            ("summaries finite, sd >= 0", check_finite_and_sd),
            ("quantiles nondecreasing along the quantile axis", check_quantiles_nondecreasing),
            ("quantiles consistent with mean and sd", check_quantiles_agree_with_mean_and_sd),
        ]
        if result.ran_carecast:
            checks.append(("seed and trajectories from the command line", check_run_arguments))
        if "trajectory" in result.h5:
            checks.append(("saved trajectories", check_trajectories))
        for name, check in checks:
            c.attempt(name, lambda check=check: check(result))
        result.h5.close()

    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
