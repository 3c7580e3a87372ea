// care_wf: adult social care demand, workforce and funding, month by month (../shared/MODEL.md).
//
// One trajectory draws its uncertain parameters, builds the initial workforce and budget from
// the base configuration, then runs every scenario from that same start with the same random
// numbers (common random numbers): each variate is addressed by (seed, trajectory, site, month).
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/draw_log.h"
#include "engine/run_settings.h"
#include "engine/simulator.h"
#include "models/care_wf_config.h"

namespace carecast::models {

// A trajectory's shocks and binomial flows, in the order drawn: recorded from one run and
// replayed in another, to time the model's own arithmetic apart from sampling (bench/).
struct DrawTape {
  std::vector<double> values;
};

class CareWf final : public engine::Simulator {
 public:
  // scenarios[0] is the base configuration.
  CareWf(std::vector<std::string> scenario_names, std::vector<CareWfConfig> scenarios,
         engine::Mode mode, engine::YearMonth start, int months);

  // The output variables, in output order.
  static const std::vector<std::string>& variables();

  const engine::OutputLayout& layout() const override { return layout_; }
  std::unique_ptr<engine::SimulatorScratch> make_scratch() const override;
  void simulate_given(std::uint64_t seed, std::uint32_t trajectory,
                      engine::SimulatorScratch& scratch, std::span<double> out,
                      std::span<double> parameters, std::span<const double> given) const override;
  // Trajectories run in engine::kLanes lanes (engine/lane_samplers.h).
  std::size_t batch_size() const override;
  void simulate_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                      engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                      std::span<double> parameters, std::span<const double> given) const override;
  // A month at a time: every scenario's state is kept in the batch state between months.
  std::unique_ptr<engine::BatchState> make_batch_state() const override;
  void begin_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                   engine::SimulatorScratch& scratch, engine::BatchState& state,
                   std::span<double> parameters, std::span<const double> given) const override;
  void step(engine::SimulatorScratch& scratch, engine::BatchState& state, int month,
            const engine::BatchOutput& out) const override;

  // simulate_batch(), recording every shock and flow of every lane into `tape`; and
  // simulate_batch() taking them from a tape recorded for the same batch instead of sampling.
  void simulate_recording(std::uint64_t seed, std::uint32_t first, std::size_t count,
                          engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                          std::span<double> parameters, DrawTape& tape) const;
  void simulate_replaying(std::uint64_t seed, std::uint32_t first, std::size_t count,
                          engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                          std::span<double> parameters, const DrawTape& tape) const;
  // simulate_batch() with every draw logged, inputs and addresses, into `log` (which holds one
  // batch): log.replay() then makes the same draws, the model's sampling alone (bench/).
  void simulate_logging(std::uint64_t seed, std::uint32_t first, std::size_t count,
                        engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                        std::span<double> parameters, engine::DrawLog& log) const;

  const CareWfConfig& config(std::size_t scenario) const { return scenarios_[scenario]; }

 private:
  struct Parameters;
  struct MonthPrices;
  struct Scratch;
  struct ScenarioState;
  struct Batch;
  class Draws;
  // Where a month's outputs go: variable v of region r in month t of a scenario at cell
  // v * variable + t * month + r of `out`, scenario k's cells starting at k * scenario.
  struct Cells {
    engine::BatchOutput out;
    std::size_t scenario, variable, month;
  };

  static void check_count(std::size_t count);
  // The whole batch, its months in turn, into the cells of OutputLayout::index.
  void simulate(Draws draws, engine::SimulatorScratch& scratch, const engine::BatchOutput& out,
                std::span<double> parameters, std::span<const double> given) const;
  void begin(Draws draws, engine::SimulatorScratch& scratch, Batch& batch,
             std::span<double> parameters, std::span<const double> given) const;
  void step_month(engine::SimulatorScratch& scratch, Batch& batch, int t,
                  const Cells& cells) const;
  void draw_parameters(const CareWfConfig& config, const Draws& draws, std::size_t lane,
                       std::span<const double> given, Parameters& values) const;
  void initial_state(const Draws& draws, Scratch& s) const;
  void start_scenario(std::size_t scenario, const Scratch& s, ScenarioState& st) const;
  void step_scenario(std::size_t scenario, Draws& draws, Scratch& s, ScenarioState& st, int t,
                     const Cells& cells) const;

  std::vector<CareWfConfig> scenarios_;
  engine::Mode mode_;
  int months_;
  std::vector<int> calendar_month_;            // [t] 1..12
  std::vector<std::vector<double>> monthly_growth_;  // [scenario][R * A]: (1 + g)^(1/12)
  // [scenario][provider]: logits of the base turnover rates (new, settled) and fill rates.
  std::vector<std::vector<std::array<double, 2>>> logit_turnover_;
  std::vector<std::vector<double>> logit_fill_;
  std::vector<int> uncertain_;                 // Param indices drawn in some scenario
  engine::OutputLayout layout_;
};

}  // namespace carecast::models
