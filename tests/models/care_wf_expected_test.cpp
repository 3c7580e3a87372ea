// Expected mode on tests/data/one_cell.toml, checked against MODEL.md worked out by hand below.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "tests/support/model_run.h"

namespace carecast {
namespace {

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double logit(double p) { return std::log(p / (1.0 - p)); }
double monthly(double annual) { return 1.0 - std::pow(1.0 - annual, 1.0 / 12.0); }

class OneCell : public ::testing::Test {
 protected:
  void SetUp() override {
    result_ = testing::run_document(
        testing::load_file(std::string(CARECAST_SOURCE_DIR) + "/tests/data/one_cell.toml"));
  }
  // Region "A" (index 0) of month t.
  double at(const char* variable, int t) const {
    const auto v = testing::index_of(result_.variables, variable);
    EXPECT_LT(v, result_.variables.size()) << variable;
    return result_.mean[0][v][static_cast<std::size_t>(t) * result_.regions.size()];
  }
  engine::RunResult result_;
};

// One month of flows in expected mode: every binomial is n * p, no floor.
struct Flows {
  double left_new, left_settled, promoted, vacant, hired, fresh, settled;
};
Flows flows(double fresh, double settled, double posts, double w, double w_out, double du) {
  const double relative = std::log(w / w_out);
  Flows f{};
  f.left_new = fresh * monthly(logistic(logit(0.4) - 2.0 * relative - 15.0 * du));
  f.left_settled = settled * monthly(logistic(logit(0.2) - 2.0 * relative - 15.0 * du));
  f.promoted = (fresh - f.left_new) / 12.0;
  f.vacant = std::max(0.0, posts - (fresh + settled - f.left_new - f.left_settled));
  f.hired = f.vacant * logistic(logit(0.3) + 2.0 * relative + 20.0 * du);
  f.fresh = fresh + f.hired - f.left_new - f.promoted;
  f.settled = settled + f.promoted - f.left_settled;
  return f;
}

TEST_F(OneCell, MonthZeroByHand) {
  // Demand: 100000 people * 2% * 12 h/week * 52/12 weeks = 104000 hours a month.
  const double demand = 104000.0;
  // NLW 12, premium 10%: w = 13.2; fee = (13.2 * 1.2 / 0.8 + 5) / 0.9.
  const double w = 13.2, fee = (13.2 * 1.2 / 0.8 + 5.0) / 0.9;
  // Budget covers 90% of demand: 93600 funded hours = 900 posts of 30 * 0.8 * 52/12 = 104 h.
  const double budget = 0.9 * demand * fee, posts = 900.0;
  // 810 staff (10% vacant), a quarter of them new.
  const Flows f = flows(202.5, 607.5, posts, w, 12.0, 0.0);
  const double headcount = f.fresh + f.settled;
  const double supplied = (0.8 * f.fresh + f.settled) * 104.0;
  const double delivered = std::min(supplied, 93600.0);

  EXPECT_DOUBLE_EQ(at("demand_hours", 0), demand);
  EXPECT_DOUBLE_EQ(at("budget", 0), budget);
  EXPECT_DOUBLE_EQ(at("headcount", 0), headcount);
  EXPECT_DOUBLE_EQ(at("leavers", 0), f.left_new + f.left_settled);
  EXPECT_DOUBLE_EQ(at("hires", 0), f.hired);
  EXPECT_DOUBLE_EQ(at("vacancies", 0), f.vacant - f.hired);
  EXPECT_DOUBLE_EQ(at("supplied_hours", 0), supplied);
  EXPECT_DOUBLE_EQ(at("delivered_hours", 0), delivered);
  EXPECT_DOUBLE_EQ(at("unmet_hours", 0), demand - delivered);
  EXPECT_DOUBLE_EQ(at("gap_hours", 0), demand - supplied);
  EXPECT_DOUBLE_EQ(at("turnover_rate", 0), 12.0 * (f.left_new + f.left_settled) / 810.0);
  EXPECT_DOUBLE_EQ(at("care_wage", 0), w);
  EXPECT_DOUBLE_EQ(at("outside_wage", 0), 12.0);
  EXPECT_DOUBLE_EQ(at("cost", 0), delivered * fee);
  EXPECT_DOUBLE_EQ(at("leakage", 0), 0.2 * delivered * fee);
  EXPECT_NEAR(at("funding_gap", 0), 0.1 * demand * fee, 1e-6);
  EXPECT_DOUBLE_EQ(at("wage_bill", 0), headcount * 30.0 * 52.0 / 12.0 * w * 1.2);
}

TEST_F(OneCell, AprilRulesInMonthOne) {
  const Flows f0 = flows(202.5, 607.5, 900.0, 13.2, 12.0, 0.0);
  // Month 1 is April: NLW and the budget grow; outside wages grow by g_w / 12 every month.
  const double w_out = 12.0 * std::exp(0.036 / 12.0);
  const double w = 12.0 * 1.03 * 1.1;
  const double fee = (w * 1.2 / 0.8 + 5.0 * std::pow(1.024, 1.0 / 12.0)) / 0.9;
  const double demand = 104000.0 * std::pow(1.12, 1.0 / 12.0);
  const double budget = 0.9 * 104000.0 * (13.2 * 1.2 / 0.8 + 5.0) / 0.9 * 1.05;
  const double funded = std::min(demand, budget / fee);
  const double posts = funded / 104.0;
  const Flows f1 = flows(f0.fresh, f0.settled, posts, w, w_out, 0.0);
  const double supplied = (0.8 * f1.fresh + f1.settled) * 104.0;

  EXPECT_NEAR(at("demand_hours", 1), demand, 1e-9 * demand);
  EXPECT_NEAR(at("budget", 1), budget, 1e-9 * budget);
  EXPECT_NEAR(at("outside_wage", 1), w_out, 1e-12);
  EXPECT_NEAR(at("care_wage", 1), w, 1e-12);
  EXPECT_NEAR(at("headcount", 1), f1.fresh + f1.settled, 1e-9);
  EXPECT_NEAR(at("hires", 1), f1.hired, 1e-9);
  EXPECT_NEAR(at("supplied_hours", 1), supplied, 1e-7);
  EXPECT_NEAR(at("funding_gap", 1), demand * fee - budget, 1e-6);
  // The budget and the NLW change only in April: month 2 (May) keeps them.
  EXPECT_DOUBLE_EQ(at("budget", 2), at("budget", 1));
  EXPECT_DOUBLE_EQ(at("care_wage", 2), at("care_wage", 1));
}

TEST_F(OneCell, TotalEqualsTheOnlyRegion) {
  const std::size_t R = result_.regions.size();
  ASSERT_EQ(R, 2u);
  EXPECT_EQ(result_.regions.back(), "Total");
  for (std::size_t v = 0; v < result_.variables.size(); ++v) {
    for (std::size_t t = 0; t < result_.months(); ++t) {
      EXPECT_DOUBLE_EQ(result_.mean[0][v][t * R + 1], result_.mean[0][v][t * R])
          << result_.variables[v] << " month " << t;
    }
  }
}

}  // namespace
}  // namespace carecast

namespace carecast {
namespace {

TEST(OneCellVariant, ConstantTurnoverAsAScenario) {
  // The model variant is compared like any policy: a scenario overriding the turnover model.
  auto document = testing::parse_text([] {
    std::ifstream in(std::string(CARECAST_SOURCE_DIR) + "/tests/data/one_cell.toml");
    std::stringstream text;
    text << in.rdbuf();
    return text.str() +
           "\n[[scenario]]\nname = \"constant\"\nset = { \"workforce.turnover_model\" = "
           "\"constant\" }\n";
  }());
  const auto result = testing::run_document(document);
  const auto s = testing::index_of(result.scenarios, "constant");
  const auto leavers = testing::index_of(result.variables, "leavers");
  ASSERT_LT(s, result.scenarios.size());
  // Month 0: 202.5 new and 607.5 settled staff leave at the base annual rates 40% and 20%,
  // whatever the wage.
  const double expected = 202.5 * monthly(0.4) + 607.5 * monthly(0.2);
  EXPECT_DOUBLE_EQ(result.mean[s][leavers][0], expected);
  EXPECT_NE(result.mean[0][leavers][0], expected);  // the wage_logit base differs
}

}  // namespace
}  // namespace carecast
