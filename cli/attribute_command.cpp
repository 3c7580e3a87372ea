#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "cli/commands.h"
#include "cli/result_access.h"
#include "engine/partial_rank_correlation.h"
#include "engine/result_writer.h"

namespace carecast::cli {

namespace {

constexpr double kInterval = 0.9;

// The variable's mean over the months of `year`, per saved trajectory.
std::vector<double> yearly_means(const engine::RunResult& r, std::size_t s, std::size_t v,
                                 std::size_t region, std::size_t year) {
  const std::size_t R = r.regions.size(), plane = r.plane();
  const std::size_t first = (year - 1) * 12, last = last_month_of_year(r, year);
  std::vector<double> out;
  for (std::size_t i = 0; i < r.saved_trajectories; ++i) {
    double sum = 0.0;
    for (std::size_t t = first; t <= last; ++t) sum += r.trajectory[s][v][i * plane + t * R + region];
    out.push_back(sum / static_cast<double>(last - first + 1));
  }
  return out;
}

}  // namespace

int attribute_command(const AttributeArguments& args) {
  try {
    const auto r = engine::read_result(args.file);
    if (r.saved_trajectories == 0 || r.parameters.empty()) {
      throw std::runtime_error(
          "no saved trajectories with uncertain parameters: set output.save_trajectories (e.g. "
          "1000) in the scenario file and run it again");
    }
    engine::Attribution a;
    a.scenario = args.scenario.empty() ? (r.base_scenario.empty() ? r.scenarios.front()
                                                                  : r.base_scenario)
                                       : args.scenario;
    const std::size_t s = index_of(r.scenarios, a.scenario, "scenario");
    const std::size_t v = index_of(r.variables, args.variable, "variable");
    const std::size_t region = index_of(r.regions, args.region, "region");
    const std::size_t year = checked_year(r, args.year);
    a.variable = args.variable;
    a.region = args.region;
    a.year = static_cast<int>(year);
    a.bootstrap = args.bootstrap;
    a.interval = kInterval;
    a.parameters = r.parameters;
    const auto y = yearly_means(r, s, v, region, year);
    auto result = engine::partial_rank_correlation(r.parameter_values[s], r.parameters.size(), y,
                                                   args.bootstrap, kInterval, r.attributes.seed);
    a.prcc = std::move(result.prcc);
    a.low = std::move(result.low);
    a.high = std::move(result.high);
    engine::write_attribution(args.file, a);

    fmt::print("{}: {} in {} over year {} ({} to {}), scenario {}, {} trajectories\n", args.file,
               args.variable, args.region, year,
               month_label(r.time_days[(year - 1) * 12]),
               month_label(r.time_days[last_month_of_year(r, year)]), a.scenario, y.size());
    fmt::print("partial rank correlation with {:g}% bootstrap interval ({} resamples), by |PRCC|\n",
               100 * kInterval, args.bootstrap);
    std::vector<std::size_t> order(a.parameters.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto magnitude = [&](std::size_t j) { return std::isnan(a.prcc[j]) ? -1.0 : std::abs(a.prcc[j]); };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t i, std::size_t j) { return magnitude(i) > magnitude(j); });
    for (std::size_t j : order) {
      fmt::print("  {:<34} {:+.3f}  [{:+.3f}, {:+.3f}]\n", a.parameters[j], a.prcc[j], a.low[j],
                 a.high[j]);
    }
    fmt::print("written to scenarios/{}/attribution/{}_year{}\n", a.scenario, a.variable, year);
    return kOk;
  } catch (const std::exception& e) {
    fmt::print(stderr, "carecast: error: {}: {}\n", args.file, e.what());
    return kFailure;
  }
}

}  // namespace carecast::cli
