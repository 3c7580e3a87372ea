// The model-independent settings of a run: [run] and [output].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config_document.h"

namespace carecast::engine {

enum class Mode { stochastic, expected };

// A calendar month.
struct YearMonth {
  int year = 2026;
  int month = 1;  // 1..12

  YearMonth plus(int months) const;
  // Days since 1970-01-01 of the first day of this month, and back (any day of the month).
  std::int64_t days_since_epoch() const;
  static YearMonth from_days_since_epoch(std::int64_t days);
  std::string to_string() const;  // "YYYY-MM"
};

struct RunSettings {
  std::string name;
  std::string model;
  YearMonth start;
  int months = 0;
  std::uint64_t trajectories = 0;
  std::uint64_t seed = 0;
  Mode mode = Mode::stochastic;
  std::vector<double> quantiles;
  std::uint64_t save_trajectories = 0;
};

// Reads and checks [run] and [output]. Throws ConfigError.
RunSettings read_run_settings(const ConfigDocument& document);

const char* to_string(Mode mode);

}  // namespace carecast::engine
