#include "engine/result_writer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <functional>
#include <initializer_list>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/hdf5_file.h"

namespace carecast::engine {
namespace {

constexpr std::string_view kTimeUnits = "days since 1970-01-01";
constexpr std::string_view kCalendar = "proleptic_gregorian";
constexpr std::string_view kScenariosGroup = "scenarios";
constexpr std::string_view kSummaryGroup = "summary";
constexpr std::string_view kTrajectoriesGroup = "trajectories";
constexpr std::string_view kParametersDataset = "parameters";
constexpr std::string_view kVersusPrefix = "vs_";
constexpr std::string_view kBetterSuffix = "_p_better";
constexpr std::string_view kMeanSuffix = "_mean";
constexpr std::string_view kSdSuffix = "_sd";
constexpr std::string_view kQuantileSuffix = "_q";
// Names a variable cannot have: they would collide in the trajectories group.
constexpr std::array<std::string_view, 5> kReservedVariableNames = {"time", "region", "trajectory",
                                                                    "parameter", "parameters"};
// Upper bound on the bytes of one trajectories chunk: HDF5's default chunk cache is 1 MiB.
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

// ---- validation -----------------------------------------------------------------------------

[[noreturn]] void invalid(const std::string& message) {
  throw std::invalid_argument("write_result: " + message);
}

// Names that become HDF5 link names: non-empty, no '/', not ".", unique, not reserved.
void check_names(std::string_view what, const std::vector<std::string>& names,
                 std::span<const std::string_view> reserved) {
  std::set<std::string_view> seen;
  for (const std::string& name : names) {
    if (name.empty() || name == "." || name.find('/') != std::string::npos) {
      invalid(fmt::format("invalid {} name '{}'", what, name));
    }
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
      invalid(fmt::format("{} name '{}' is reserved", what, name));
    }
    if (!seen.insert(name).second) invalid(fmt::format("duplicate {} name '{}'", what, name));
  }
}

// values[s][v] must exist for every scenario and variable and hold `count` values.
template <class Values>
void check_sizes(std::string_view what, const std::vector<std::vector<Values>>& values,
                 const RunResult& result, std::size_t count) {
  if (values.size() != result.scenarios.size()) {
    invalid(fmt::format("{} has {} scenarios, expected {}", what, values.size(),
                        result.scenarios.size()));
  }
  for (std::size_t s = 0; s < values.size(); ++s) {
    if (values[s].size() != result.variables.size()) {
      invalid(fmt::format("{}[{}] has {} variables, expected {}", what, result.scenarios[s],
                          values[s].size(), result.variables.size()));
    }
    for (std::size_t v = 0; v < values[s].size(); ++v) {
      if (values[s][v].size() != count) {
        invalid(fmt::format("{}[{}][{}] has {} values, expected {}", what, result.scenarios[s],
                            result.variables[v], values[s][v].size(), count));
      }
    }
  }
}

// units, long_names and better: empty, or one per variable.
void validate_metadata(const RunResult& result) {
  for (const auto* names : {&result.units, &result.long_names, &result.better}) {
    if (!names->empty() && names->size() != result.variables.size()) {
      invalid(fmt::format("variable metadata has {} entries, expected {}", names->size(),
                          result.variables.size()));
    }
  }
}

// The paired comparison: absent (all empty), or sized like the summaries, empty for the base.
void validate_comparison(const RunResult& result) {
  if (result.diff_mean.empty() && result.diff_sd.empty() && result.diff_quantile.empty() &&
      result.p_better.empty()) {
    return;
  }
  const auto base = std::find(result.scenarios.begin(), result.scenarios.end(),
                              result.base_scenario);
  if (base == result.scenarios.end()) {
    invalid(fmt::format("base scenario '{}' is not a scenario", result.base_scenario));
  }
  const std::size_t b = static_cast<std::size_t>(base - result.scenarios.begin());
  const std::size_t plane = result.plane();
  const std::size_t q = result.quantiles.size() * plane;
  for (const auto& [what, values, size] :
       {std::tuple{"diff_mean", &result.diff_mean, plane}, std::tuple{"diff_sd", &result.diff_sd, plane},
        std::tuple{"diff_quantile", &result.diff_quantile, q},
        std::tuple{"p_better", &result.p_better, plane}}) {
    if (values->size() != result.scenarios.size()) {
      invalid(fmt::format("{} has {} scenarios, expected {}", what, values->size(),
                          result.scenarios.size()));
    }
    for (std::size_t s = 0; s < values->size(); ++s) {
      if ((*values)[s].size() != result.variables.size()) {
        invalid(fmt::format("{}[{}] has {} variables, expected {}", what, result.scenarios[s],
                            (*values)[s].size(), result.variables.size()));
      }
      for (std::size_t v = 0; v < (*values)[s].size(); ++v) {
        const std::size_t n = (*values)[s][v].size();
        const bool may_be_empty = s == b || std::string_view(what) == "p_better";
        if (n != size && !(n == 0 && may_be_empty)) {
          invalid(fmt::format("{}[{}][{}] has {} values, expected {}", what, result.scenarios[s],
                              result.variables[v], n, size));
        }
        if (s == b && n != 0) invalid(fmt::format("{} of the base scenario must be empty", what));
      }
    }
  }
}

void validate(const RunResult& result) {
  if (result.scenarios.empty() || result.variables.empty() || result.regions.empty() ||
      result.time_days.empty() || result.quantiles.empty()) {
    invalid("scenarios, variables, regions, months and quantiles must not be empty");
  }
  check_names("scenario", result.scenarios, {});
  check_names("variable", result.variables, kReservedVariableNames);
  const std::size_t plane = result.plane();
  check_sizes("mean", result.mean, result, plane);
  check_sizes("sd", result.sd, result, plane);
  check_sizes("quantile", result.quantile, result, result.quantiles.size() * plane);
  validate_metadata(result);
  validate_comparison(result);
  const std::size_t saved = result.saved_trajectories;
  if (saved == 0) {
    if (!result.trajectory.empty() || !result.parameter_values.empty()) {
      invalid("trajectory and parameter_values must be empty when saved_trajectories is 0");
    }
    return;
  }
  check_sizes("trajectory", result.trajectory, result, saved * plane);
  if (result.parameter_values.size() != result.scenarios.size()) {
    invalid(fmt::format("parameter_values has {} scenarios, expected {}",
                        result.parameter_values.size(), result.scenarios.size()));
  }
  for (std::size_t s = 0; s < result.scenarios.size(); ++s) {
    if (result.parameter_values[s].size() != saved * result.parameters.size()) {
      invalid(fmt::format("parameter_values[{}] has {} values, expected {}", result.scenarios[s],
                          result.parameter_values[s].size(), saved * result.parameters.size()));
    }
  }
}

// ---- writing --------------------------------------------------------------------------------

// Each axis is written as a dimension scale named after the dataset holding it.
h5::Dataset write_time_axis(h5::Group& group, const RunResult& result) {
  h5::Dataset time = group.write_dataset("time", {result.months()}, result.time_days);
  time.set_attribute("units", kTimeUnits);
  time.set_attribute("calendar", kCalendar);
  time.make_scale("time");
  return time;
}

h5::Dataset write_region_axis(h5::Group& group, const RunResult& result) {
  h5::Dataset region = group.write_strings("region", result.regions);
  region.make_scale("region");
  return region;
}

h5::Dataset write_quantile_axis(h5::Group& group, const RunResult& result) {
  h5::Dataset quantile =
      group.write_dataset("quantile", {result.quantiles.size()}, result.quantiles);
  quantile.make_scale("quantile");
  return quantile;
}

h5::Dataset write_parameter_axis(h5::Group& group, const RunResult& result) {
  h5::Dataset parameter = group.write_strings("parameter", result.parameters);
  parameter.make_scale("parameter");
  return parameter;
}

h5::Dataset write_trajectory_axis(h5::Group& group, const RunResult& result) {
  std::vector<std::int64_t> index(result.saved_trajectories);
  std::iota(index.begin(), index.end(), std::int64_t{0});
  h5::Dataset trajectory = group.write_dataset("trajectory", {index.size()}, index);
  trajectory.make_scale("trajectory");
  return trajectory;
}

// Attaches scales[i] to axis i of `data`.
void attach(h5::Dataset data,
            std::initializer_list<std::reference_wrapper<const h5::Dataset>> scales) {
  unsigned axis = 0;
  for (const h5::Dataset& scale : scales) data.attach_scale(scale, axis++);
}

// units, long_name and better of variable v, where the result has them.
void write_variable_attributes(h5::Dataset& data, std::size_t v, const RunResult& result) {
  if (!result.units.empty()) data.set_attribute("units", result.units[v]);
  if (!result.long_names.empty()) data.set_attribute("long_name", result.long_names[v]);
  if (!result.better.empty()) data.set_attribute("better", result.better[v]);
}

// Mean, sd and quantiles of every variable into `group`, with its own axes. Returns the axes
// (time, region) for any further datasets.
using Statistics = std::vector<std::vector<std::vector<double>>>;
std::pair<h5::Dataset, h5::Dataset> write_statistics(h5::Group& group, std::size_t s,
                                                     const RunResult& result, const Statistics& mean,
                                                     const Statistics& sd,
                                                     const Statistics& quantiles) {
  h5::Dataset time = write_time_axis(group, result);
  h5::Dataset region = write_region_axis(group, result);
  const h5::Dataset quantile = write_quantile_axis(group, result);
  const hsize_t months = result.months();
  const hsize_t regions = result.regions.size();
  for (std::size_t v = 0; v < result.variables.size(); ++v) {
    const std::string& name = result.variables[v];
    h5::Dataset m = group.write_dataset(fmt::format("{}{}", name, kMeanSuffix), {months, regions},
                                        mean[s][v]);
    write_variable_attributes(m, v, result);
    attach(std::move(m), {time, region});
    attach(group.write_dataset(fmt::format("{}{}", name, kSdSuffix), {months, regions}, sd[s][v]),
           {time, region});
    attach(group.write_dataset(fmt::format("{}{}", name, kQuantileSuffix),
                               {result.quantiles.size(), months, regions}, quantiles[s][v]),
           {quantile, time, region});
  }
  return {std::move(time), std::move(region)};
}

void write_summary(h5::Group& scenario, std::size_t s, const RunResult& result) {
  h5::Group summary = scenario.require_group(kSummaryGroup);
  write_statistics(summary, s, result, result.mean, result.sd, result.quantile);
}

// The paired comparison of scenario s with the base, in "vs_<base>".
void write_comparison(h5::Group& scenario, std::size_t s, const RunResult& result) {
  h5::Group versus = scenario.require_group(fmt::format("{}{}", kVersusPrefix, result.base_scenario));
  versus.set_attribute("base", result.base_scenario);
  const auto [time, region] =
      write_statistics(versus, s, result, result.diff_mean, result.diff_sd, result.diff_quantile);
  const hsize_t months = result.months();
  const hsize_t regions = result.regions.size();
  for (std::size_t v = 0; v < result.variables.size(); ++v) {
    const std::string& name = result.variables[v];
    if (!result.p_better[s][v].empty()) {
      h5::Dataset better = versus.write_dataset(fmt::format("{}{}", name, kBetterSuffix),
                                                {months, regions}, result.p_better[s][v]);
      better.set_attribute("better", result.better[v]);
      better.set_attribute("units", std::string_view("share of trajectories"));
      attach(std::move(better), {time, region});
    }
  }
}

void write_trajectories(h5::Group& scenario, std::size_t s, const RunResult& result) {
  h5::Group trajectories = scenario.require_group(kTrajectoriesGroup);
  const h5::Dataset trajectory = write_trajectory_axis(trajectories, result);
  const h5::Dataset time = write_time_axis(trajectories, result);
  const h5::Dataset region = write_region_axis(trajectories, result);
  const hsize_t saved = result.saved_trajectories;
  const hsize_t months = result.months();
  const hsize_t regions = result.regions.size();
  // Whole trajectories per chunk, as many as fit in kChunkBytes (at least one).
  const hsize_t rows =
      std::clamp<hsize_t>(kChunkBytes / (result.plane() * sizeof(float)), 1, saved);
  // The variables' chunks are compressed side by side on oneTBB's threads, which made most of
  // the write's time, a variable per thread at a time (so that the compressed chunks waiting
  // for HDF5, which only writes them, are a few MB), then written in order.
  const std::size_t V = result.variables.size();
  const auto together = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  std::vector<std::optional<h5::FilteredChunks>> chunks(std::min(V, together));
  for (std::size_t first = 0; first < V; first += chunks.size()) {
    const std::size_t count = std::min(chunks.size(), V - first);
    tbb::parallel_for(std::size_t{0}, count, [&](std::size_t i) {
      chunks[i].emplace(result.trajectory[s][first + i],
                        std::vector<hsize_t>{saved, months, regions}, rows);
    });
    for (std::size_t i = 0; i < count; ++i) {
      attach(trajectories.write_dataset(result.variables[first + i], *chunks[i]),
             {trajectory, time, region});
      chunks[i].reset();
    }
  }
  if (!result.parameters.empty()) {
    const h5::Dataset parameter = write_parameter_axis(trajectories, result);
    attach(trajectories.write_dataset(kParametersDataset, {saved, result.parameters.size()},
                                      result.parameter_values[s]),
           {trajectory, parameter});
  }
}

void write_attributes(h5::Group& root, const RunAttributes& attributes) {
  root.set_attribute("carecast_version", attributes.carecast_version);
  root.set_attribute("model", attributes.model);
  root.set_attribute("mode", attributes.mode);
  root.set_attribute("seed", attributes.seed);
  root.set_attribute("trajectories", attributes.trajectories);
  root.set_attribute("config", attributes.config);
}

// Writes the whole file at `file_path`, `complete` = 1 last, and closes it.
void write_file(const std::filesystem::path& file_path, const RunResult& result) {
  h5::File file = h5::File::create(file_path);
  {
    h5::Group root = file.root();
    root.set_attribute("complete", std::int64_t{0});
    write_attributes(root, result.attributes);
    if (!result.diff_mean.empty()) root.set_attribute("base_scenario", result.base_scenario);
    write_time_axis(root, result);
    write_region_axis(root, result);
    write_quantile_axis(root, result);
    if (!result.parameters.empty()) write_parameter_axis(root, result);
    if (result.saved_trajectories > 0) write_trajectory_axis(root, result);
    h5::Group scenarios = root.require_group(kScenariosGroup);
    for (std::size_t s = 0; s < result.scenarios.size(); ++s) {
      h5::Group scenario = scenarios.require_group(result.scenarios[s]);
      write_summary(scenario, s, result);
      if (!result.diff_mean.empty() && !result.diff_mean[s].front().empty()) {
        write_comparison(scenario, s, result);
      }
      if (result.saved_trajectories > 0) write_trajectories(scenario, s, result);
    }
    root.set_attribute("complete", std::int64_t{1});
  }  // every object closed: the file can close
  file.close();
}

// ---- reading --------------------------------------------------------------------------------

void require_complete(const h5::Group& root) {
  if (!root.has_attribute("complete")) {
    throw h5::Error(
        fmt::format("{}: not a carecast result (no root attribute 'complete')", root.file_name()));
  }
  if (root.attribute<std::int64_t>("complete") != 1) {
    throw h5::Error(
        fmt::format("{}: file is incomplete (attribute complete != 1)", root.file_name()));
  }
}

// Reads dataset `name` of `group`, which must have shape `shape`.
template <h5::Number T>
std::vector<T> read_array(const h5::Group& group, std::string_view name,
                          const std::vector<hsize_t>& shape) {
  const h5::Dataset data = group.open_dataset(name);
  const std::vector<hsize_t> dims = data.dims();
  if (dims != shape) {
    throw h5::Error(fmt::format("HDF5: {} has shape [{}], expected [{}]", data.description(),
                                fmt::join(dims, ", "), fmt::join(shape, ", ")));
  }
  return data.read<T>();
}

// The variables of a summary group: its "<variable>_mean" datasets, in creation order.
std::vector<std::string> summary_variables(const h5::Group& summary) {
  std::vector<std::string> variables;
  for (const std::string& name : summary.children()) {
    if (name.ends_with(kMeanSuffix))
      variables.push_back(name.substr(0, name.size() - kMeanSuffix.size()));
  }
  return variables;
}

RunAttributes read_attributes(const h5::Group& root) {
  RunAttributes attributes;
  attributes.carecast_version = root.string_attribute("carecast_version");
  attributes.model = root.string_attribute("model");
  attributes.mode = root.string_attribute("mode");
  attributes.seed = root.attribute<std::uint64_t>("seed");
  attributes.trajectories = root.attribute<std::uint64_t>("trajectories");
  attributes.config = root.string_attribute("config");
  return attributes;
}

// The variable metadata, from the base scenario's summary datasets.
void read_variable_attributes(const h5::Group& summary, RunResult& result) {
  for (const std::string& name : result.variables) {
    const h5::Dataset mean = summary.open_dataset(fmt::format("{}{}", name, kMeanSuffix));
    if (!mean.has_attribute("units")) return;
    result.units.push_back(mean.string_attribute("units"));
    result.long_names.push_back(mean.string_attribute("long_name"));
    result.better.push_back(mean.string_attribute("better"));
  }
}

// Mean, sd and quantiles of every variable from `group` (a summary or vs_ group), appended as
// one scenario's entry of mean, sd and quantiles.
void read_statistics(const h5::Group& group, const RunResult& result, Statistics& mean,
                     Statistics& sd, Statistics& quantiles) {
  const hsize_t months = result.months();
  const hsize_t regions = result.regions.size();
  auto& m = mean.emplace_back();
  auto& s = sd.emplace_back();
  auto& q = quantiles.emplace_back();
  for (const std::string& name : result.variables) {
    m.push_back(
        read_array<double>(group, fmt::format("{}{}", name, kMeanSuffix), {months, regions}));
    s.push_back(read_array<double>(group, fmt::format("{}{}", name, kSdSuffix), {months, regions}));
    q.push_back(read_array<double>(group, fmt::format("{}{}", name, kQuantileSuffix),
                                   {result.quantiles.size(), months, regions}));
  }
}

// The paired comparison with the base; empty entries where the scenario has none (the base).
void read_comparison(const h5::Group& scenario, RunResult& result) {
  const std::string group = fmt::format("{}{}", kVersusPrefix, result.base_scenario);
  if (!scenario.contains(group)) {
    for (auto* values : {&result.diff_mean, &result.diff_sd, &result.diff_quantile,
                         &result.p_better}) {
      values->emplace_back(result.variables.size());
    }
    return;
  }
  const h5::Group versus = scenario.open_group(group);
  read_statistics(versus, result, result.diff_mean, result.diff_sd, result.diff_quantile);
  auto& better = result.p_better.emplace_back();
  for (const std::string& name : result.variables) {
    const std::string p = fmt::format("{}{}", name, kBetterSuffix);
    better.push_back(versus.contains(p)
                         ? read_array<double>(versus, p, {result.months(), result.regions.size()})
                         : std::vector<double>{});
  }
}

void read_scenario(const h5::Group& scenario, RunResult& result) {
  if (!result.base_scenario.empty()) read_comparison(scenario, result);
  read_statistics(scenario.open_group(kSummaryGroup), result, result.mean, result.sd,
                  result.quantile);
  if (result.saved_trajectories == 0) return;
  const hsize_t months = result.months();
  const hsize_t regions = result.regions.size();
  const hsize_t saved = result.saved_trajectories;
  const h5::Group trajectories = scenario.open_group(kTrajectoriesGroup);
  auto& trajectory = result.trajectory.emplace_back();
  for (const std::string& name : result.variables) {
    const std::vector<float> values =
        read_array<float>(trajectories, name, {saved, months, regions});
    trajectory.emplace_back(values.begin(), values.end());
  }
  result.parameter_values.push_back(result.parameters.empty()
                                        ? std::vector<double>{}
                                        : read_array<double>(trajectories, kParametersDataset,
                                                             {saved, result.parameters.size()}));
}

}  // namespace

void write_result(const std::filesystem::path& path, const RunResult& result) {
  validate(result);
  std::filesystem::path temporary = path;
  temporary += fmt::format(".tmp-{}", ::getpid());
  try {
    write_file(temporary, result);
    std::filesystem::rename(temporary, path);
  } catch (...) {
    std::error_code ignored;  // best effort: the original error is what matters
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

void write_attribution(const std::filesystem::path& path, const Attribution& a) {
  const std::size_t k = a.parameters.size();
  if (k == 0 || a.prcc.size() != k || a.low.size() != k || a.high.size() != k) {
    throw std::invalid_argument("write_attribution: one value per parameter is needed");
  }
  h5::File file = h5::File::open_read_write(path);
  {
    h5::Group root = file.root();
    require_complete(root);
    h5::Group scenario = root.open_group(fmt::format("{}/{}", kScenariosGroup, a.scenario));
    h5::Group attribution = scenario.require_group("attribution");
    const std::string name = fmt::format("{}_year{}", a.variable, a.year);
    if (attribution.contains(name)) attribution.remove(name);
    h5::Group group = attribution.require_group(name);
    group.set_attribute("variable", a.variable);
    group.set_attribute("year", static_cast<std::int64_t>(a.year));
    group.set_attribute("region", a.region);
    group.set_attribute("method", std::string_view("partial rank correlation"));
    group.set_attribute("bootstrap", static_cast<std::int64_t>(a.bootstrap));
    group.set_attribute("interval", a.interval);
    h5::Dataset parameter = group.write_strings("parameter", a.parameters);
    parameter.make_scale("parameter");
    for (const auto& [dataset, values] :
         {std::pair{"prcc", &a.prcc}, std::pair{"prcc_low", &a.low}, std::pair{"prcc_high", &a.high}}) {
      attach(group.write_dataset(dataset, {k}, *values), {parameter});
    }
  }
  file.close();
}

RunResult read_result(const std::filesystem::path& path) {
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  require_complete(root);

  RunResult result;
  result.attributes = read_attributes(root);
  result.time_days = root.open_dataset("time").read<std::int64_t>();
  result.regions = root.open_dataset("region").read_strings();
  result.quantiles = root.open_dataset("quantile").read<double>();
  if (root.contains("parameter")) result.parameters = root.open_dataset("parameter").read_strings();
  if (root.contains("trajectory")) {
    result.saved_trajectories = root.open_dataset("trajectory").read<std::int64_t>().size();
  }

  const h5::Group scenarios = root.open_group(kScenariosGroup);
  result.scenarios = scenarios.children();
  if (root.has_attribute("base_scenario")) {
    result.base_scenario = root.string_attribute("base_scenario");
  }
  if (!result.scenarios.empty()) {
    const h5::Group summary =
        scenarios.open_group(result.scenarios.front()).open_group(kSummaryGroup);
    result.variables = summary_variables(summary);
    read_variable_attributes(summary, result);
  }
  for (const std::string& name : result.scenarios)
    read_scenario(scenarios.open_group(name), result);
  return result;
}

}  // namespace carecast::engine
