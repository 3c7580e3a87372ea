// Looking things up in a RunResult read back from a file, for the report commands.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/run_result.h"

namespace carecast::cli {

// Index of `name` in `names`; throws std::runtime_error naming `what` and the choices if absent.
std::size_t index_of(const std::vector<std::string>& names, const std::string& name,
                     const char* what);
// The stored quantile nearest to p.
std::size_t nearest_quantile(const std::vector<double>& quantiles, double p);
// "YYYY-MM" of a day count since 1970-01-01.
std::string month_label(std::int64_t days);
// Model years (12 months each, the last possibly shorter) in a run.
std::size_t year_count(const engine::RunResult& result);
// Checks a 1-based model year (0: the last) and returns it.
std::size_t checked_year(const engine::RunResult& result, int year);
// The last month of a 1-based model year.
std::size_t last_month_of_year(const engine::RunResult& result, std::size_t year);

}  // namespace carecast::cli
