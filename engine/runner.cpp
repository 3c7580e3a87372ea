#include "engine/runner.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <bit>
#include <memory>
#include <stdexcept>

#include "engine/moments.h"
#include "engine/quantile_sketch.h"

namespace carecast::engine {

namespace {

// What one worker thread keeps between blocks.
struct Worker {
  explicit Worker(const Simulator& simulator)
      : scratch(simulator.make_scratch()),
        out(simulator.layout().cells()),
        parameters(simulator.layout().scenarios.size() * simulator.layout().parameters.size()),
        sketches(simulator.layout().cells()),
        cascade(simulator.layout().cells()) {}

  std::unique_ptr<SimulatorScratch> scratch;
  std::vector<double> out;
  std::vector<double> parameters;
  std::vector<QuantileSketch> sketches;
  MomentCascade cascade;
};

void check(const Simulator& simulator, const RunnerOptions& options) {
  if (options.trajectories == 0) throw std::invalid_argument("run: trajectories must be >= 1");
  if (options.trajectories > (std::uint64_t{1} << 32)) {
    throw std::invalid_argument("run: at most 2^32 trajectories");
  }
  if (options.block_size == 0 || !std::has_single_bit(options.block_size)) {
    throw std::invalid_argument(
        fmt::format("run: block size must be a power of two, but is {}", options.block_size));
  }
  if (options.threads < 0) throw std::invalid_argument("run: threads must be >= 0");
  if (options.quantiles.empty()) throw std::invalid_argument("run: no quantiles requested");
  if (simulator.layout().cells() == 0) throw std::invalid_argument("run: the model has no outputs");
}

RunResult empty_result(const OutputLayout& layout, const RunnerOptions& options) {
  RunResult result;
  result.scenarios = layout.scenarios;
  result.variables = layout.variables;
  result.regions = layout.regions;
  result.quantiles = options.quantiles;
  result.parameters = layout.parameters;
  result.saved_trajectories = std::min(options.save_trajectories, options.trajectories);
  const std::size_t S = layout.scenarios.size(), V = layout.variables.size();
  const std::size_t plane = static_cast<std::size_t>(layout.months) * layout.regions.size();
  const auto grid = [&](std::size_t size) {
    return std::vector(S, std::vector(V, std::vector<double>(size)));
  };
  result.mean = grid(plane);
  result.sd = grid(plane);
  result.quantile = grid(plane * options.quantiles.size());
  if (result.saved_trajectories > 0) {
    result.trajectory = std::vector(
        S, std::vector(V, std::vector<float>(result.saved_trajectories * plane)));
    result.parameter_values =
        std::vector(S, std::vector<double>(result.saved_trajectories * layout.parameters.size()));
  }
  return result;
}

// Copies trajectory i's outputs and parameters into the saved arrays.
void save(const OutputLayout& layout, const Worker& worker, std::uint64_t i, RunResult& result) {
  const std::size_t S = layout.scenarios.size(), V = layout.variables.size();
  const std::size_t plane = static_cast<std::size_t>(layout.months) * layout.regions.size();
  const std::size_t K = layout.parameters.size();
  for (std::size_t s = 0; s < S; ++s) {
    for (std::size_t v = 0; v < V; ++v) {
      const double* from = worker.out.data() + (s * V + v) * plane;
      float* to = result.trajectory[s][v].data() + i * plane;
      for (std::size_t c = 0; c < plane; ++c) to[c] = static_cast<float>(from[c]);
    }
    std::copy_n(worker.parameters.data() + s * K, K, result.parameter_values[s].data() + i * K);
  }
}

}  // namespace

RunResult run(const Simulator& simulator, const RunnerOptions& options) {
  check(simulator, options);
  const OutputLayout& layout = simulator.layout();
  RunResult result = empty_result(layout, options);
  const std::uint64_t n = options.trajectories;
  const std::uint64_t block = options.block_size;
  const std::uint64_t blocks = (n + block - 1) / block;

  const int threads = options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(threads);
  tbb::enumerable_thread_specific<std::unique_ptr<Worker>> workers;
  MomentCascade total(layout.cells());
  // A wave is a few blocks per thread: enough to balance, few enough to bound memory.
  const std::uint64_t wave = 4 * static_cast<std::uint64_t>(threads);
  std::vector<std::vector<Moments>> finished(wave);

  arena.execute([&] {
    for (std::uint64_t first = 0; first < blocks; first += wave) {
      const std::uint64_t last = std::min(blocks, first + wave);
      tbb::parallel_for(
          tbb::blocked_range<std::uint64_t>(first, last, 1),
          [&](const tbb::blocked_range<std::uint64_t>& range) {
            auto& slot = workers.local();
            if (!slot) slot = std::make_unique<Worker>(simulator);
            Worker& w = *slot;
            for (std::uint64_t b = range.begin(); b != range.end(); ++b) {
              const std::uint64_t end = std::min(n, (b + 1) * block);
              for (std::uint64_t i = b * block; i < end; ++i) {
                simulator.simulate(options.seed, static_cast<std::uint32_t>(i), *w.scratch, w.out,
                                   w.parameters);
                for (std::size_t c = 0; c < w.out.size(); ++c) w.sketches[c].add(w.out[c]);
                w.cascade.add(w.out);
                if (i < result.saved_trajectories) save(layout, w, i, result);
              }
              finished[b - first] = w.cascade.take();
              if (options.on_block) options.on_block(end - b * block);
            }
          },
          tbb::simple_partitioner());
      for (std::uint64_t b = first; b < last; ++b) {
        for (auto& node : finished[b - first]) total.push(std::move(node));
        finished[b - first].clear();
      }
    }
  });

  // Sketches: integer counts, so the merge order does not matter; fold into one.
  std::vector<QuantileSketch> sketches;
  for (auto& slot : workers) {
    if (sketches.empty()) {
      sketches = std::move(slot->sketches);
      continue;
    }
    for (std::size_t c = 0; c < sketches.size(); ++c) sketches[c].merge(slot->sketches[c]);
  }

  const Moments moments = total.finish();
  const std::size_t S = layout.scenarios.size(), V = layout.variables.size();
  const std::size_t plane = static_cast<std::size_t>(layout.months) * layout.regions.size();
  const std::size_t Q = options.quantiles.size();
  std::vector<double> q(Q);
  for (std::size_t s = 0; s < S; ++s) {
    for (std::size_t v = 0; v < V; ++v) {
      for (std::size_t c = 0; c < plane; ++c) {
        const std::size_t cell = (s * V + v) * plane + c;
        result.mean[s][v][c] = moments.mean[cell];
        result.sd[s][v][c] = moments.sd(cell);
        sketches[cell].quantiles(options.quantiles, q);
        for (std::size_t k = 0; k < Q; ++k) result.quantile[s][v][k * plane + c] = q[k];
      }
    }
  }
  return result;
}

}  // namespace carecast::engine
