// The model step: care_wf on the default West Midlands data, one batch of trajectories (the
// model's lanes, as the runner calls it) at a time, its outputs written in the runner's layout,
// without the runner's reductions.
//
//   CareWf/baseline/trajectory        Simulator::simulate_batch() of batch_size() trajectories of
//                                     the baseline scenario (data/scenarios/wm_baseline.toml,
//                                     baseline only): parameter draws, initial state and 120
//                                     months. Items are trajectory-months, so 1 / items_per_second
//                                     is one month of one trajectory, draws included.
//   CareWf/all_scenarios/trajectory   the same with the file's four scenarios (items:
//                                     scenario-months).
//   CareWf/baseline/replay            the same batches with every shock and binomial flow
//                                     taken from a pre-filled buffer (CareWf::simulate_replaying
//                                     with a DrawTape recorded beforehand), so that the model's
//                                     own arithmetic shows apart from sampling (the three
//                                     per-trajectory parameter draws are still sampled).
//   CareWf/baseline/draws             the sampling floor: the same batches' draws alone, every
//                                     lane sampler call the model made (parameters, binomial
//                                     probabilities, binomials, normal shocks) made again with
//                                     the same inputs at the same stream addresses from an
//                                     engine::DrawLog recorded beforehand
//                                     (CareWf::simulate_logging), without the model's arithmetic.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "engine/cache_line.h"
#include "engine/draw_log.h"
#include "engine/run_settings.h"
#include "engine/simulator.h"
#include "models/care_wf.h"
#include "models/model_factory.h"
#include "bench/default_document.h"

namespace {

namespace engine = carecast::engine;
namespace models = carecast::models;

// A batch's outputs as the runner's month buffer receives them (engine/runner.cpp), but for
// every month at once: starting on a cache line, cell by cell, the batch's values of a cell side
// by side (for a full batch of 8, one line per cell).
class Stage {
 public:
  Stage(std::size_t cells, std::size_t batch)
      : values_(cells * batch + engine::kCacheLineDoubles), batch_(batch) {}
  engine::BatchOutput output() { return {engine::align_to_line(values_.data()), batch_, 1}; }
  const double* data() const { return values_.data(); }

 private:
  std::vector<double> values_;
  std::size_t batch_;
};

void Trajectory(benchmark::State& state, bool all_scenarios) {
  const auto doc = carecast::bench::default_document(all_scenarios);
  const auto settings = engine::read_run_settings(doc);
  const auto model = models::make_model(doc, settings);
  const auto& layout = model->layout();
  auto scratch = model->make_scratch();
  const std::size_t batch = model->batch_size();
  Stage out(layout.cells(), batch);
  std::vector<double> parameters(layout.scenarios.size() * layout.parameters.size() * batch);
  std::uint32_t first = 0;
  for (auto _ : state) {
    model->simulate_batch(settings.seed, first, batch, *scratch, out.output(), parameters, {});
    first += static_cast<std::uint32_t>(batch);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const auto months = static_cast<std::int64_t>(layout.months) *
                      static_cast<std::int64_t>(layout.scenarios.size()) *
                      static_cast<std::int64_t>(batch);
  state.SetItemsProcessed(state.iterations() * months);
  state.counters["scenarios"] = static_cast<double>(layout.scenarios.size());
  state.counters["months"] = layout.months;
}

// The default baseline's care_wf with what a batch of it needs: the Replay and Draws benchmarks
// record each batch once and then time that record's replay.
struct BaselineBatches {
  BaselineBatches()
      : doc(carecast::bench::default_document(false)),
        settings(engine::read_run_settings(doc)),
        model(models::make_model(doc, settings)),
        care_wf(dynamic_cast<const models::CareWf*>(model.get())),
        scratch(model->make_scratch()),
        batch(model->batch_size()),
        out(model->layout().cells(), batch),
        parameters(model->layout().scenarios.size() * model->layout().parameters.size() *
                   batch) {}
  std::uint32_t first(std::uint32_t j) const { return j * static_cast<std::uint32_t>(batch); }

  engine::ConfigDocument doc;
  engine::RunSettings settings;
  std::unique_ptr<engine::Simulator> model;
  const models::CareWf* care_wf;  // null if the default model is not care_wf
  std::unique_ptr<engine::SimulatorScratch> scratch;
  std::size_t batch;
  Stage out;
  std::vector<double> parameters;
};

// Replays tapes recorded for kTapes batches, in turn.
void Replay(benchmark::State& state) {
  constexpr std::uint32_t kTapes = 16;
  BaselineBatches b;
  if (b.care_wf == nullptr) {
    state.SkipWithError("the default model is not care_wf");
    return;
  }
  const auto into = b.out.output();
  std::vector<models::DrawTape> tapes(kTapes);
  for (std::uint32_t j = 0; j < kTapes; ++j) {
    b.care_wf->simulate_recording(b.settings.seed, b.first(j), b.batch, *b.scratch, into,
                                  b.parameters, tapes[j]);
  }
  std::uint32_t j = 0;
  for (auto _ : state) {
    b.care_wf->simulate_replaying(b.settings.seed, b.first(j), b.batch, *b.scratch, into,
                                  b.parameters, tapes[j]);
    j = (j + 1) % kTapes;
    benchmark::DoNotOptimize(b.out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * b.model->layout().months *
                          static_cast<std::int64_t>(b.batch));
  state.counters["scenarios"] = 1;
  state.counters["months"] = b.model->layout().months;
  state.counters["tape_values_per_trajectory"] =
      static_cast<double>(tapes[0].values.size()) / static_cast<double>(b.batch);
}

// Replays the draw logs of kLogs batches, in turn.
void Draws(benchmark::State& state) {
  constexpr std::uint32_t kLogs = 16;
  BaselineBatches b;
  if (b.care_wf == nullptr) {
    state.SkipWithError("the default model is not care_wf");
    return;
  }
  const auto& layout = b.model->layout();
  const std::size_t batch = b.batch;
  std::vector<engine::DrawLog> logs(kLogs);
  for (std::uint32_t j = 0; j < kLogs; ++j) {
    b.care_wf->simulate_logging(b.settings.seed, b.first(j), batch, *b.scratch, b.out.output(),
                                b.parameters, logs[j]);
  }
  std::uint32_t j = 0;
  double sum = 0;
  for (auto _ : state) {
    sum += logs[j].replay();
    j = (j + 1) % kLogs;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * layout.months *
                          static_cast<std::int64_t>(batch));
  // A binomial or normal call draws one variate per lane, so per trajectory; a parameter draw is
  // one lane's.
  state.counters["months"] = layout.months;
  state.counters["binomials_per_trajectory"] = static_cast<double>(logs[0].binomials());
  state.counters["normals_per_trajectory"] = static_cast<double>(logs[0].normals());
  state.counters["parameters_per_trajectory"] =
      static_cast<double>(logs[0].parameters()) / static_cast<double>(batch);
  state.counters["probability_makings_per_batch"] =
      static_cast<double>(logs[0].probability_makings());
}

}  // namespace

BENCHMARK_CAPTURE(Trajectory, baseline, false)->Name("CareWf/baseline/trajectory");
BENCHMARK(Replay)->Name("CareWf/baseline/replay");
BENCHMARK(Draws)->Name("CareWf/baseline/draws");
BENCHMARK_CAPTURE(Trajectory, all_scenarios, true)->Name("CareWf/all_scenarios/trajectory");

BENCHMARK_MAIN();
