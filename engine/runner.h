// Runs a Simulator over many trajectories in parallel and summarises the outputs.
//
// Work is cut into blocks of `block_size` trajectories (a power of two), the last few blocks'
// worth into smaller pieces so that the threads finish together (engine/block_schedule.h). Each
// oneTBB thread takes the next piece in index order until none is left, with its own model
// scratch and month buffer. A piece begins its model batches (Simulator::begin_batch,
// batch_size() trajectories each), then steps them all a month at a time (Simulator::step): each
// month's outputs of the whole piece land in the month buffer, cell by cell, and are summarised
// from there while still in the cache. A piece's means and variances come back as MomentCascade
// subtrees pushed into the run's cascade in piece order (a piece that finishes before an
// earlier one waits for it); every thread adds to the run's one set of quantile sketches
// (engine/shared_sketches.h), and each thread's "better than the base" counts (integers) are
// summed at the end, as the summaries are read out cell by cell in parallel. Every scenario
// other than the base is also summarised as its per-trajectory difference from the base. So
// the summaries are bit-identical for any thread count and any power-of-two block size. Memory
// grows with the number of trajectories only through the sketches' range, which is capped (the
// cascade's depth stops at its fold level; see docs/engine.md). An exception from the model stops
// every thread after its current piece and leaves run() as thrown.
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
  // A power of two, at most 2^kFoldLevel (engine/moments.h); 0: block_size_for(layout).
  std::uint32_t block_size = 0;
  std::vector<double> quantiles;  // strictly increasing, in (0, 1)
  std::uint64_t save_trajectories = 0;
  // The scenario every other one is compared with (paired, same random numbers).
  std::size_t base_scenario = 0;
  // Optional: fills a trajectory's given parameter values ([scenario][parameter], NaN: draw),
  // e.g. from a sensitivity-analysis design. Without it every parameter is drawn.
  std::function<void(std::uint64_t trajectory, std::span<double> values)> given_parameters;
  // Called after each piece with the number of trajectories it ran (from worker threads).
  std::function<void(std::uint64_t)> on_block;
};

// The automatic block size: the largest power of two in [16, 256] whose month buffer (one
// double per summarised cell of a month and trajectory) stays within 4 MiB, so that each cell's
// sketch and moments receive many values at once while the buffer stays in the cache. Results
// do not depend on it.
std::uint32_t block_size_for(const OutputLayout& layout);

// Fills the summaries, the paired comparisons with the base scenario, the saved trajectories
// and the axes that come from the simulator (scenarios, variables, regions, quantiles,
// parameters, variable metadata) of a RunResult. The caller adds the attributes and the time
// axis.
RunResult run(const Simulator& simulator, const RunnerOptions& options);

}  // namespace carecast::engine
