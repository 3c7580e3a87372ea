// Writes a RunResult to an HDF5 file readable as netCDF-4 (h5py, xarray with engine="h5netcdf"),
// and reads it back.
//
// Layout:
//   /time, /region, /quantile        dimension scales: int64 days since 1970-01-01 (attributes
//                                    units = "days since 1970-01-01", calendar =
//                                    "proleptic_gregorian"); UTF-8 strings; float64
//   /parameter                       UTF-8 string dimension scale, when there are parameters
//   /trajectory                      int64 0..saved-1 dimension scale, when trajectories are saved
//   /scenarios/<scenario>/summary/<variable>_mean, <variable>_sd   float64 [time, region]
//   /scenarios/<scenario>/summary/<variable>_q                     float64 [quantile, time, region]
//   /scenarios/<scenario>/trajectories/<variable>     float32 [trajectory, time, region], chunked,
//                                                     shuffled, gzip level 1 (saved > 0 only)
//   /scenarios/<scenario>/trajectories/parameters     float64 [trajectory, parameter]
//                                                     (saved > 0 and parameters only)
//   root attributes: carecast_version, model, mode, config (strings), seed, trajectories
//   (uint64), complete (int64: 0 while writing, 1 once everything is written).
// Groups keep their members in creation order, which is how read_result recovers the order of
// scenarios and variables.
//
// Coordinates: xarray opens one group as one Dataset and never takes coordinate variables from
// parent groups, so the summary and trajectories groups each also hold their own copies of the
// axes they use (as dimension scales named like the root ones), and their datasets are attached
// to those. Thus xarray.open_dataset(path, group="scenarios/<name>/summary", engine="h5netcdf")
// has dimensions time, region and quantile with decoded datetime and string coordinates. (Hard
// links to the root scales would also work for h5netcdf but give one object several names,
// which the netCDF-4 data model forbids.)
//
// Atomicity: write_result checks `result` first (std::invalid_argument, nothing written), then
// writes "<path>.tmp-<pid>" in the same directory, sets `complete` to 1 as its last write, closes
// the file and renames it onto `path` (replacing any file there). On any failure it removes the
// temporary file and rethrows. So `path` never holds a partly written result: it holds either
// the previous file or the complete new one. (The file is not fsync'ed: a machine crash right
// after the rename may still lose it.)
//
// Errors: HDF5 failures are h5::Error (engine/hdf5_file.h), naming the operation, object and
// file; a failed rename is std::filesystem::filesystem_error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/run_result.h"

namespace carecast::engine {

// Writes `result` to `path` as described above. `result` must be consistent: non-empty
// scenarios, variables, regions, months and quantiles; unique scenario and variable names
// without '/'; no variable named time, region, trajectory, parameter or parameters; mean, sd,
// quantile (and, when saved_trajectories > 0, trajectory and parameter_values) sized as
// documented in run_result.h; trajectory and parameter_values empty when saved_trajectories is 0.
void write_result(const std::filesystem::path& path, const RunResult& result);

// The influence of each uncertain parameter on one variable in one model year (carecast
// attribute), stored in an existing result file as
//   /scenarios/<scenario>/attribution/<variable>_year<year>/prcc, prcc_low, prcc_high
// (float64 [parameter], with a local parameter axis) and group attributes variable, year, region,
// method, bootstrap, interval. An existing group of that name is replaced.
struct Attribution {
  std::string scenario;
  std::string variable;
  std::string region;
  int year = 1;  // model year: months 12 (year - 1) .. 12 year - 1
  int bootstrap = 0;
  double interval = 0.9;
  std::vector<std::string> parameters;
  std::vector<double> prcc, low, high;
};
void write_attribution(const std::filesystem::path& path, const Attribution& attribution);

// Reads back everything write_result wrote. Throws h5::Error naming the file when it cannot be
// read, is not a carecast result, is incomplete (attribute complete != 1), or has datasets of
// the wrong shape.
RunResult read_result(const std::filesystem::path& path);

}  // namespace carecast::engine
