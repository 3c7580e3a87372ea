#include "engine/runner.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "engine/block_schedule.h"
#include "engine/cache_line.h"
#include "engine/moments.h"
#include "engine/quantile_sketch.h"
#include "engine/shared_sketches.h"

namespace carecast::engine {

namespace {

// The cells summarised per trajectory: every scenario's outputs, then, for each scenario other
// than the base (in order), its difference from the base; numbered over the run (as
// OutputLayout::index, the differences after the outputs) or within one month (as
// OutputLayout::month_index, the differences after the outputs likewise).
struct Cells {
  Cells(const OutputLayout& layout, std::size_t base_scenario)
      : per_scenario(layout.cells_per_scenario()),
        scenarios(layout.scenarios.size()),
        base(base_scenario),
        outputs(layout.cells()),
        total(outputs + (scenarios - 1) * per_scenario),
        month_outputs(layout.cells_per_month()),
        month_total(month_outputs + (scenarios - 1) * (month_outputs / scenarios)),
        variables(layout.variables.size()),
        regions(layout.regions.size()) {}

  // The scenario whose difference occupies diff slot k.
  std::size_t diff_scenario(std::size_t k) const { return k < base ? k : k + 1; }
  // The month cell of diff slot k's variable v in region r.
  std::size_t month_difference(std::size_t k, std::size_t v, std::size_t r) const {
    return month_outputs + (k * variables + v) * regions + r;
  }

  std::size_t per_scenario, scenarios, base, outputs, total;
  std::size_t month_outputs, month_total;
  std::size_t variables, regions;
};

// What one worker thread keeps between blocks.
struct Worker {
  Worker(const Simulator& simulator, const Cells& cells, std::size_t block)
      : scratch(simulator.make_scratch()),
        batch(simulator.batch_size()),
        values(simulator.layout().scenarios.size() * simulator.layout().parameters.size()),
        parameters(values * block),
        given(parameters.size()),
        buffer(cells.month_total * block + kCacheLineDoubles),
        better_counts(cells.total - cells.outputs, 0) {
    for (std::size_t first = 0; first < block; first += batch) {
      states.push_back(simulator.make_batch_state());
    }
    deferred.reserve(cells.month_total / cells.regions);
  }

  std::unique_ptr<SimulatorScratch> scratch;
  std::size_t batch;                        // trajectories simulated together
  std::vector<std::unique_ptr<BatchState>> states;  // one per batch of a block
  std::size_t values;                       // parameter values per trajectory
  std::vector<double> parameters;           // [trajectory in block][scenario][parameter]
  std::vector<double> given;                // caller-supplied parameter values (NaN: draw)
  // One month of the block's outputs, [month cell][trajectory in block], from month_data() on
  // (a cache-line boundary): the batches write their lanes side by side, then each cell's row is
  // summarised while still in the cache.
  std::vector<double> buffer;
  double* month_data() { return align_to_line(buffer.data()); }
  const double* month_data() const { return align_to_line(buffer.data()); }
  std::vector<std::uint64_t> better_counts; // [diff cell]
  // The groups of a month whose sketches were busy (month cell, cell), added after the others.
  std::vector<std::pair<std::size_t, std::size_t>> deferred;
};

constexpr double kDraw = std::numeric_limits<double>::quiet_NaN();  // "no value given"
constexpr std::size_t kMonthBufferBytes = std::size_t{4} << 20;
constexpr std::uint32_t kMinBlock = 16, kMaxBlock = 256;

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
  if (options.block_size > (std::uint32_t{1} << kFoldLevel)) {
    throw std::invalid_argument(fmt::format("run: block size must be at most {}, but is {}",
                                            std::uint32_t{1} << kFoldLevel, options.block_size));
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
    // Unwritten until save() fills every value, a piece's trajectories on the thread that ran
    // them (each array sized in place: a copy of an unwritten one would write it).
    result.trajectory.resize(S);
    for (auto& scenario : result.trajectory) {
      for (std::size_t v = 0; v < V; ++v) scenario.emplace_back(result.saved_trajectories * plane);
    }
    result.parameter_values =
        std::vector(S, std::vector<double>(result.saved_trajectories * layout.parameters.size()));
  }
  return result;
}

// Copies month t of the block's trajectories that are saved (those of index below
// result.saved_trajectories) into the saved arrays, and in month 0 their parameters.
void save(const OutputLayout& layout, const Worker& worker, std::size_t block, std::uint64_t begin,
          std::size_t count, int t, RunResult& result) {
  if (begin >= result.saved_trajectories) return;
  const std::size_t saved = static_cast<std::size_t>(
      std::min<std::uint64_t>(count, result.saved_trajectories - begin));
  const std::size_t S = layout.scenarios.size(), V = layout.variables.size();
  const std::size_t R = layout.regions.size(), K = layout.parameters.size();
  const std::size_t plane = static_cast<std::size_t>(layout.months) * R;
  for (std::size_t s = 0; s < S; ++s) {
    for (std::size_t v = 0; v < V; ++v) {
      // A trajectory's regions side by side in the saved array: written together, a trajectory
      // at a time (a trajectory's month is 8 regions' floats, trajectories a plane apart).
      const double* rows = worker.month_data() + layout.month_index(s, v, 0) * block;
      float* to = result.trajectory[s][v].data() + begin * plane + static_cast<std::size_t>(t) * R;
      for (std::size_t j = 0; j < saved; ++j) {
        for (std::size_t r = 0; r < R; ++r) {
          to[j * plane + r] = static_cast<float>(rows[r * block + j]);
        }
      }
    }
    if (t != 0) continue;
    for (std::size_t j = 0; j < saved; ++j) {
      std::copy_n(worker.parameters.data() + (j * S + s) * K, K,
                  result.parameter_values[s].data() + (begin + j) * K);
    }
  }
}

// Puts the differences from the base of month t of the block's `count` trajectories into the
// month buffer's difference rows, and counts where each scenario is better than the base.
void buffer_differences(const OutputLayout& layout, const Cells& cells, std::size_t block,
                        std::size_t count, int t, Worker& w) {
  const std::size_t V = layout.variables.size(), R = layout.regions.size();
  const auto month = static_cast<std::size_t>(t);
  for (std::size_t k = 0; k + 1 < cells.scenarios; ++k) {
    const std::size_t s = cells.diff_scenario(k);
    for (std::size_t v = 0; v < V; ++v) {
      const int better = layout.better[v];
      for (std::size_t r = 0; r < R; ++r) {
        const double* base = w.month_data() + layout.month_index(cells.base, v, r) * block;
        const double* scenario = w.month_data() + layout.month_index(s, v, r) * block;
        double* row = w.month_data() + cells.month_difference(k, v, r) * block;
        std::uint64_t wins = 0;
        for (std::size_t j = 0; j < count; ++j) {
          const double diff = scenario[j] - base[j];
          row[j] = diff;
          wins += (better > 0 && diff > 0.0) || (better < 0 && diff < 0.0);
        }
        w.better_counts[k * cells.per_scenario + layout.index(0, v, month, r)] += wins;
      }
    }
  }
}

// Adds month t of the block's `count` trajectories to the run's sketches and the block's moment
// nodes: each row of the month buffer once, for its sketch and its moments together. A
// (scenario, variable)'s regions are adjacent cells both in the month and over the run, so they
// are summarised as a group (summarise_cells), their rows still in the L1 cache. A group whose
// sketches another thread is adding to is added after the month's other groups.
void summarise_month(const OutputLayout& layout, const Cells& cells, std::size_t block,
                     std::size_t count, int t, std::span<Moments> nodes, SharedSketches& sketches,
                     Worker& w) {
  const std::size_t V = layout.variables.size(), R = layout.regions.size();
  const std::size_t month = static_cast<std::size_t>(t);
  w.deferred.clear();
  const auto group = [&](std::size_t month_cell, std::size_t cell) {
    const double* rows = w.month_data() + month_cell * block;
    if (!sketches.try_add(cell, rows, block, count)) w.deferred.emplace_back(month_cell, cell);
    summarise_cells(rows, block, R, count, nodes, cell);
  };
  for (std::size_t s = 0; s < cells.scenarios; ++s) {
    for (std::size_t v = 0; v < V; ++v) {
      group(layout.month_index(s, v, 0), layout.index(s, v, month, 0));
    }
  }
  for (std::size_t k = 0; k + 1 < cells.scenarios; ++k) {
    for (std::size_t v = 0; v < V; ++v) {
      group(cells.month_difference(k, v, 0),
            cells.outputs + k * cells.per_scenario + layout.index(0, v, month, 0));
    }
  }
  for (const auto& [month_cell, cell] : w.deferred) {
    sketches.add(cell, w.month_data() + month_cell * block, block, count);
  }
}

}  // namespace

std::uint32_t block_size_for(const OutputLayout& layout) {
  const Cells cells(layout, 0);
  std::uint32_t block = kMaxBlock;
  while (block > kMinBlock && cells.month_total * block * sizeof(double) > kMonthBufferBytes) {
    block /= 2;
  }
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

  const int threads =
      options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
  const BlockSchedule schedule(n, static_cast<std::uint32_t>(block), threads);
  tbb::task_arena arena(threads);
  tbb::enumerable_thread_specific<std::unique_ptr<Worker>> workers;
  MomentCascade total(cells.total);
  SharedSketches sketches(cells.total, cells.regions);

  // A piece of the schedule (a block or less) on worker w: its values into the run's sketches,
  // its moments as nodes (one per set bit of its trajectory count, as block_nodes makes them).
  // The month buffer keeps a block's stride whatever the piece's count.
  const auto run_piece = [&](Worker& w, BlockSchedule::Piece piece) {
    const std::uint64_t begin = piece.begin;
    const std::size_t count = piece.count;
    if (options.given_parameters) {
      std::fill(w.given.begin(), w.given.end(), kDraw);
      for (std::size_t j = 0; j < count; ++j) {
        options.given_parameters(begin + j, std::span(w.given).subspan(j * w.values, w.values));
      }
    }
    // The block's batches begin, then step a month at a time together: each month's outputs of
    // the whole block are summarised while in the cache.
    for (std::size_t j = 0, g = 0; j < count; j += w.batch, ++g) {
      const std::size_t size = std::min(w.batch, count - j);
      const std::size_t offset = j * w.values, length = size * w.values;
      simulator.begin_batch(options.seed, static_cast<std::uint32_t>(begin + j), size,
                            *w.scratch, *w.states[g],
                            std::span(w.parameters).subspan(offset, length),
                            options.given_parameters
                                ? std::span<const double>(w.given).subspan(offset, length)
                                : std::span<const double>());
    }
    std::vector<Moments> nodes = block_nodes(cells.total, count);
    for (int t = 0; t < layout.months; ++t) {
      for (std::size_t j = 0, g = 0; j < count; j += w.batch, ++g) {
        simulator.step(*w.scratch, *w.states[g], t, BatchOutput{w.month_data() + j, block, 1});
      }
      buffer_differences(layout, cells, block, count, t, w);
      save(layout, w, block, begin, count, t, result);
      summarise_month(layout, cells, block, count, t, nodes, sketches, w);
    }
    if (options.on_block) options.on_block(count);
    return nodes;
  };

  // Each thread takes the schedule's next piece in order until none is left, so pieces finish
  // roughly in order, without a barrier between groups of them. A finished piece's moment nodes
  // wait in `finished` until every earlier piece's have been pushed into the cascade, which
  // then takes them in piece order: `finished` holds only the pieces that finished before an
  // earlier one still running (about one per other thread), whatever the run's length.
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex order;
  std::map<std::uint64_t, std::vector<Moments>> finished;
  std::uint64_t pushed = 0;  // pieces whose nodes are in the cascade
  arena.execute([&] {
    tbb::parallel_for(
        0, threads,
        [&](int) {
          auto& slot = workers.local();
          if (!slot) slot = std::make_unique<Worker>(simulator, cells, block);
          Worker& w = *slot;
          try {
            for (std::uint64_t b; !failed.load() && (b = next.fetch_add(1)) < schedule.size();) {
              std::vector<Moments> nodes = run_piece(w, schedule[b]);
              const std::lock_guard lock(order);
              finished.emplace(b, std::move(nodes));
              for (auto it = finished.begin(); it != finished.end() && it->first == pushed;
                   it = finished.erase(it), ++pushed) {
                for (auto& node : it->second) total.push(std::move(node));
              }
            }
          } catch (...) {
            failed = true;  // the other threads stop after their current block
            throw;
          }
        },
        tbb::simple_partitioner());
  });

  // What is left is per cell, so it runs cell by cell on the arena's threads too. The counts of
  // "better" are integers: the order of their sums does not matter.
  std::vector<Worker*> all_workers;
  for (auto& slot : workers) all_workers.push_back(slot.get());
  Worker& first = *all_workers.front();
  std::vector<std::uint64_t>& better_counts = first.better_counts;
  for (std::size_t i = 1; i < all_workers.size(); ++i) {
    const Worker& other = *all_workers[i];
    for (std::size_t c = 0; c < better_counts.size(); ++c) {
      better_counts[c] += other.better_counts[c];
    }
  }
  const Moments moments = total.finish();
  const std::size_t V = layout.variables.size();
  const std::size_t plane = cells.per_scenario / V;
  const std::size_t Q = options.quantiles.size();
  // Plane i of the summaries: scenario i / V's variable i % V, then for i >= S * V the
  // differences (diff slot (i - S * V) / V): its mean, sd, quantiles and shares of "better".
  const auto summarise_plane = [&](std::size_t i, std::vector<double>& q) {
    const bool difference = i >= cells.scenarios * V;
    const std::size_t k = difference ? i / V - cells.scenarios : i / V, v = i % V;
    const std::size_t s = difference ? cells.diff_scenario(k) : k;
    const std::size_t first_cell =
        (difference ? cells.outputs : 0) + k * cells.per_scenario + v * plane;
    auto& mean = difference ? result.diff_mean[s][v] : result.mean[s][v];
    auto& sd = difference ? result.diff_sd[s][v] : result.sd[s][v];
    auto& quantile = difference ? result.diff_quantile[s][v] : result.quantile[s][v];
    for (std::size_t c = 0; c < plane; ++c) {
      const std::size_t cell = first_cell + c;
      mean[c] = moments.mean[cell];
      sd[c] = moments.sd(cell);
      sketches[cell].quantiles(options.quantiles, q);
      for (std::size_t j = 0; j < Q; ++j) quantile[j * plane + c] = q[j];
      if (difference && !result.p_better[s][v].empty()) {
        result.p_better[s][v][c] =
            static_cast<double>(better_counts[cell - cells.outputs]) / static_cast<double>(n);
      }
    }
  };
  const std::size_t planes = (2 * cells.scenarios - 1) * V;
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, planes), [&](const auto& range) {
      std::vector<double> q(Q);
      for (std::size_t i = range.begin(); i < range.end(); ++i) summarise_plane(i, q);
    });
  });
  return result;
}

}  // namespace carecast::engine
