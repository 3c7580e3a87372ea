// The Simulator interface's default batch (one trajectory at a time, written through a strided
// BatchOutput), its default month-by-month stepping, and the runner with a model that has no
// lanes.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "engine/runner.h"
#include "engine/simulator.h"

namespace carecast::engine {
namespace {

// Two scenarios, two variables, three months, two regions; trajectory i's cell c of scenario s
// is i + 1000 * s + c / 10, its one parameter i / 2. No randomness: every value is known.
class Arithmetic final : public Simulator {
 public:
  Arithmetic() {
    layout_.scenarios = {"base", "other"};
    layout_.variables = {"x", "y"};
    layout_.regions = {"a", "b"};
    layout_.parameters = {"half"};
    layout_.months = 3;
    layout_.units = {"u", "u"};
    layout_.long_names = {"X", "Y"};
    layout_.better = {+1, 0};
  }
  const OutputLayout& layout() const override { return layout_; }
  std::unique_ptr<SimulatorScratch> make_scratch() const override {
    return std::make_unique<SimulatorScratch>();
  }
  void simulate_given(std::uint64_t, std::uint32_t trajectory, SimulatorScratch&,
                      std::span<double> out, std::span<double> parameters,
                      std::span<const double>) const override {
    const std::size_t per = layout_.cells_per_scenario();
    for (std::size_t c = 0; c < out.size(); ++c) out[c] = value(trajectory, c / per, c % per);
    for (std::size_t s = 0; s < parameters.size(); ++s) parameters[s] = trajectory / 2.0;
  }
  static double value(std::uint32_t i, std::size_t s, std::size_t c) {
    return i + 1000.0 * static_cast<double>(s) + static_cast<double>(c) / 10.0;
  }

 private:
  OutputLayout layout_;
};

TEST(Simulator, DefaultBatchWritesEachTrajectoryThroughTheStrides) {
  const Arithmetic model;
  auto scratch = model.make_scratch();
  const std::size_t cells = model.layout().cells(), count = 3, stride = 5;
  std::vector<double> transposed(cells * stride, -1.0), parameters(count * 2);
  model.simulate_batch(7, 40, count, *scratch, BatchOutput{transposed.data() + 1, stride, 1},
                       parameters, {});
  const std::size_t per = model.layout().cells_per_scenario();
  for (std::size_t c = 0; c < cells; ++c) {
    for (std::size_t column = 0; column < stride; ++column) {
      const double expected = column >= 1 && column <= count
                                  ? Arithmetic::value(static_cast<std::uint32_t>(40 + column - 1),
                                                      c / per, c % per)
                                  : -1.0;
      ASSERT_EQ(transposed[c * stride + column], expected) << c << " " << column;
    }
  }
  EXPECT_EQ(parameters, (std::vector<double>{20, 20, 20.5, 20.5, 21, 21}));
}

TEST(Simulator, DefaultSteppingHandsOutEachMonthOfTheBatch) {
  const Arithmetic model;
  const OutputLayout& layout = model.layout();
  auto scratch = model.make_scratch();
  auto state = model.make_batch_state();
  const std::size_t month_cells = layout.cells_per_month(), stride = 4;
  EXPECT_EQ(month_cells, 2u * 2u * 2u);
  // Two batches in turn through the same state, the second starting where the first did not.
  for (const std::uint32_t first : {5u, 40u}) {
    std::vector<double> parameters(2);
    model.begin_batch(7, first, 1, *scratch, *state, parameters, {});
    EXPECT_EQ(parameters, (std::vector<double>{first / 2.0, first / 2.0}));
    for (int t = 0; t < layout.months; ++t) {
      std::vector<double> month(month_cells * stride, -1.0);
      model.step(*scratch, *state, t, BatchOutput{month.data() + 2, stride, 1});
      for (std::size_t s = 0; s < 2; ++s) {
        for (std::size_t v = 0; v < 2; ++v) {
          for (std::size_t r = 0; r < 2; ++r) {
            const std::size_t cell = layout.month_index(s, v, r);
            const std::size_t c = layout.index(0, v, static_cast<std::size_t>(t), r);
            for (std::size_t column = 0; column < stride; ++column) {
              const double expected = column == 2 ? Arithmetic::value(first, s, c) : -1.0;
              ASSERT_EQ(month[cell * stride + column], expected) << t << " " << cell;
            }
          }
        }
      }
    }
  }
  std::vector<double> month(month_cells);
  EXPECT_THROW(model.step(*scratch, *state, layout.months, BatchOutput{month.data(), 1, 1}),
               std::out_of_range);
}

TEST(Simulator, TheRunnerSummarisesAModelWithoutLanes) {
  const Arithmetic model;
  ASSERT_EQ(model.batch_size(), 1u);
  RunnerOptions options;
  options.trajectories = 21;  // not a multiple of the block
  options.block_size = 4;
  options.threads = 2;
  options.quantiles = {0.5};
  options.save_trajectories = 3;
  const RunResult result = run(model, options);
  // Trajectories 0..20: the mean of i is 10, its sd sqrt(38.5); the other scenario is 1000
  // higher everywhere, so its difference from the base is exactly 1000 and always "better".
  const std::size_t plane = 3 * 2;
  for (std::size_t v = 0; v < 2; ++v) {
    for (std::size_t c = 0; c < plane; ++c) {
      const double cell = static_cast<double>(v * plane + c) / 10.0;
      EXPECT_DOUBLE_EQ(result.mean[0][v][c], 10.0 + cell);
      EXPECT_DOUBLE_EQ(result.mean[1][v][c], 1010.0 + cell);
      EXPECT_NEAR(result.sd[0][v][c], std::sqrt(38.5), 1e-12);
      EXPECT_DOUBLE_EQ(result.diff_mean[1][v][c], 1000.0);
      EXPECT_DOUBLE_EQ(result.diff_sd[1][v][c], 0.0);
    }
  }
  for (double p : result.p_better[1][0]) EXPECT_EQ(p, 1.0);
  // Saved trajectory 2, scenario 1, variable y, cell 4.
  EXPECT_FLOAT_EQ(result.trajectory[1][1][2 * plane + 4],
                  static_cast<float>(Arithmetic::value(2, 1, plane + 4)));
  EXPECT_EQ(result.parameter_values[0][2], 1.0);
}

// Arithmetic, except that trajectory `bad` throws.
class FailsAt final : public Simulator {
 public:
  explicit FailsAt(std::uint32_t bad) : bad_(bad) {}
  const OutputLayout& layout() const override { return model_.layout(); }
  std::unique_ptr<SimulatorScratch> make_scratch() const override {
    return model_.make_scratch();
  }
  void simulate_given(std::uint64_t seed, std::uint32_t trajectory, SimulatorScratch& scratch,
                      std::span<double> out, std::span<double> parameters,
                      std::span<const double> given) const override {
    if (trajectory == bad_) throw std::runtime_error("trajectory failed");
    model_.simulate_given(seed, trajectory, scratch, out, parameters, given);
  }

 private:
  Arithmetic model_;
  std::uint32_t bad_;
};

TEST(Simulator, AModelsErrorStopsTheRunAndReachesTheCaller) {
  // Blocks of 4 on 2 threads, the failing block first, in the middle or last: the error comes
  // out of run() as thrown (no hang, no other error in its place).
  for (const std::uint32_t bad : {0u, 37u, 399u}) {
    const FailsAt model(bad);
    RunnerOptions options;
    options.trajectories = 400;
    options.block_size = 4;
    options.threads = 2;
    options.quantiles = {0.5};
    try {
      run(model, options);
      ADD_FAILURE() << "no error for trajectory " << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "trajectory failed");
    }
  }
}

}  // namespace
}  // namespace carecast::engine
