// Runs a Simulator over many trajectories in parallel and summarises the outputs.
//
// Work is cut into fixed blocks of `block_size` trajectories (a power of two). oneTBB runs the
// blocks of a wave in parallel, each thread with its own model scratch and output buffer; the
// model runs a batch of trajectories at a time (Simulator::simulate_batch) and each block's
// outputs are buffered cell by cell; its means and variances come back as MomentCascade
// subtrees pushed into the run's cascade in block order, and each thread's quantile sketches and
// "better than the base" counts (integers) are merged at the end. Every scenario other than the
// base is also summarised as its per-trajectory difference from the base. So the summaries are
// bit-identical for any thread count and any power-of-two block size. Memory grows with the
// number of trajectories only through the cascade's depth and the sketches' range, which is
// capped (see docs/engine.md).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/run_result.h"
#include "engine/simulator.h"

namespace carecast::engine {

struct RunnerOptions {
  std::uint64_t seed = 0;
  std::uint64_t trajectories = 1;
  int threads = 0;                // 0: every core oneTBB sees
  std::uint32_t block_size = 0;   // a power of two; 0: block_size_for(layout)
  std::vector<double> quantiles;  // strictly increasing, in (0, 1)
  std::uint64_t save_trajectories = 0;
  // The scenario every other one is compared with (paired, same random numbers).
  std::size_t base_scenario = 0;
  // Optional: fills a trajectory's given parameter values ([scenario][parameter], NaN: draw),
  // e.g. from a sensitivity-analysis design. Without it every parameter is drawn.
  std::function<void(std::uint64_t trajectory, std::span<double> values)> given_parameters;
  // Called after each block with the number of trajectories it ran (from worker threads).
  std::function<void(std::uint64_t)> on_block;
};

// The automatic block size: the largest power of two in [16, 128] whose block buffer (one
// double per summarised cell and trajectory) stays within 64 MiB, so that each cell's sketch
// and moments receive many values at once. (Measured on the default data: the baseline alone,
// 16,320 cells, 4,096 trajectories on 1 thread, took 1.58-1.74 s in blocks of 128 against
// 1.70-1.88 s at 64, 1.81-2.05 s at 32, 1.64-1.73 s at 256 and 1.92-2.01 s at 512; its four
// scenarios with their differences, 114,240 cells, ran 1.3x faster at 64 than at 16 on 2
// threads, for 79 MiB more memory, when that was last measured, before the baseline figures.)
// Results do not depend on it.
std::uint32_t block_size_for(const OutputLayout& layout);

// Fills the summaries, the paired comparisons with the base scenario, the saved trajectories
// and the axes that come from the simulator (scenarios, variables, regions, quantiles,
// parameters, variable metadata) of a RunResult. The caller adds the attributes and the time
// axis.
RunResult run(const Simulator& simulator, const RunnerOptions& options);

}  // namespace carecast::engine
