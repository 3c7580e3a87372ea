#include "engine/runner.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <limits>
#include <memory>
#include <stdexcept>

#include "engine/moments.h"
#include "engine/quantile_sketch.h"

namespace carecast::engine {

namespace {

// The cells summarised per trajectory: every scenario's outputs, then, for each scenario other
// than the base (in order), its difference from the base.
struct Cells {
  Cells(const OutputLayout& layout, std::size_t base_scenario)
      : per_scenario(layout.cells_per_scenario()),
        scenarios(layout.scenarios.size()),
        base(base_scenario),
        outputs(layout.cells()),
        total(outputs + (scenarios - 1) * per_scenario) {}

  // The scenario whose difference occupies diff slot k.
  std::size_t diff_scenario(std::size_t k) const { return k < base ? k : k + 1; }

  std::size_t per_scenario, scenarios, base, outputs, total;
};

// Cells whose sketches are made before their moments are summarised together: few enough that
// their rows of the block buffer (8 KiB for 8 cells at 128 trajectories) are still in the L1
// cache when summarise_cells reads them.
constexpr std::size_t kCellGroup = kCellsAtOnce;

constexpr std::size_t kLineBytes = 64;
constexpr std::size_t kLineDoubles = kLineBytes / sizeof(double);

// The first cache-line boundary at or after p.
template <typename T>
T* align_to_line(T* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  return reinterpret_cast<T*>((address + kLineBytes - 1) / kLineBytes * kLineBytes);
}

// What one worker thread keeps between blocks.
struct Worker {
  Worker(const Simulator& simulator, const Cells& cells, std::size_t block)
      : scratch(simulator.make_scratch()),
        batch(simulator.batch_size()),
        parameters(simulator.layout().scenarios.size() * simulator.layout().parameters.size() *
                   batch),
        given(parameters.size()),
        buffer(cells.total * block + kLineDoubles),
        stage(cells.outputs * batch + kLineDoubles),
        sketches(cells.total),
        better_counts(cells.total - cells.outputs, 0) {}

  std::unique_ptr<SimulatorScratch> scratch;
  std::size_t batch;                        // trajectories simulated together
  std::vector<double> parameters;
  std::vector<double> given;                // caller-supplied parameter values (NaN: draw)
  std::vector<double> buffer;  // [cell][trajectory in block], from block_data() on
  double* block_data() { return align_to_line(buffer.data()); }
  const double* block_data() const { return align_to_line(buffer.data()); }
  // The batch's outputs, [cell][trajectory in batch], starting at a cache-line boundary: the
  // model writes here (a small, cached area), then each cell's batch goes to the block buffer as
  // one whole line (see copy_batch).
  std::vector<double> stage;
  double* staged() { return align_to_line(stage.data()); }
  std::vector<QuantileSketch> sketches;     // [cell]
  std::vector<std::uint64_t> better_counts; // [diff cell]
};

constexpr double kDraw = std::numeric_limits<double>::quiet_NaN();  // "no value given"
constexpr std::size_t kBlockBufferBytes = std::size_t{64} << 20;
constexpr std::uint32_t kMinBlock = 16, kMaxBlock = 128;

void check(const Simulator& simulator, const RunnerOptions& options) {
  const auto& layout = simulator.layout();
  if (options.trajectories == 0) throw std::invalid_argument("run: trajectories must be >= 1");
  if (options.trajectories > (std::uint64_t{1} << 32)) {
    throw std::invalid_argument("run: at most 2^32 trajectories");
  }
  if (options.block_size != 0 && !std::has_single_bit(options.block_size)) {
    throw std::invalid_argument(
        fmt::format("run: block size must be a power of two, but is {}", options.block_size));
  }
  if (options.threads < 0) throw std::invalid_argument("run: threads must be >= 0");
  if (options.quantiles.empty()) throw std::invalid_argument("run: no quantiles requested");
  if (layout.cells() == 0) throw std::invalid_argument("run: the model has no outputs");
  if (options.base_scenario >= layout.scenarios.size()) {
    throw std::invalid_argument("run: the base scenario is not one of the model's scenarios");
  }
  if (layout.better.size() != layout.variables.size() ||
      layout.units.size() != layout.variables.size() ||
      layout.long_names.size() != layout.variables.size()) {
    throw std::invalid_argument("run: the model's variable metadata is incomplete");
  }
}

const char* better_name(int better) {
  return better > 0 ? "higher" : better < 0 ? "lower" : "neutral";
}

RunResult empty_result(const OutputLayout& layout, const RunnerOptions& options) {
  RunResult result;
  result.scenarios = layout.scenarios;
  result.variables = layout.variables;
  result.regions = layout.regions;
  result.quantiles = options.quantiles;
  result.parameters = layout.parameters;
  result.units = layout.units;
  result.long_names = layout.long_names;
  for (int b : layout.better) result.better.push_back(better_name(b));
  result.base_scenario = layout.scenarios[options.base_scenario];
  result.saved_trajectories = std::min(options.save_trajectories, options.trajectories);
  const std::size_t S = layout.scenarios.size(), V = layout.variables.size();
  const std::size_t plane = static_cast<std::size_t>(layout.months) * layout.regions.size();
  const auto grid = [&](std::size_t size) {
    return std::vector(S, std::vector(V, std::vector<double>(size)));
  };
  result.mean = grid(plane);
  result.sd = grid(plane);
  result.quantile = grid(plane * options.quantiles.size());
  result.diff_mean = grid(plane);
  result.diff_sd = grid(plane);
  result.diff_quantile = grid(plane * options.quantiles.size());
  result.p_better = grid(plane);
  for (std::size_t v = 0; v < V; ++v) {
    if (layout.better[v] == 0) {
      for (auto& scenario : result.p_better) scenario[v].clear();
    }
  }
  for (auto* diffs : {&result.diff_mean, &result.diff_sd, &result.diff_quantile, &result.p_better}) {
    for (auto& variable : (*diffs)[options.base_scenario]) variable.clear();
  }
  if (result.saved_trajectories > 0) {
    result.trajectory = std::vector(
        S, std::vector(V, std::vector<float>(result.saved_trajectories * plane)));
    result.parameter_values =
        std::vector(S, std::vector<double>(result.saved_trajectories * layout.parameters.size()));
  }
  return result;
}

// Copies trajectory i's outputs (column `column` of the block buffer) and parameters (the
// batch's j-th) into the saved arrays.
void save(const OutputLayout& layout, const Worker& worker, std::size_t block, std::size_t column,
          std::size_t j, std::uint64_t i, RunResult& result) {
  const std::size_t S = layout.scenarios.size(), V = layout.variables.size();
  const std::size_t plane = static_cast<std::size_t>(layout.months) * layout.regions.size();
  const std::size_t K = layout.parameters.size();
  for (std::size_t s = 0; s < S; ++s) {
    for (std::size_t v = 0; v < V; ++v) {
      const double* from = worker.block_data() + (s * V + v) * plane * block + column;
      float* to = result.trajectory[s][v].data() + i * plane;
      for (std::size_t c = 0; c < plane; ++c) to[c] = static_cast<float>(from[c * block]);
    }
    std::copy_n(worker.parameters.data() + (j * S + s) * K, K,
                result.parameter_values[s].data() + i * K);
  }
}

// Moves the staged outputs of the batch's `count` trajectories into columns first, first + 1,
// ... of the block buffer. The buffer (megabytes) is written once per block and read once when
// the block is summarised; a full batch of 8 is one whole cache line per cell, written with a
// non-temporal store where the CPU has one, so no line is read from memory just to be overwritten.
void copy_batch(const Cells& cells, std::size_t block, std::size_t count, std::size_t first,
                Worker& w) {
  const double* from = w.staged();
  double* to = w.block_data() + first;
#if defined(__AVX__)
  const bool lines = w.batch == kLineDoubles && count == kLineDoubles &&
                     reinterpret_cast<std::uintptr_t>(to) % kLineBytes == 0 &&
                     (block * sizeof(double)) % kLineBytes == 0;
  if (lines) {
    for (std::size_t c = 0; c < cells.outputs; ++c) {
      const double* line = from + c * kLineDoubles;
      double* target = to + c * block;
#if defined(__AVX512F__)
      _mm512_stream_pd(target, _mm512_load_pd(line));
#else
      _mm256_stream_pd(target, _mm256_load_pd(line));
      _mm256_stream_pd(target + 4, _mm256_load_pd(line + 4));
#endif
    }
    _mm_sfence();
    return;
  }
#endif
  for (std::size_t c = 0; c < cells.outputs; ++c) {
    std::copy_n(from + c * w.batch, count, to + c * block);
  }
}

// Puts the differences from the base of the batch's `count` trajectories, whose outputs the
// model wrote into columns first, first + 1, ... of the buffer, into the same columns of the
// difference rows, and counts where each scenario is better than the base.
void buffer_differences(const OutputLayout& layout, const Cells& cells, std::size_t block,
                        std::size_t count, std::size_t first, Worker& w) {
  const std::size_t plane = cells.per_scenario / layout.variables.size();
  const double* base = w.block_data() + cells.base * cells.per_scenario * block + first;
  for (std::size_t k = 0; k + 1 < cells.scenarios; ++k) {
    const double* scenario =
        w.block_data() + cells.diff_scenario(k) * cells.per_scenario * block + first;
    const std::size_t diff_first = k * cells.per_scenario;
    for (std::size_t c = 0; c < cells.per_scenario; ++c) {
      double* row = w.block_data() + (cells.outputs + diff_first + c) * block + first;
      const int better = layout.better[c / plane];
      std::uint64_t wins = 0;
      for (std::size_t j = 0; j < count; ++j) {
        const double diff = scenario[c * block + j] - base[c * block + j];
        row[j] = diff;
        wins += (better > 0 && diff > 0.0) || (better < 0 && diff < 0.0);
      }
      w.better_counts[diff_first + c] += wins;
    }
  }
}

}  // namespace

std::uint32_t block_size_for(const OutputLayout& layout) {
  const std::size_t cells = layout.cells() + (layout.scenarios.size() - 1) * layout.cells_per_scenario();
  std::uint32_t block = kMaxBlock;
  while (block > kMinBlock && cells * block * sizeof(double) > kBlockBufferBytes) block /= 2;
  return block;
}

RunResult run(const Simulator& simulator, const RunnerOptions& options) {
  check(simulator, options);
  const OutputLayout& layout = simulator.layout();
  const Cells cells(layout, options.base_scenario);
  RunResult result = empty_result(layout, options);
  const std::uint64_t n = options.trajectories;
  const std::uint64_t block =
      options.block_size != 0 ? options.block_size : block_size_for(layout);
  const std::uint64_t blocks = (n + block - 1) / block;

  const int threads =
      options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(threads);
  tbb::enumerable_thread_specific<std::unique_ptr<Worker>> workers;
  MomentCascade total(cells.total);
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
            if (!slot) slot = std::make_unique<Worker>(simulator, cells, block);
            Worker& w = *slot;
            for (std::uint64_t b = range.begin(); b != range.end(); ++b) {
              const std::uint64_t begin = b * block, end = std::min(n, begin + block);
              for (std::uint64_t i = begin; i < end; i += w.batch) {
                const std::size_t count = std::min<std::uint64_t>(w.batch, end - i);
                const std::size_t values = w.parameters.size() / w.batch;
                if (options.given_parameters) {
                  std::fill(w.given.begin(), w.given.end(), kDraw);
                  for (std::size_t j = 0; j < count; ++j) {
                    options.given_parameters(i + j,
                                             std::span(w.given).subspan(j * values, values));
                  }
                }
                const BatchOutput into{w.staged(), w.batch, 1};
                simulator.simulate_batch(
                    options.seed, static_cast<std::uint32_t>(i), count, *w.scratch, into,
                    std::span(w.parameters).first(count * values),
                    options.given_parameters
                        ? std::span<const double>(w.given).first(count * values)
                        : std::span<const double>());
                copy_batch(cells, block, count, i - begin, w);
                buffer_differences(layout, cells, block, count, i - begin, w);
                for (std::size_t j = 0; j < count && i + j < result.saved_trajectories; ++j) {
                  save(layout, w, block, i - begin + j, j, i + j, result);
                }
              }
              // Each cell's values once, for its sketch and its moments together: the sketches
              // of a group of cells, then the group's moments from its rows still in cache.
              const std::size_t count = end - begin;
              auto& nodes = finished[b - first];
              nodes = block_nodes(cells.total, count);
              for (std::size_t c = 0; c < cells.total; c += kCellGroup) {
                const std::size_t group = std::min(kCellGroup, cells.total - c);
                const double* rows = w.block_data() + c * block;
                for (std::size_t k = 0; k < group; ++k) {
                  w.sketches[c + k].add_all(std::span(rows + k * block, count));
                }
                summarise_cells(rows, block, group, count, nodes, c);
              }
              if (options.on_block) options.on_block(count);
            }
          },
          tbb::simple_partitioner());
      for (std::uint64_t b = first; b < last; ++b) {
        for (auto& node : finished[b - first]) total.push(std::move(node));
        finished[b - first].clear();
      }
    }
  });

  // Sketches and counts are integers, so the merge order does not matter.
  std::vector<QuantileSketch> sketches;
  std::vector<std::uint64_t> better_counts(cells.total - cells.outputs, 0);
  for (auto& slot : workers) {
    for (std::size_t c = 0; c < better_counts.size(); ++c) better_counts[c] += slot->better_counts[c];
    if (sketches.empty()) {
      sketches = std::move(slot->sketches);
      continue;
    }
    for (std::size_t c = 0; c < sketches.size(); ++c) sketches[c].merge(slot->sketches[c]);
  }

  const Moments moments = total.finish();
  const std::size_t V = layout.variables.size();
  const std::size_t plane = cells.per_scenario / V;
  const std::size_t Q = options.quantiles.size();
  std::vector<double> q(Q);
  // Summary of cell `cell` into plane position c of (mean, sd, quantile).
  const auto summarise = [&](std::size_t cell, std::size_t c, std::vector<double>& mean,
                             std::vector<double>& sd, std::vector<double>& quantile) {
    mean[c] = moments.mean[cell];
    sd[c] = moments.sd(cell);
    sketches[cell].quantiles(options.quantiles, q);
    for (std::size_t k = 0; k < Q; ++k) quantile[k * plane + c] = q[k];
  };
  for (std::size_t s = 0; s < cells.scenarios; ++s) {
    for (std::size_t v = 0; v < V; ++v) {
      for (std::size_t c = 0; c < plane; ++c) {
        summarise(s * cells.per_scenario + v * plane + c, c, result.mean[s][v], result.sd[s][v],
                  result.quantile[s][v]);
      }
    }
  }
  for (std::size_t k = 0; k + 1 < cells.scenarios; ++k) {
    const std::size_t s = cells.diff_scenario(k);
    for (std::size_t v = 0; v < V; ++v) {
      for (std::size_t c = 0; c < plane; ++c) {
        const std::size_t diff = k * cells.per_scenario + v * plane + c;
        summarise(cells.outputs + diff, c, result.diff_mean[s][v], result.diff_sd[s][v],
                  result.diff_quantile[s][v]);
        if (!result.p_better[s][v].empty()) {
          result.p_better[s][v][c] =
              static_cast<double>(better_counts[diff]) / static_cast<double>(n);
        }
      }
    }
  }
  return result;
}

}  // namespace carecast::engine
