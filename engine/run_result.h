// What a run produces: summaries per scenario, variable, month and region, and optionally the
// raw trajectories of the first few trajectories. Written to HDF5 by ResultWriter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/default_init_allocator.h"

namespace carecast::engine {

struct RunAttributes {
  std::string carecast_version;
  std::string model;
  std::string mode;  // "expected" | "stochastic"
  std::uint64_t seed = 0;
  std::uint64_t trajectories = 0;
  std::string config;  // resolved configuration, TOML text
};

struct RunResult {
  RunAttributes attributes;

  std::vector<std::string> scenarios;
  std::vector<std::string> variables;
  std::vector<std::string> regions;        // "Total" last
  std::vector<std::int64_t> time_days;     // days since 1970-01-01 of the 1st of each month
  std::vector<double> quantiles;           // probabilities in (0, 1), increasing
  std::vector<std::string> parameters;     // names of the uncertain parameters
  // Per variable: units, a name in words, and "lower" | "higher" | "neutral" (which is better).
  std::vector<std::string> units;
  std::vector<std::string> long_names;
  std::vector<std::string> better;

  std::size_t months() const { return time_days.size(); }
  std::size_t plane() const { return time_days.size() * regions.size(); }  // one [time, region]

  // mean[s][v] and sd[s][v] hold plane() values, row-major [time][region].
  std::vector<std::vector<std::vector<double>>> mean;
  std::vector<std::vector<std::vector<double>>> sd;
  // quantile[s][v] holds quantiles.size() * plane() values, row-major [quantile][time][region].
  std::vector<std::vector<std::vector<double>>> quantile;

  // Paired comparison with the base scenario: summaries of (scenario - base) per trajectory,
  // with the same random numbers. diff_*[s] is empty for the base itself; otherwise laid out like
  // mean/sd/quantile. p_better[s][v] (plane() values) is the share of trajectories in which
  // scenario s is better than the base, empty where better[v] is "neutral".
  std::string base_scenario;
  std::vector<std::vector<std::vector<double>>> diff_mean;
  std::vector<std::vector<std::vector<double>>> diff_sd;
  std::vector<std::vector<std::vector<double>>> diff_quantile;
  std::vector<std::vector<std::vector<double>>> p_better;

  // Raw trajectories, kept for the first saved_trajectories trajectories (0: none).
  // trajectory[s][v] holds saved_trajectories * plane() floats, row-major
  // [trajectory][time][region] (sized unwritten: whoever sizes it writes every value).
  std::uint64_t saved_trajectories = 0;
  std::vector<std::vector<UninitializedVector<float>>> trajectory;
  // parameter_values[s] holds saved_trajectories * parameters.size() doubles, [trajectory][parameter].
  std::vector<std::vector<double>> parameter_values;
};

}  // namespace carecast::engine
