// The model step: care_wf on the default West Midlands data, one trajectory at a time, without
// the runner's reductions.
//
//   CareWf/baseline/trajectory        Simulator::simulate() of one trajectory of the baseline
//                                     scenario (data/scenarios/wm_baseline.toml, baseline only):
//                                     parameter draws, initial state and 120 months. Items are
//                                     trajectory-months, so 1 / items_per_second is one month of
//                                     one trajectory, draws included.
//   CareWf/all_scenarios/trajectory   the same with the file's four scenarios (items:
//                                     scenario-months).
//   CareWf/baseline/replay            the same trajectories with every shock and binomial flow
//                                     taken from a pre-filled buffer (CareWf::simulate_replaying
//                                     with a DrawTape recorded beforehand), so that the model's
//                                     own arithmetic shows apart from sampling (the three
//                                     per-trajectory parameter draws are still sampled).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "engine/run_settings.h"
#include "engine/simulator.h"
#include "models/care_wf.h"
#include "models/model_factory.h"
#include "bench/default_document.h"

namespace {

namespace engine = carecast::engine;
namespace models = carecast::models;

void Trajectory(benchmark::State& state, bool all_scenarios) {
  const auto doc = carecast::bench::default_document(all_scenarios);
  const auto settings = engine::read_run_settings(doc);
  const auto model = models::make_model(doc, settings);
  const auto& layout = model->layout();
  auto scratch = model->make_scratch();
  std::vector<double> out(layout.cells());
  std::vector<double> parameters(layout.scenarios.size() * layout.parameters.size());
  std::uint32_t trajectory = 0;
  for (auto _ : state) {
    model->simulate(settings.seed, trajectory++, *scratch, out, parameters);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const auto months = static_cast<std::int64_t>(layout.months) *
                      static_cast<std::int64_t>(layout.scenarios.size());
  state.SetItemsProcessed(state.iterations() * months);
  state.counters["scenarios"] = static_cast<double>(layout.scenarios.size());
  state.counters["months"] = layout.months;
}

// Replays tapes recorded for kTapes trajectories, in turn.
void Replay(benchmark::State& state) {
  constexpr std::uint32_t kTapes = 16;
  const auto doc = carecast::bench::default_document(false);
  const auto settings = engine::read_run_settings(doc);
  const auto model = models::make_model(doc, settings);
  const auto* care_wf = dynamic_cast<const models::CareWf*>(model.get());
  if (care_wf == nullptr) {
    state.SkipWithError("the default model is not care_wf");
    return;
  }
  const auto& layout = model->layout();
  auto scratch = model->make_scratch();
  std::vector<double> out(layout.cells());
  std::vector<double> parameters(layout.scenarios.size() * layout.parameters.size());
  std::vector<models::DrawTape> tapes(kTapes);
  for (std::uint32_t j = 0; j < kTapes; ++j) {
    care_wf->simulate_recording(settings.seed, j, *scratch, out, parameters, tapes[j]);
  }
  std::uint32_t trajectory = 0;
  for (auto _ : state) {
    care_wf->simulate_replaying(settings.seed, trajectory, *scratch, out, parameters,
                                tapes[trajectory]);
    trajectory = (trajectory + 1) % kTapes;
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * layout.months);
  state.counters["scenarios"] = 1;
  state.counters["months"] = layout.months;
  state.counters["tape_values"] = static_cast<double>(tapes[0].values.size());
}

}  // namespace

BENCHMARK_CAPTURE(Trajectory, baseline, false)->Name("CareWf/baseline/trajectory");
BENCHMARK(Replay)->Name("CareWf/baseline/replay");
BENCHMARK_CAPTURE(Trajectory, all_scenarios, true)->Name("CareWf/all_scenarios/trajectory");

BENCHMARK_MAIN();
