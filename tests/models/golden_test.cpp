// Expected mode against ../shared/golden: values from an independent implementation of MODEL.md.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/support/model_run.h"

namespace carecast {
namespace {

std::vector<std::string> split(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) out.push_back(cell);
  return out;
}

TEST(Golden, SmallConfigurationMatchesEveryValue) {
  const std::string dir = std::string(CARECAST_SHARED_DIR) + "/golden/";
  auto document = testing::load_file(dir + "small.toml");
  const auto settings = engine::read_run_settings(document);
  ASSERT_EQ(settings.mode, engine::Mode::expected);
  const auto result = testing::run_document(document);

  std::ifstream csv(dir + "small_expected.csv");
  ASSERT_TRUE(csv) << "missing " << dir << "small_expected.csv";
  std::string line;
  std::getline(csv, line);
  const auto header = split(line);
  ASSERT_EQ(header[0], "scenario");
  const std::size_t plane = result.plane(), R = result.regions.size();
  int checked = 0;
  std::set<std::string> variables_seen;
  while (std::getline(csv, line)) {
    const auto row = split(line);
    ASSERT_EQ(row.size(), header.size());
    const auto s = testing::index_of(result.scenarios, row[0]);
    ASSERT_LT(s, result.scenarios.size()) << row[0];
    const int month = (std::stoi(row[1].substr(0, 4)) - settings.start.year) * 12 +
                      std::stoi(row[1].substr(5, 2)) - settings.start.month;
    ASSERT_GE(month, 0);
    ASSERT_LT(month, settings.months);
    const auto r = testing::index_of(result.regions, row[2]);
    ASSERT_LT(r, R) << row[2];
    for (std::size_t k = 3; k < header.size(); ++k) {
      const auto v = testing::index_of(result.variables, header[k]);
      ASSERT_LT(v, result.variables.size()) << "unknown variable " << header[k];
      variables_seen.insert(header[k]);
      const double expected = std::stod(row[k]);
      const double actual = result.mean[s][v][static_cast<std::size_t>(month) * R + r];
      const double tolerance = std::max(1e-9 * std::abs(expected), 1e-6);
      EXPECT_NEAR(actual, expected, tolerance)
          << row[0] << " " << row[1] << " " << row[2] << " " << header[k];
      // One trajectory: no spread, and every quantile is the value itself.
      EXPECT_EQ(result.sd[s][v][static_cast<std::size_t>(month) * R + r], 0.0);
      for (std::size_t q = 0; q < result.quantiles.size(); ++q) {
        EXPECT_EQ(result.quantile[s][v][q * plane + static_cast<std::size_t>(month) * R + r],
                  actual);
      }
      ++checked;
    }
  }
  EXPECT_EQ(variables_seen.size(), result.variables.size()) << "the CSV covers every variable";
  EXPECT_EQ(checked, 4 * 36 * 3 * 17);
}

}  // namespace
}  // namespace carecast
