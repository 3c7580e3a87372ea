// End to end: engine::run of the default baseline scenario (data/scenarios/wm_baseline.toml,
// baseline only, a model from models::make_model, the file's seed and quantiles) for a fixed
// number of trajectories, at 1 and 2 threads. Items are trajectory-months, timed on the wall
// clock. Writing the HDF5 file is not included (scripts/bench times the CLI for that).
//
// The runner's automatic block size (256 for the baseline) would leave 256 trajectories in one
// block, on one thread; blocks of 32 give each thread four, and the run stays short enough for
// the ctest smoke run. (carecast run in scripts/bench uses the automatic size.)
//
//   EndToEnd/baseline/trajectories:256/threads:1|2/block:32
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>

#include "engine/run_settings.h"
#include "engine/runner.h"
#include "models/model_factory.h"
#include "bench/default_document.h"

namespace {

namespace engine = carecast::engine;
namespace models = carecast::models;

void EndToEnd(benchmark::State& state) {
  const auto trajectories = static_cast<std::uint64_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const auto block = static_cast<std::uint32_t>(state.range(2));
  const auto document = carecast::bench::default_document();
  const auto settings = engine::read_run_settings(document);
  const auto model = models::make_model(document, settings);
  engine::RunnerOptions options;
  options.seed = settings.seed;
  options.trajectories = trajectories;
  options.threads = threads;
  options.block_size = block;
  options.quantiles = settings.quantiles;
  for (auto _ : state) {
    auto result = engine::run(*model, options);
    benchmark::DoNotOptimize(result.mean.data());
  }
  const auto months = static_cast<std::int64_t>(settings.months) *
                      static_cast<std::int64_t>(model->layout().scenarios.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(trajectories) * months);
  state.counters["trajectories"] = static_cast<double>(trajectories);
  state.counters["months"] = static_cast<double>(months);
  state.counters["run_threads"] = threads;
  state.counters["block"] = block;
}

}  // namespace

BENCHMARK(EndToEnd)
    ->Name("EndToEnd/baseline")
    ->ArgNames({"trajectories", "threads", "block"})
    ->Args({256, 1, 32})
    ->Args({256, 2, 32})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
