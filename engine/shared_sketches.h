// The quantile sketches of every cell of a run, one set shared by all of the run's threads.
//
// Each thread used to keep a sketch per cell and the run merged them at the end: the sketches
// are most of a run's memory (13.5 MiB of bins for the default baseline at 10^4 trajectories),
// so memory grew with the thread count, by that much per thread for the baseline, and for four
// scenarios with their differences (seven times the cells) by more. Here the cells are taken in
// groups of adjacent cells (for the runner, a (scenario, variable, month)'s regions; to this
// class only a number of cells), each group under a spin lock held while one thread adds a
// block's rows of the group. A sketch's
// state is integer counts whose sum does not depend on the order of the additions
// (engine/quantile_sketch.h), so the result is the same bit for bit whichever thread adds
// first, and the same as merging per-thread sketches. A thread that finds a group busy can add
// another first (try_add) and come back to it (add), so that threads working through the same
// month rarely wait for each other.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "engine/quantile_sketch.h"

namespace carecast::engine {

class SharedSketches {
 public:
  // Sketches for `cells` cells in groups of `group` adjacent cells (cells a multiple of group).
  SharedSketches(std::size_t cells, std::size_t group);

  // Adds rows[r * stride + j] for j < count to the sketch of cell first_cell + r, for every r
  // of the group that begins at first_cell (a multiple of the group size), unless another
  // thread is adding to that group: then adds nothing and returns false.
  bool try_add(std::size_t first_cell, const double* rows, std::size_t stride, std::size_t count);
  // The same, waiting for the group if another thread holds it.
  void add(std::size_t first_cell, const double* rows, std::size_t stride, std::size_t count);

  // The sketch of a cell, once no thread adds any more.
  QuantileSketch& operator[](std::size_t cell) { return sketches_[cell]; }
  std::size_t size() const { return sketches_.size(); }
  std::size_t group() const { return group_; }

 private:
  void add_locked(std::size_t first_cell, const double* rows, std::size_t stride,
                  std::size_t count);
  std::atomic<bool>& lock_of(std::size_t first_cell);

  std::size_t group_;
  std::vector<QuantileSketch> sketches_;
  std::unique_ptr<std::atomic<bool>[]> locks_;  // [group]: true while a thread adds to it
};

}  // namespace carecast::engine
