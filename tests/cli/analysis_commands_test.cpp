// Paired scenario comparisons in the result file, `carecast compare` and `carecast attribute`.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "engine/hdf5_file.h"
#include "engine/result_writer.h"
#include "tests/support/command.h"

namespace carecast {
namespace {

// tiny.toml with every trajectory saved, run once for the whole suite.
class Analysis : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::temp_dir("analysis");
    std::ifstream in(std::string(CARECAST_SOURCE_DIR) + "/tests/data/tiny.toml");
    std::stringstream text;
    text << in.rdbuf();
    std::string config = text.str();
    const std::string from = "save_trajectories = 0";
    config.replace(config.find(from), from.size(), "save_trajectories = 300");
    config += "\n[[scenario]]\nname = \"same\"\nset = {}\n";
    testing::write_text(dir_ / "saved.toml", config);
    file_ = dir_ / "run.h5";
    const auto run = testing::run_carecast("run " + (dir_ / "saved.toml").string() +
                                           " -n 300 -q -o " + file_.string());
    ASSERT_EQ(run.exit_code, 0) << run.output;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static inline std::filesystem::path dir_, file_;
};

std::size_t index(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

TEST_F(Analysis, PairedDifferencesAreStoredForEveryScenarioButTheBase) {
  const auto r = engine::read_result(file_);
  ASSERT_EQ(r.base_scenario, "baseline");
  const std::size_t b = index(r.scenarios, "baseline");
  for (std::size_t s = 0; s < r.scenarios.size(); ++s) {
    for (std::size_t v = 0; v < r.variables.size(); ++v) {
      if (s == b) {
        EXPECT_TRUE(r.diff_mean[s][v].empty());
        continue;
      }
      ASSERT_EQ(r.diff_mean[s][v].size(), r.plane());
      EXPECT_EQ(r.p_better[s][v].empty(), r.better[v] == "neutral") << r.variables[v];
      for (std::size_t c = 0; c < r.plane(); ++c) {
        // The mean of differences is the difference of means, up to rounding.
        const double expected = r.mean[s][v][c] - r.mean[b][v][c];
        const double scale = std::abs(r.mean[s][v][c]) + std::abs(r.mean[b][v][c]) + 1e-300;
        ASSERT_NEAR(r.diff_mean[s][v][c], expected, 1e-12 * scale) << r.variables[v];
        ASSERT_GE(r.diff_sd[s][v][c], 0.0);
        if (!r.p_better[s][v].empty()) {
          ASSERT_GE(r.p_better[s][v][c], 0.0);
          ASSERT_LE(r.p_better[s][v][c], 1.0);
        }
      }
    }
  }
  // A scenario identical to the base differs by exactly nothing, and is never better.
  const std::size_t same = index(r.scenarios, "same");
  for (std::size_t v = 0; v < r.variables.size(); ++v) {
    for (std::size_t c = 0; c < r.plane(); ++c) {
      ASSERT_EQ(r.diff_mean[same][v][c], 0.0);
      ASSERT_EQ(r.diff_sd[same][v][c], 0.0);
      if (!r.p_better[same][v].empty()) {
        ASSERT_EQ(r.p_better[same][v][c], 0.0);
      }
    }
  }
  // Real Living Wage pays more than the NLW in every trajectory: p_better of care_wage is 1.
  const std::size_t rlw = index(r.scenarios, "real_living_wage");
  const std::size_t wage = index(r.variables, "care_wage");
  EXPECT_EQ(r.better[wage], "higher");
  EXPECT_EQ(r.p_better[rlw][wage][r.plane() - 1], 1.0);
}

TEST_F(Analysis, CompareReportsDifferencesAndTheCommonRandomNumbersFactor) {
  const auto out = testing::run_carecast("compare " + file_.string() + " --year 2");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  for (const char* piece : {"real_living_wage vs baseline: year 2 (month 2027-12), region Total",
                            "coop_shift vs baseline", "unmet_hours (hours per month)",
                            "wage_bill (GBP per month)", "leakage", "P(better)", "CRN factor"}) {
    EXPECT_NE(out.output.find(piece), std::string::npos) << piece << " in\n" << out.output;
  }
  const auto other_base = testing::run_carecast("compare " + file_.string() + " --base coop_shift");
  EXPECT_NE(other_base.exit_code, 0);
  EXPECT_NE(other_base.output.find("--base coop_shift"), std::string::npos) << other_base.output;
  const auto bad_year = testing::run_carecast("compare " + file_.string() + " --year 9");
  EXPECT_NE(bad_year.exit_code, 0);
  EXPECT_NE(bad_year.output.find("1 to 2"), std::string::npos) << bad_year.output;
}

TEST_F(Analysis, AttributeRanksParametersAndWritesThemToTheFile) {
  const auto out = testing::run_carecast("attribute " + file_.string() +
                                         " --variable unmet_hours --year 2 --bootstrap 50");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("demand.prevalence_multiplier"), std::string::npos) << out.output;
  // Run twice: the group is replaced, not duplicated.
  ASSERT_EQ(testing::run_carecast("attribute " + file_.string() +
                                  " --variable unmet_hours --year 2 --bootstrap 50")
                .exit_code,
            0);
  const auto file = engine::h5::File::open_read_only(file_);
  const auto group = file.root().open_group("scenarios/baseline/attribution/unmet_hours_year2");
  const auto names = group.open_dataset("parameter").read_strings();
  const auto prcc = group.open_dataset("prcc").read<double>();
  const auto low = group.open_dataset("prcc_low").read<double>();
  const auto high = group.open_dataset("prcc_high").read<double>();
  ASSERT_EQ(prcc.size(), names.size());
  ASSERT_FALSE(names.empty());
  // More demand means more unmet hours: the prevalence multiplier's PRCC is clearly positive.
  const std::size_t j = index(names, "demand.prevalence_multiplier");
  ASSERT_LT(j, names.size());
  EXPECT_GT(prcc[j], 0.3);
  EXPECT_GT(low[j], 0.0);
  for (std::size_t k = 0; k < names.size(); ++k) {
    EXPECT_LE(std::abs(prcc[k]), 1.0);
    EXPECT_LE(low[k], high[k]);
  }
  EXPECT_EQ(group.string_attribute("method"), "partial rank correlation");
  EXPECT_EQ(group.attribute<std::int64_t>("year"), 2);
  // The file is still a complete, readable result.
  EXPECT_NO_THROW(engine::read_result(file_));
}

TEST_F(Analysis, AttributeNeedsSavedTrajectories) {
  const auto dir = testing::temp_dir("attribute_unsaved");
  const auto file = dir / "plain.h5";
  ASSERT_EQ(testing::run_carecast("run " + std::string(CARECAST_SOURCE_DIR) +
                                  "/tests/data/tiny.toml -n 20 -q -o " + file.string())
                .exit_code,
            0);
  const auto out = testing::run_carecast("attribute " + file.string() + " --variable unmet_hours");
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.output.find("output.save_trajectories"), std::string::npos) << out.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carecast
