#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "cli/commands.h"
#include "cli/number_format.h"
#include "cli/result_access.h"
#include "engine/result_writer.h"

namespace carecast::cli {

namespace {

// The variables of the table, with their column headings.
struct Column {
  const char* variable;
  const char* heading;
};
constexpr Column kColumns[] = {{"unmet_hours", "unmet hours/month"},
                               {"headcount", "headcount"},
                               {"vacancies", "vacancies"},
                               {"cost", "cost GBP/month"},
                               {"funding_gap", "funding gap GBP/month"}};

void print_scenario(const engine::RunResult& r, std::size_t s) {
  const std::size_t total = r.regions.size() - 1;  // "Total" is last
  const std::size_t lo = nearest_quantile(r.quantiles, 0.05);
  const std::size_t hi = nearest_quantile(r.quantiles, 0.95);
  const std::size_t R = r.regions.size(), plane = r.plane();
  fmt::print("\nscenario {} (region {}; mean [{:g}%, {:g}%] in the last month of each year)\n",
             r.scenarios[s], r.regions[total], 100 * r.quantiles[lo], 100 * r.quantiles[hi]);
  fmt::print("{:<5} {:<8}", "year", "month");
  for (const auto& c : kColumns) fmt::print(" {:>26}", c.heading);
  fmt::print("\n");
  for (std::size_t year = 1; year <= year_count(r); ++year) {
    const std::size_t t = last_month_of_year(r, year);
    fmt::print("{:<5} {:<8}", year, month_label(r.time_days[t]));
    for (const auto& c : kColumns) {
      const std::size_t v = index_of(r.variables, c.variable, "variable");
      const std::size_t cell = t * R + total;
      fmt::print(" {:>26}", fmt::format("{} [{}, {}]", short_number(r.mean[s][v][cell]),
                                        short_number(r.quantile[s][v][lo * plane + cell]),
                                        short_number(r.quantile[s][v][hi * plane + cell])));
    }
    fmt::print("\n");
  }
}

}  // namespace

int info_command(const std::string& result_file) {
  try {
    const auto r = engine::read_result(result_file);
    fmt::print("{}: model {}, {} mode, {} trajectories, seed {}, {} months from {}, carecast {}\n",
               result_file, r.attributes.model, r.attributes.mode, r.attributes.trajectories,
               r.attributes.seed, r.months(), month_label(r.time_days.front()),
               r.attributes.carecast_version);
    for (std::size_t s = 0; s < r.scenarios.size(); ++s) print_scenario(r, s);
    return kOk;
  } catch (const std::exception& e) {
    fmt::print(stderr, "carecast: error: {}: {}\n", result_file, e.what());
    return kFailure;
  }
}

}  // namespace carecast::cli
