// The default West Midlands scenario file in expected mode, pinned: a change to the model, the
// data or the engine that moves these numbers must be deliberate (update them with the reason in
// the commit message). Values from `carecast run data/scenarios/wm_baseline.toml --mode expected`.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/model_run.h"

namespace carecast {
namespace {

struct Pin {
  const char* scenario;
  const char* variable;
  double values[4];  // Total region, months 0, 12, 60 and 119
};

constexpr Pin kPins[] = {
    {"baseline", "unmet_hours", {365797.31917562254, 410776.7644711007, 568408.5591866581, 817380.2652480728}},
    {"baseline", "headcount", {21534.094565280207, 21436.005416380332, 22043.243722380903, 22680.28625255142}},
    {"baseline", "cost", {65910967.53459424, 68269233.08646327, 79951256.00017495, 94113137.49356182}},
    {"baseline", "funding_gap", {2301710.1217573388, 3412602.665425785, 9133468.944230705, 20612620.899485216}},
    {"real_living_wage", "vacancies", {791.0521483741314, 1263.3562310927327, 1167.914136523292, 988.7116637713524}},
    {"parity", "unmet_hours", {365797.31917562254, 438520.2488841726, 707014.4879656667, 978595.534362331}},
    {"community_shift", "headcount", {21534.094565280207, 21482.76056618768, 22298.451081695755, 22944.246964294496}},
};

TEST(DefaultRegression, ExpectedModeTotalsArePinned) {
  auto document = testing::load_file(std::string(CARECAST_SOURCE_DIR) +
                                     "/data/scenarios/wm_baseline.toml");
  document.set("run.mode", toml::value<std::string>("expected"));
  const auto result = testing::run_document(document);
  const std::size_t R = result.regions.size();
  ASSERT_EQ(result.regions.back(), "Total");
  for (const auto& pin : kPins) {
    const auto s = testing::index_of(result.scenarios, pin.scenario);
    const auto v = testing::index_of(result.variables, pin.variable);
    ASSERT_LT(s, result.scenarios.size()) << pin.scenario;
    ASSERT_LT(v, result.variables.size()) << pin.variable;
    const int months[4] = {0, 12, 60, 119};
    for (int k = 0; k < 4; ++k) {
      const double actual = result.mean[s][v][static_cast<std::size_t>(months[k]) * R + R - 1];
      EXPECT_NEAR(actual, pin.values[k], 1e-9 * std::abs(pin.values[k]))
          << pin.scenario << " " << pin.variable << " month " << months[k];
    }
  }
}

}  // namespace
}  // namespace carecast
