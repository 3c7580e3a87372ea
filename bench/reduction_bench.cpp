// Reduction: putting trajectories' outputs into the run's summaries (means, sds, quantile
// sketches) and merging summaries, on real care_wf outputs (default data, baseline scenario:
// 17 variables x 120 months x 8 regions = 16,320 cells per trajectory).
//
// Blocks have the runner's automatic size (engine::block_size_for: 256 trajectories for the
// baseline); block 1 is block 0's trajectories in reverse order.
//
//   Reduction/insert/block_buffered     what engine::run does per block of trajectories with the
//                                       values the model wrote (cell by cell, each cell's values
//                                       side by side), month by month as the runner steps: per
//                                       (variable, month), add each region's values to its sketch
//                                       (the run's SharedSketches, one thread here, so never
//                                       busy), then summarise the 8 regions' moments
//                                       (summarise_cells); then push the block's moments into the
//                                       run's MomentCascade. The values are read from a
//                                       ready-made buffer of the whole block (the runner's month
//                                       buffer holds one month at a time). Items: trajectories.
//   Reduction/insert/block_sketches     only the sketch part of that (items: trajectories)
//   Reduction/insert/block_moments      only the summarise_block + push part (items: trajectories)
//   Reduction/insert/per_trajectory     the unbuffered alternative: MomentCascade::add of one
//                                       trajectory and one QuantileSketch::add per cell.
//   Reduction/merge/block_summaries     merging two block summaries (a Moments node and a sketch
//                                       per cell each). Items: merges of whole summaries.
//   Reduction/merge/moments, .../sketches   the two halves of that.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "engine/moments.h"
#include "engine/quantile_sketch.h"
#include "engine/shared_sketches.h"
#include "engine/run_settings.h"
#include "engine/runner.h"
#include "engine/simulator.h"
#include "models/model_factory.h"
#include "bench/default_document.h"

namespace {

namespace engine = carecast::engine;
namespace models = carecast::models;

// Outputs of one block of baseline trajectories: trajectory[j][cell].
struct Outputs {
  std::size_t cells = 0;
  std::size_t variables = 0, months = 0, regions = 0;
  std::size_t block = 0;
  std::vector<std::vector<double>> trajectory;
};

const Outputs& outputs() {
  static const Outputs o = [] {
    const auto doc = carecast::bench::default_document();
    const auto settings = engine::read_run_settings(doc);
    const auto model = models::make_model(doc, settings);
    auto scratch = model->make_scratch();
    Outputs result;
    result.cells = model->layout().cells();
    result.variables = model->layout().variables.size();
    result.months = static_cast<std::size_t>(model->layout().months);
    result.regions = model->layout().regions.size();
    result.block = engine::block_size_for(model->layout());
    std::vector<double> parameters(model->layout().scenarios.size() *
                                   model->layout().parameters.size());
    for (std::uint32_t j = 0; j < result.block; ++j) {
      result.trajectory.emplace_back(result.cells);
      model->simulate(settings.seed, j, *scratch, result.trajectory.back(), parameters);
    }
    return result;
  }();
  return o;
}

// Trajectory j of block b (0 or 1; block 1 holds block 0's trajectories in reverse order).
const std::vector<double>& trajectory(std::size_t b, std::size_t j) {
  const auto& o = outputs();
  return o.trajectory[b == 0 ? j : o.block - 1 - j];
}

// Block `b` as the runner buffers it: buffer[cell * block + j].
std::vector<double> block_buffer(std::size_t b) {
  const auto& o = outputs();
  std::vector<double> buffer(o.cells * o.block);
  for (std::size_t j = 0; j < o.block; ++j) {
    const auto& values = trajectory(b, j);
    for (std::size_t c = 0; c < o.cells; ++c) buffer[c * o.block + j] = values[c];
  }
  return buffer;
}

enum class Part { all, sketches, moments };

void InsertBlock(benchmark::State& state, Part part) {
  const auto& o = outputs();
  const std::size_t block = o.block;
  // The parts alone read ready-made block buffers (summarising does not change a buffer).
  const std::vector<double> prepared[2] = {block_buffer(0), block_buffer(1)};
  std::vector<engine::QuantileSketch> sketches(o.cells);
  engine::SharedSketches shared(o.cells, o.regions);  // the run's sketches, as engine::run has them
  engine::MomentCascade total(o.cells);
  std::size_t b = 0;
  for (auto _ : state) {
    const double* values = prepared[b].data();
    if (part == Part::all) {
      // The model has written the block (prepared here); each cell once, for its sketch and its
      // moments together, a (variable, month)'s regions at a time, month by month, as
      // engine::run does.
      auto nodes = engine::block_nodes(o.cells, block);
      for (std::size_t t = 0; t < o.months; ++t) {
        for (std::size_t v = 0; v < o.variables; ++v) {
          const std::size_t c = (v * o.months + t) * o.regions;
          const double* rows = values + c * block;
          if (!shared.try_add(c, rows, block, block)) shared.add(c, rows, block, block);
          engine::summarise_cells(rows, block, o.regions, block, nodes, c);
        }
      }
      for (auto& node : nodes) total.push(std::move(node));
    }
    if (part == Part::sketches) {
      for (std::size_t c = 0; c < o.cells; ++c) {
        sketches[c].add_all(std::span<const double>(values + c * block, block));
      }
    }
    if (part == Part::moments) {
      for (auto& node : engine::summarise_block(std::span<const double>(values, o.cells * block),
                                                o.cells, block, block)) {
        total.push(std::move(node));
      }
    }
    b ^= 1;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(block));
  state.counters["cells"] = static_cast<double>(o.cells);
  state.counters["block"] = static_cast<double>(block);
}

void InsertPerTrajectory(benchmark::State& state) {
  const auto& o = outputs();
  std::vector<engine::QuantileSketch> sketches(o.cells);
  engine::MomentCascade total(o.cells);
  std::size_t j = 0;
  for (auto _ : state) {
    const auto& values = o.trajectory[j];
    total.add(values);
    for (std::size_t c = 0; c < o.cells; ++c) sketches[c].add(values[c]);
    j = (j + 1) % o.trajectory.size();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["cells"] = static_cast<double>(o.cells);
}

// Two block summaries, as two worker threads (or two blocks) would hold them.
struct Summary {
  engine::Moments moments;
  std::vector<engine::QuantileSketch> sketches;
};

Summary summarise(std::size_t b) {
  const auto& o = outputs();
  const auto buffer = block_buffer(b);
  Summary s;
  s.moments = std::move(engine::summarise_block(buffer, o.cells, o.block, o.block).front());
  s.sketches.resize(o.cells);
  for (std::size_t c = 0; c < o.cells; ++c) {
    s.sketches[c].add_all(std::span<const double>(buffer.data() + c * o.block, o.block));
  }
  return s;
}

// Merges the second block's summary into the first, again and again (the arithmetic of a merge
// does not depend on the counts).
void Merge(benchmark::State& state, Part part) {
  Summary a = summarise(0);
  const Summary later = summarise(1);
  for (auto _ : state) {
    if (part != Part::sketches) a.moments.merge_later(later.moments);
    if (part != Part::moments) {
      for (std::size_t c = 0; c < a.sketches.size(); ++c) a.sketches[c].merge(later.sketches[c]);
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["cells"] = static_cast<double>(a.sketches.size());
  state.counters["block"] = static_cast<double>(outputs().block);
}

}  // namespace

BENCHMARK_CAPTURE(InsertBlock, all, Part::all)->Name("Reduction/insert/block_buffered");
BENCHMARK_CAPTURE(InsertBlock, sketches, Part::sketches)->Name("Reduction/insert/block_sketches");
BENCHMARK_CAPTURE(InsertBlock, moments, Part::moments)->Name("Reduction/insert/block_moments");
BENCHMARK(InsertPerTrajectory)->Name("Reduction/insert/per_trajectory");
BENCHMARK_CAPTURE(Merge, all, Part::all)->Name("Reduction/merge/block_summaries");
BENCHMARK_CAPTURE(Merge, moments, Part::moments)->Name("Reduction/merge/moments");
BENCHMARK_CAPTURE(Merge, sketches, Part::sketches)->Name("Reduction/merge/sketches");

BENCHMARK_MAIN();
