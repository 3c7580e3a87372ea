// Bad scenario files: each must name the file, line and key and what was expected, exit 2, and
// leave no result file behind.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/command.h"

namespace carecast {
namespace {

struct BadFile {
  const char* name;
  const char* text;
  std::vector<std::string> message;  // pieces the error must contain
  const char* extra_arguments = "";
};

const std::vector<BadFile>& bad_files() {
  static const std::vector<BadFile> cases = {
      {"unknown_key", "[demand]\nprevalance = [0.01, 0.02, 0.06, 0.17]\n",
       {"unknown_key.toml:2:1", "demand.prevalance", "unknown key in [demand]"}},
      {"unknown_section", "[demandz]\nx = 1\n", {"unknown_section.toml", "unknown section [demandz]"}},
      {"wrong_shape", "[demand]\nprevalence = [0.01, 0.02]\n",
       {"wrong_shape.toml:2:", "demand.prevalence",
        "expected an array of 4 numbers (one per age band)", "an array of 2 values"}},
      {"wrong_matrix", "[providers]\nturnover_base = [[0.4, 0.2], [0.4], [0.3, 0.1], [0.2, 0.1]]\n",
       {"wrong_matrix.toml:2:", "providers.turnover_base", "row 1 is an array of 1 values"}},
      {"probability_above_one", "[providers]\nleakage = [0.3, 1.2, 0.0, 0.0]\n",
       {"probability_above_one.toml:2:", "providers.leakage", "expected a number in [0, 1] at [1]",
        "got 1.2"}},
      {"negative_hours", "[demand]\nhours_per_week = [14.0, -1.0, 12.0, 14.0]\n",
       {"negative_hours.toml:2:", "demand.hours_per_week", ">= 0 at [1]", "got -1"}},
      {"unknown_distribution", "[demand]\nprevalence_multiplier = {dist = \"gamma\", a = 1.0}\n",
       {"unknown_distribution.toml:2:", "demand.prevalence_multiplier", "expected dist = one of",
        "\"gamma\""}},
      {"normal_care_time", "[workforce]\ncare_time = {dist = \"normal\", mean = 0.8, sd = 0.1}\n",
       {"normal_care_time.toml:2:", "workforce.care_time", "in (0, 1]",
        "a normal distribution can take values outside it"}},
      {"bad_distribution_parameter", "[workforce]\nbeta_w = {dist = \"normal\", mean = -2.0, sd = -0.5}\n",
       {"bad_distribution_parameter.toml:2:", "workforce.beta_w", "sd > 0"}},
      {"unknown_scenario_key", "[[scenario]]\nname = \"x\"\nset = { \"policy.wages\" = \"nlw\" }\n",
       {"unknown_scenario_key.toml:3:", "scenario 'x'", "unknown key 'policy.wages'"}},
      {"scenario_overrides_run", "[[scenario]]\nname = \"x\"\nset = { \"run.months\" = 12 }\n",
       {"scenario_overrides_run.toml:3:", "scenario 'x'", "run.months", "cannot be overridden"}},
      {"scenario_bad_value", "[[scenario]]\nname = \"x\"\nset = { \"policy.wage\" = \"gold\" }\n",
       {"scenario_bad_value.toml:3:", "scenario 'x'", "policy.wage", "\"real_living_wage\""}},
      {"shares_do_not_sum", "[providers]\nshare = [0.5, 0.35, 0.05, 0.15]\n",
       {"shares_do_not_sum.toml:2:", "providers.share", "sum to 1"}},
      {"bad_start", "[run]\nstart = \"2026-13\"\n",
       {"bad_start.toml:2:", "run.start", "\"YYYY-MM\"", "2026-13"}},
      {"not_toml", "[run]\nmonths = \n", {"not_toml.toml:2:", "not valid TOML"}},
      {"unknown_wage_policy", "[policy]\nwage = \"gold\"\n",
       {"unknown_wage_policy.toml:2:", "policy.wage", "expected one of \"nlw\""}},
      {"renamed_regions", "[regions]\nnames = [\"A\", \"B\"]\n",
       {"population.initial", "expected an array of 2 rows (one per region)",
        "renamed_regions.toml does not set population.initial"}},
      {"unknown_scenario_name", "[run]\nmonths = 12\n",
       {"no scenario named 'nope'"}, "--scenario nope"},
  };
  return cases;
}

class ConfigErrors : public ::testing::TestWithParam<BadFile> {};

TEST_P(ConfigErrors, NamesTheProblemExitsTwoAndWritesNothing) {
  const BadFile& bad = GetParam();
  const auto dir = testing::temp_dir(bad.name);
  const auto file = dir / (std::string(bad.name) + ".toml");
  const auto out = dir / "out.h5";
  testing::write_text(file, bad.text);

  const auto run = testing::run_carecast("run " + file.string() + " -o " + out.string() +
                                         " -n 2 -q " + bad.extra_arguments);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  for (const auto& piece : bad.message) EXPECT_NE(run.output.find(piece), std::string::npos)
      << "missing '" << piece << "' in: " << run.output;
  EXPECT_NE(run.output.find("carecast: error:"), std::string::npos) << run.output;
  // Nothing at the output path, and no temporary file left in its directory.
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files += entry.path() != file;
  }
  EXPECT_EQ(files, 0u) << "the failed run left a file in " << dir;

  if (std::string(bad.extra_arguments).empty()) {
    const auto validate = testing::run_carecast("validate " + file.string());
    EXPECT_EQ(validate.exit_code, 2) << validate.output;
    EXPECT_NE(validate.output.find(bad.message.front()), std::string::npos) << validate.output;
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Table, ConfigErrors, ::testing::ValuesIn(bad_files()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ConfigErrorsMissingFile, NamesTheFile) {
  const auto run = testing::run_carecast("run /nonexistent/dir/scenario.toml -q");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("/nonexistent/dir/scenario.toml: cannot open"), std::string::npos)
      << run.output;
}

TEST(ConfigErrorsGoodFile, ValidatesTheDefaultScenarioFile) {
  const auto validate = testing::run_carecast("validate " + std::string(CARECAST_SOURCE_DIR) +
                                              "/data/scenarios/wm_baseline.toml");
  EXPECT_EQ(validate.exit_code, 0) << validate.output;
  EXPECT_NE(validate.output.find("ok (model care_wf, 7 regions, 4 scenarios"), std::string::npos)
      << validate.output;
}

}  // namespace
}  // namespace carecast
