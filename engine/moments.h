// Means and variances of many cells, merged over a fixed binary tree of trajectory indices.
//
// Floating-point addition is not associative, so a reduction is bit-reproducible only if its
// order is fixed. MomentCascade fixes it by the trajectory index alone: trajectories are paired
// as in a binary counter (0+1, 2+3, (0..1)+(2..3), ...), and whatever remains at the end is
// folded from the most recent node down. A block of 2^k trajectories starting at a multiple of
// 2^k is then exactly one subtree, so the result is the same for any number of threads and any
// power-of-two block size. Subtrees of 2^kFoldLevel trajectories are summed in order rather
// than paired further (below), which bounds the cascade's memory. Merges use Chan et al.'s
// pairwise update of (count, mean, M2).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace carecast::engine {

struct Moments {
  std::uint64_t count = 0;
  int level = 0;  // a full subtree of 2^level trajectories (the last, partial ones excepted)
  std::vector<double> mean;
  std::vector<double> m2;  // sum of squared deviations from the mean

  // Merges `later`, which summarises the trajectories that follow this node's.
  void merge_later(const Moments& later);
  // Sample standard deviation of cell i (0 for fewer than two trajectories).
  double sd(std::size_t i) const;
};

// The nodes MomentCascade::add would leave after adding `count` trajectories to an empty
// cascade, computed cell by cell: values[c * stride + j] is trajectory j's value of cell c.
// One node per set bit of `count`, largest first; bit-identical to the cascade.
std::vector<Moments> summarise_block(std::span<const double> values, std::size_t cells,
                                     std::size_t count, std::size_t stride);

// summarise_block() a few cells at a time, for callers that visit each cell's values anyway:
// block_nodes() makes the nodes (zeroed, one per set bit of `count`, largest first) and
// summarise_cells() fills cells first_cell, ..., first_cell + cells - 1 of them from those cells'
// `count` values each, first_row[c * stride + j] being trajectory j's value of cell
// first_cell + c. Adjacent cells are summarised together, kCellsAtOnce (or fewer: one per lane of
// the widest vector the build has) at a time, so a group of a multiple of kCellsAtOnce leaves no
// cell to go alone. The result is bit-identical to summarise_block().
inline constexpr std::size_t kCellsAtOnce = 8;
std::vector<Moments> block_nodes(std::size_t cells, std::size_t count);
void summarise_cells(const double* first_row, std::size_t stride, std::size_t cells,
                     std::size_t count, std::span<Moments> nodes, std::size_t first_cell);

// Subtrees of 2^kFoldLevel trajectories are not paired further but folded one after another, in
// trajectory order, into a single running node: the cascade then holds at most kFoldLevel + 1
// nodes, so its memory stops growing with the number of trajectories (for the default baseline
// a node is 255 KiB). A run of fewer than 3 * 2^kFoldLevel trajectories has the same result, bit
// for bit, as pairing all the way up (the first fold is a pairing, and so is the last merge of
// finish()); beyond, the order of the sum is still fixed by the trajectory index alone. Pushed
// nodes, hence blocks of trajectories, are at most 2^kFoldLevel.
inline constexpr int kFoldLevel = 14;

class MomentCascade {
 public:
  explicit MomentCascade(std::size_t cells, int fold_level = kFoldLevel)
      : cells_(cells), fold_level_(fold_level) {}

  // Adds one trajectory's values; trajectories must come in index order.
  void add(std::span<const double> values);
  // Adds a finished node (from another cascade), in trajectory order; its level must not
  // exceed the fold level (std::invalid_argument).
  void push(Moments&& node);
  // Hands over the nodes, oldest first (the folded one, then the stack), leaving the cascade
  // empty.
  std::vector<Moments> take();
  // Folds the stack: the moments of everything added. Leaves the cascade empty.
  Moments finish();

 private:
  Moments fresh_node();

  std::size_t cells_;
  int fold_level_;
  Moments folded_;              // every subtree of fold level so far, folded in order
  std::vector<Moments> stack_;  // levels strictly decreasing from bottom to top, below the fold
  std::vector<Moments> pool_;   // a few spare nodes, so add() need not allocate per trajectory
};

}  // namespace carecast::engine
