#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "cli/commands.h"
#include "cli/number_format.h"
#include "cli/result_access.h"
#include "engine/result_writer.h"

namespace carecast::cli {

namespace {

constexpr const char* kVariables[] = {"unmet_hours", "headcount", "vacancies", "cost",
                                      "funding_gap", "leakage",   "wage_bill"};

std::string signed_number(double x) {
  return x > 0 ? fmt::format("+{}", short_number(x)) : short_number(x);
}

void print_comparison(const engine::RunResult& r, std::size_t s, std::size_t b, std::size_t year) {
  const std::size_t R = r.regions.size(), total = R - 1, plane = r.plane();
  const std::size_t t = last_month_of_year(r, year);
  const std::size_t cell = t * R + total;
  const std::size_t lo = nearest_quantile(r.quantiles, 0.05);
  const std::size_t hi = nearest_quantile(r.quantiles, 0.95);
  fmt::print("\n{} vs {}: year {} (month {}), region {}\n", r.scenarios[s], r.scenarios[b], year,
             month_label(r.time_days[t]), r.regions[total]);
  fmt::print("{:<36} {:>30} {:>10} {:>12}\n", "variable (units)",
             fmt::format("difference: mean [{:g}%, {:g}%]", 100 * r.quantiles[lo],
                         100 * r.quantiles[hi]),
             "P(better)", "CRN factor");
  for (const char* name : kVariables) {
    const std::size_t v = index_of(r.variables, name, "variable");
    const double mean = r.diff_mean[s][v][cell];
    const double low = r.diff_quantile[s][v][lo * plane + cell];
    const double high = r.diff_quantile[s][v][hi * plane + cell];
    // Variance of the paired difference against that of two independent runs.
    const double sd_s = r.sd[s][v][cell], sd_b = r.sd[b][v][cell], sd_d = r.diff_sd[s][v][cell];
    const double independent = sd_s * sd_s + sd_b * sd_b;
    const std::string factor = independent > 0 ? fmt::format("{:.3g}", sd_d * sd_d / independent)
                                               : std::string("-");
    const std::string better = r.p_better[s][v].empty()
                                   ? std::string("-")
                                   : fmt::format("{:.3f}", r.p_better[s][v][cell]);
    const std::string label =
        r.units.empty() ? std::string(name) : fmt::format("{} ({})", name, r.units[v]);
    fmt::print("{:<36} {:>30} {:>10} {:>12}\n", label,
               fmt::format("{} [{}, {}]", signed_number(mean), signed_number(low),
                           signed_number(high)),
               better, factor);
  }
}

}  // namespace

int compare_command(const CompareArguments& args) {
  try {
    const auto r = engine::read_result(args.file);
    if (r.base_scenario.empty() || r.diff_mean.empty()) {
      throw std::runtime_error("the file has no paired comparisons (written by an older carecast?)");
    }
    if (!args.base.empty() && args.base != r.base_scenario) {
      index_of(r.scenarios, args.base, "scenario");
      throw std::runtime_error(fmt::format(
          "the file compares every scenario with '{}'; for --base {} run it again with "
          "`carecast run FILE --base {}`",
          r.base_scenario, args.base, args.base));
    }
    const std::size_t b = index_of(r.scenarios, r.base_scenario, "scenario");
    const std::size_t year = checked_year(r, args.year);
    fmt::print("{}: {} trajectories, paired differences (scenario - {}) with common random "
               "numbers;\nCRN factor = variance of the paired difference / sum of the two "
               "variances (independent runs: 1)\n",
               args.file, r.attributes.trajectories, r.base_scenario);
    for (std::size_t s = 0; s < r.scenarios.size(); ++s) {
      if (s != b) print_comparison(r, s, b, year);
    }
    return kOk;
  } catch (const std::exception& e) {
    fmt::print(stderr, "carecast: error: {}: {}\n", args.file, e.what());
    return kFailure;
  }
}

}  // namespace carecast::cli
