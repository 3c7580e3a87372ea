#include "cli/result_access.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/run_settings.h"

namespace carecast::cli {

std::size_t index_of(const std::vector<std::string>& names, const std::string& name,
                     const char* what) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    throw std::runtime_error(
        fmt::format("no {} '{}' in the file (available: {})", what, name, fmt::join(names, ", ")));
  }
  return static_cast<std::size_t>(it - names.begin());
}

std::size_t nearest_quantile(const std::vector<double>& quantiles, double p) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < quantiles.size(); ++k) {
    if (std::abs(quantiles[k] - p) < std::abs(quantiles[best] - p)) best = k;
  }
  return best;
}

std::string month_label(std::int64_t days) {
  return engine::YearMonth::from_days_since_epoch(days).to_string();
}

std::size_t year_count(const engine::RunResult& result) { return (result.months() + 11) / 12; }

std::size_t checked_year(const engine::RunResult& result, int year) {
  const std::size_t years = year_count(result);
  if (year == 0) return years;
  if (year < 0 || static_cast<std::size_t>(year) > years) {
    throw std::runtime_error(
        fmt::format("--year {} is not a model year of this run (1 to {})", year, years));
  }
  return static_cast<std::size_t>(year);
}

std::size_t last_month_of_year(const engine::RunResult& result, std::size_t year) {
  return std::min(result.months(), year * 12) - 1;
}

}  // namespace carecast::cli
