// Stochastic mode of care_wf on tests/data/tiny.toml: invariants, stream addressing and common
// random numbers, checked trajectory by trajectory on the model's own double outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <typeinfo>

#include "tests/support/model_run.h"

namespace carecast {
namespace {

constexpr int kTrajectories = 200;

std::string tiny_path() { return std::string(CARECAST_SOURCE_DIR) + "/tests/data/tiny.toml"; }

// A model over a document, with helpers to run one trajectory into a buffer.
struct Harness {
  explicit Harness(const engine::ConfigDocument& document)
      : settings(engine::read_run_settings(document)),
        model(models::make_model(document, settings)),
        scratch(model->make_scratch()),
        layout(model->layout()) {}

  std::vector<double> trajectory(std::uint32_t i) {
    std::vector<double> out(layout.cells());
    std::vector<double> parameters(layout.scenarios.size() * layout.parameters.size());
    model->simulate(settings.seed, i, *scratch, out, parameters);
    return out;
  }
  double value(const std::vector<double>& out, std::size_t s, const char* variable, int t,
               std::size_t r) const {
    return out[layout.index(s, testing::index_of(layout.variables, variable),
                            static_cast<std::size_t>(t), r)];
  }

  engine::RunSettings settings;
  std::unique_ptr<engine::Simulator> model;
  std::unique_ptr<engine::SimulatorScratch> scratch;
  const engine::OutputLayout& layout;
};

TEST(CareWfStochastic, InvariantsHoldInEveryTrajectoryAndMonth) {
  Harness h(testing::load_file(tiny_path()));
  const std::size_t R = h.layout.regions.size();
  for (std::uint32_t i = 0; i < kTrajectories; ++i) {
    const auto out = h.trajectory(i);
    for (std::size_t s = 0; s < h.layout.scenarios.size(); ++s) {
      for (int t = 0; t < h.layout.months; ++t) {
        for (std::size_t r = 0; r < R; ++r) {
          const auto v = [&](const char* name) { return h.value(out, s, name, t, r); };
          const auto where = ::testing::Message() << "trajectory " << i << " scenario " << s
                                                  << " month " << t << " region " << r;
          for (const char* count : {"headcount", "leavers", "hires", "vacancies"}) {
            ASSERT_GE(v(count), 0.0) << count << " " << where;
            ASSERT_EQ(v(count), std::floor(v(count))) << count << " is an integer " << where;
          }
          if (t > 0) {
            // Stock conservation: progression moves staff between tenure bands only.
            ASSERT_EQ(v("headcount"),
                      h.value(out, s, "headcount", t - 1, r) + v("hires") - v("leavers"))
                << where;
          }
          ASSERT_GE(v("delivered_hours"), 0.0) << where;
          ASSERT_LE(v("delivered_hours"), v("supplied_hours") * (1 + 1e-12)) << where;
          ASSERT_LE(v("delivered_hours"), v("demand_hours") * (1 + 1e-12)) << where;
          ASSERT_NEAR(v("unmet_hours"), v("demand_hours") - v("delivered_hours"),
                      1e-9 * v("demand_hours"))
              << where;
        }
      }
    }
  }
}

TEST(CareWfStochastic, TrajectoryDependsOnlyOnItsIndex) {
  Harness h(testing::load_file(tiny_path()));
  std::vector<std::vector<double>> forward;
  for (std::uint32_t i = 0; i < 10; ++i) forward.push_back(h.trajectory(i));
  // Regenerate in reverse and interleaved order, with the scratch reused: identical.
  for (std::uint32_t i = 10; i-- > 0;) EXPECT_EQ(h.trajectory(i), forward[i]) << i;
  for (std::uint32_t i : {7u, 2u, 9u, 0u, 5u}) EXPECT_EQ(h.trajectory(i), forward[i]) << i;
  EXPECT_NE(forward[0], forward[1]);
}

TEST(CareWfStochastic, ScenarioEqualToTheBaseGivesIdenticalTrajectories) {
  auto document = testing::parse_text(
      "[run]\ntrajectories = 20\nmonths = 36\nseed = 3\n"
      "[[scenario]]\nname = \"same\"\nset = {}\n"
      "[[scenario]]\nname = \"same_value\"\nset = { \"policy.wage\" = \"nlw\" }\n");
  Harness h(document);
  const std::size_t cells = h.layout.cells_per_scenario();
  for (std::uint32_t i = 0; i < 20; ++i) {
    const auto out = h.trajectory(i);
    for (std::size_t s = 1; s < 3; ++s) {
      for (std::size_t c = 0; c < cells; ++c) {
        ASSERT_EQ(out[s * cells + c], out[c]) << "scenario " << s << " trajectory " << i;
      }
    }
  }
}

// Sample variance.
double variance(const std::vector<double>& x) {
  double mean = 0.0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double ss = 0.0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return ss / static_cast<double>(x.size() - 1);
}

TEST(CareWfStochastic, CommonRandomNumbersMakePairedDifferencesQuiet) {
  // A small policy change: half a point more budget growth a year.
  auto document = testing::parse_text(
      std::string("[run]\ntrajectories = 1\n") +
      "[[scenario]]\nname = \"more_budget\"\nset = { \"funding.budget_growth_mean\" = 0.045 }\n");
  Harness h(document);
  const int t = h.layout.months - 1;
  const std::size_t total = h.layout.regions.size() - 1;
  std::vector<double> base, scenario, paired;
  for (std::uint32_t i = 0; i < kTrajectories; ++i) {
    const auto out = h.trajectory(i);
    base.push_back(h.value(out, 0, "unmet_hours", t, total));
    scenario.push_back(h.value(out, 1, "unmet_hours", t, total));
    paired.push_back(scenario.back() - base.back());
  }
  // Independent runs would give Var(scenario) + Var(base) for the difference. With N = 200 the
  // sample variance of the paired difference is within a factor 1.5 of its true value with
  // probability > 0.999 (chi-square with 199 df), so a ratio below 0.05 means the true
  // variance-reduction factor is at most ~0.075; the change is small, so CRN should give
  // far less (measured: see the failure message).
  const double ratio = variance(paired) / (variance(base) + variance(scenario));
  EXPECT_LT(ratio, 0.05) << "variance reduction factor " << ratio;
  EXPECT_GT(variance(base), 0.0);
}

}  // namespace
}  // namespace carecast

namespace carecast {
namespace {

TEST(CareWfStochastic, GivenParameterValuesReplaceTheDrawsAndNothingElse) {
  // tiny.toml draws workforce.beta_w; a design gives it -1.0 in every scenario. The trajectory
  // must equal that of a configuration where beta_w is the number -1.0: parameters have their
  // own streams, so fixing one leaves every other draw in place.
  Harness drawn(testing::load_file(tiny_path()));
  auto fixed_document = testing::load_file(tiny_path());
  fixed_document.set("workforce.beta_w", toml::value<double>(-1.0));
  Harness fixed(fixed_document);

  const auto& names = drawn.layout.parameters;
  const std::size_t beta = testing::index_of(names, "workforce.beta_w");
  ASSERT_LT(beta, names.size());
  const std::size_t S = drawn.layout.scenarios.size(), K = names.size();
  std::vector<double> given(S * K, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t s = 0; s < S; ++s) given[s * K + beta] = -1.0;

  for (std::uint32_t i = 0; i < 5; ++i) {
    std::vector<double> out(drawn.layout.cells()), parameters(S * K);
    drawn.model->simulate_given(drawn.settings.seed, i, *drawn.scratch, out, parameters, given);
    EXPECT_EQ(out, fixed.trajectory(i)) << "trajectory " << i;
    for (std::size_t s = 0; s < S; ++s) EXPECT_EQ(parameters[s * K + beta], -1.0);
    // The other parameters are still drawn: as without a design.
    std::vector<double> free_out(drawn.layout.cells()), free_parameters(S * K);
    drawn.model->simulate(drawn.settings.seed, i, *drawn.scratch, free_out, free_parameters);
    for (std::size_t k = 0; k < K; ++k) {
      if (k != beta) {
        EXPECT_EQ(parameters[k], free_parameters[k]) << names[k];
      }
    }
    EXPECT_NE(free_parameters[beta], -1.0);
  }
}

TEST(CareWfStochastic, RunnerPassesADesignThroughToTheSavedParameters) {
  auto document = testing::load_file(tiny_path());
  document.set("output.save_trajectories", toml::value<std::int64_t>(8));
  const auto settings = engine::read_run_settings(document);
  const auto model = models::make_model(document, settings);
  const auto& names = model->layout().parameters;
  const std::size_t K = names.size();
  const std::size_t gamma = testing::index_of(names, "workforce.gamma_w");
  ASSERT_LT(gamma, K);
  engine::RunnerOptions options;
  options.seed = settings.seed;
  options.trajectories = 8;
  options.quantiles = settings.quantiles;
  options.save_trajectories = 8;
  // A one-at-a-time design: gamma_w = 1, 2, ..., 8 in trajectories 0..7, in every scenario.
  options.given_parameters = [&](std::uint64_t trajectory, std::span<double> values) {
    for (std::size_t s = 0; s < values.size() / K; ++s) {
      values[s * K + gamma] = static_cast<double>(trajectory + 1);
    }
  };
  const auto result = engine::run(*model, options);
  for (std::size_t s = 0; s < result.scenarios.size(); ++s) {
    for (std::size_t i = 0; i < 8; ++i) {
      EXPECT_EQ(result.parameter_values[s][i * K + gamma], static_cast<double>(i + 1));
    }
  }
}

}  // namespace
}  // namespace carecast

namespace carecast {
namespace {

TEST(CareWfStochastic, ABatchGivesEachTrajectoryExactlyWhatItGetsAlone) {
  // The runner steps trajectories in batches of the model's lanes; which trajectories share a
  // batch, and how many, must change nothing. Batches of every size from 1 to batch_size(), at
  // several starts, with a design giving some lanes a parameter value and not others.
  Harness h(testing::load_file(tiny_path()));
  const std::size_t batch = h.model->batch_size();
  ASSERT_GT(batch, 1u);
  const std::size_t S = h.layout.scenarios.size(), K = h.layout.parameters.size();
  const std::size_t beta = testing::index_of(h.layout.parameters, "workforce.beta_w");
  ASSERT_LT(beta, K);
  const double kDraw = std::numeric_limits<double>::quiet_NaN();
  // Trajectory i is given beta_w = -0.5 in every scenario when i is a multiple of 3.
  const auto design = [&](std::uint32_t i, std::span<double> values) {
    std::fill(values.begin(), values.end(), kDraw);
    if (i % 3 == 0) {
      for (std::size_t s = 0; s < S; ++s) values[s * K + beta] = -0.5;
    }
  };
  for (std::uint32_t first : {0u, 5u, 123u}) {
    for (std::size_t count = 1; count <= batch; ++count) {
      std::vector<double> out(count * h.layout.cells()), parameters(count * S * K),
          given(count * S * K);
      for (std::size_t j = 0; j < count; ++j) {
        design(first + static_cast<std::uint32_t>(j),
               std::span(given).subspan(j * S * K, S * K));
      }
      h.model->simulate_batch(h.settings.seed, first, count, *h.scratch,
                              engine::BatchOutput::contiguous(out, h.layout.cells()), parameters,
                              given);
      for (std::size_t j = 0; j < count; ++j) {
        const auto i = first + static_cast<std::uint32_t>(j);
        std::vector<double> alone(h.layout.cells()), alone_parameters(S * K), alone_given(S * K);
        design(i, alone_given);
        h.model->simulate_given(h.settings.seed, i, *h.scratch, alone, alone_parameters,
                                alone_given);
        const auto where = ::testing::Message()
                           << "trajectory " << i << " in a batch of " << count << " from " << first;
        ASSERT_TRUE(std::equal(alone.begin(), alone.end(), out.begin() + j * h.layout.cells()))
            << where;
        ASSERT_TRUE(std::equal(alone_parameters.begin(), alone_parameters.end(),
                               parameters.begin() + j * S * K))
            << where;
      }
    }
  }
}

TEST(CareWfStochastic, ABatchOfTheWrongSizeIsRejected) {
  Harness h(testing::load_file(tiny_path()));
  const std::size_t batch = h.model->batch_size();
  const std::size_t S = h.layout.scenarios.size(), K = h.layout.parameters.size();
  for (std::size_t count : {std::size_t{0}, batch + 1}) {
    std::vector<double> out(count * h.layout.cells()), parameters(count * S * K);
    EXPECT_THROW(h.model->simulate_batch(h.settings.seed, 0, count, *h.scratch,
                                         engine::BatchOutput::contiguous(out, h.layout.cells()),
                                         parameters, {}),
                 std::invalid_argument)
        << count;
  }
}

}  // namespace
}  // namespace carecast

namespace carecast {
namespace {

TEST(CareWfStochastic, ABatchWrittenTransposedHoldsTheSameValues) {
  // The runner has the model write cell c of trajectory j at data[c * stride + j]; the values
  // must be those of the contiguous layout, and nothing outside the batch's columns is touched.
  // A part batch and a full one (which the model writes a cell at a time).
  Harness h(testing::load_file(tiny_path()));
  const std::size_t batch = h.model->batch_size(), cells = h.layout.cells();
  const std::size_t S = h.layout.scenarios.size(), K = h.layout.parameters.size();
  const std::size_t stride = batch + 3, offset = 2;
  for (std::size_t count : {batch - 1, batch}) {
    std::vector<double> contiguous(count * cells), parameters(count * S * K);
    h.model->simulate_batch(h.settings.seed, 40, count, *h.scratch,
                            engine::BatchOutput::contiguous(contiguous, cells), parameters, {});
    const double kUntouched = -12345.0;
    std::vector<double> transposed(cells * stride, kUntouched);
    h.model->simulate_batch(h.settings.seed, 40, count, *h.scratch,
                            engine::BatchOutput{transposed.data() + offset, stride, 1},
                            parameters, {});
    for (std::size_t c = 0; c < cells; ++c) {
      for (std::size_t column = 0; column < stride; ++column) {
        const double value = transposed[c * stride + column];
        if (column >= offset && column < offset + count) {
          ASSERT_EQ(value, contiguous[(column - offset) * cells + c]) << "cell " << c;
        } else {
          ASSERT_EQ(value, kUntouched) << "cell " << c << " column " << column;
        }
      }
    }
  }
}

TEST(CareWfStochastic, SteppingMonthByMonthGivesTheBatchsValues) {
  // The runner begins the batches of a block, then steps them a month at a time, writing cell
  // month_index(s, v, r) of month t of trajectory j at data[cell * stride + j]. The values and
  // parameters must be simulate_batch()'s bit for bit, whatever batches went through the same
  // state and scratch before (a part batch, then a full one, then given parameters), and
  // nothing outside the batch's columns is touched.
  Harness h(testing::load_file(tiny_path()));
  const std::size_t batch = h.model->batch_size(), cells = h.layout.cells();
  const std::size_t S = h.layout.scenarios.size(), K = h.layout.parameters.size();
  const std::size_t V = h.layout.variables.size(), R = h.layout.regions.size();
  const std::size_t stride = batch + 3, offset = 1;
  auto state = h.model->make_batch_state();
  auto other = h.model->make_batch_state();
  ASSERT_GE(K, 1u);
  for (std::size_t round = 0; round < 3; ++round) {
    const std::size_t count = round == 0 ? batch - 1 : batch;
    const auto first = static_cast<std::uint32_t>(17 + round * batch);
    std::vector<double> contiguous(count * cells), parameters(count * S * K);
    h.model->simulate_batch(h.settings.seed, first, count, *h.scratch,
                            engine::BatchOutput::contiguous(contiguous, cells), parameters, {});
    std::vector<double> given;
    if (round == 2) {  // lane 1 is given lane 0's first parameter of the base scenario
      given.assign(count * S * K, std::numeric_limits<double>::quiet_NaN());
      given[(1 * S + 0) * K] = parameters[0];
      h.model->simulate_batch(h.settings.seed, first, count, *h.scratch,
                              engine::BatchOutput::contiguous(contiguous, cells), parameters,
                              given);
      ASSERT_EQ(parameters[(1 * S + 0) * K], parameters[0]);
    }
    std::vector<double> stepped_parameters(count * S * K, -1.0);
    h.model->begin_batch(h.settings.seed, first, count, *h.scratch, *state, stepped_parameters,
                         given);
    // Another batch begun and stepped in between, through the same scratch.
    std::vector<double> other_parameters(batch * S * K);
    h.model->begin_batch(h.settings.seed, 1000, batch, *h.scratch, *other, other_parameters, {});
    ASSERT_EQ(stepped_parameters, parameters);
    const double kUntouched = -12345.0;
    for (int t = 0; t < h.layout.months; ++t) {
      std::vector<double> month(h.layout.cells_per_month() * stride, kUntouched);
      std::vector<double> scrap(h.layout.cells_per_month() * batch);
      h.model->step(*h.scratch, *state, t,
                    engine::BatchOutput{month.data() + offset, stride, 1});
      h.model->step(*h.scratch, *other, t, engine::BatchOutput{scrap.data(), batch, 1});
      for (std::size_t s = 0; s < S; ++s) {
        for (std::size_t v = 0; v < V; ++v) {
          for (std::size_t r = 0; r < R; ++r) {
            const std::size_t c = h.layout.index(s, v, static_cast<std::size_t>(t), r);
            const std::size_t m = h.layout.month_index(s, v, r);
            for (std::size_t column = 0; column < stride; ++column) {
              const double value = month[m * stride + column];
              if (column >= offset && column < offset + count) {
                ASSERT_EQ(value, contiguous[(column - offset) * cells + c])
                    << "round " << round << " month " << t << " cell " << c;
              } else {
                ASSERT_EQ(value, kUntouched) << "month " << t << " column " << column;
              }
            }
          }
        }
      }
    }
  }
  std::vector<double> month(h.layout.cells_per_month() * batch);
  EXPECT_THROW(h.model->step(*h.scratch, *state, h.layout.months,
                             engine::BatchOutput{month.data(), batch, 1}),
               std::out_of_range);
  // A state made by another Simulator (here the interface's default) is refused.
  auto foreign = h.model->engine::Simulator::make_batch_state();
  std::vector<double> parameters(batch * S * K);
  EXPECT_THROW(h.model->begin_batch(h.settings.seed, 0, batch, *h.scratch, *foreign, parameters, {}),
               std::bad_cast);
  EXPECT_THROW(h.model->step(*h.scratch, *foreign, 0, engine::BatchOutput{month.data(), batch, 1}),
               std::bad_cast);
  auto fresh = h.model->make_batch_state();
  EXPECT_THROW(h.model->step(*h.scratch, *fresh, 0, engine::BatchOutput{month.data(), batch, 1}),
               std::logic_error);
}

}  // namespace
}  // namespace carecast
