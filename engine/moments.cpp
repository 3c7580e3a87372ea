#include "engine/moments.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace carecast::engine {

void Moments::merge_later(const Moments& later) {
  if (later.mean.size() != mean.size()) throw std::invalid_argument("Moments: cell counts differ");
  const double n_a = static_cast<double>(count), n_b = static_cast<double>(later.count);
  const double n = n_a + n_b;
  const double weight_b = n_b / n;
  const double cross = n_a * n_b / n;
  for (std::size_t i = 0; i < mean.size(); ++i) {
    const double delta = later.mean[i] - mean[i];
    mean[i] += delta * weight_b;
    m2[i] = m2[i] + later.m2[i] + delta * delta * cross;
  }
  count += later.count;
  ++level;
}

double Moments::sd(std::size_t i) const {
  return count > 1 ? std::sqrt(m2[i] / static_cast<double>(count - 1)) : 0.0;
}

namespace {

// A vector of kLanes doubles, one cell per lane, and the number of lanes: a whole register of
// the widest unit the build targets (GCC/Clang vector extensions; each lane's arithmetic is the
// scalar IEEE operation).
#if defined(__AVX512F__)
constexpr std::size_t kLanes = 8;
#elif defined(__AVX__)
constexpr std::size_t kLanes = 4;
#else
constexpr std::size_t kLanes = 2;
#endif
using Lanes = double __attribute__((vector_size(kLanes * sizeof(double))));
static_assert(kCellsAtOnce % kLanes == 0);

// The mean and M2 of a node: of one cell (V = double) or of a cell per lane (V = Lanes).
template <typename V>
struct Node {
  V mean;
  V m2;
};

// Merges into node a the node b that follows it, both of `size` trajectories, with exactly the
// arithmetic of Moments::merge_later (weight 1/2, cross term size * size / (2 size)).
template <typename V>
inline void merge(V& mean_a, V& m2_a, V mean_b, V m2_b, double size) {
  const double cross = size * size / (2.0 * size);
  const V delta = mean_b - mean_a;
  mean_a = mean_a + delta * 0.5;
  m2_a = m2_a + m2_b + delta * delta * cross;
}

// The balanced pairwise tree over the n nodes leaf(first), ..., leaf(first + n - 1), n a power
// of two, each of `size` trajectories: level by level, (0, 1), (2, 3), ..., as the cascade
// merges them.
template <typename V, typename Leaf>
Node<V> pairwise(std::size_t first, std::size_t n, double size, const Leaf& leaf) {
  constexpr std::size_t kMax = 16;  // nodes held at once; larger trees recurse on halves
  if (n > kMax) {
    const std::size_t half = n / 2;
    Node<V> a = pairwise<V>(first, half, size, leaf);
    const Node<V> b = pairwise<V>(first + half, half, size, leaf);
    merge(a.mean, a.m2, b.mean, b.m2, size * static_cast<double>(half));
    return a;
  }
  // Means and M2s in arrays of their own: gcc keeps a tree of V vectors in registers this way,
  // where an array of Node<V> is copied through memory.
  V m[kMax], s[kMax];
  for (std::size_t i = 0; i < n; ++i) {
    const Node<V> node = leaf(first + i);
    m[i] = node.mean;
    s[i] = node.m2;
  }
  for (std::size_t width = n; width > 1; width /= 2, size *= 2.0) {
    for (std::size_t i = 0; i < width / 2; ++i) {
      V mean = m[2 * i], m2 = s[2 * i];
      merge(mean, m2, m[2 * i + 1], s[2 * i + 1], size);
      m[i] = mean;
      s[i] = m2;
    }
  }
  return {m[0], s[0]};
}

// kLanes doubles from p on, aligned or not.
inline Lanes load(const double* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One stage of a kLanes x kLanes transpose: swaps bit `Bit` of the lane with that bit of the
// vector's index (for lanes L...: 0, 1, ..., kLanes - 1).
template <std::size_t Bit, std::size_t... L>
inline void transpose_stage(Lanes (&v)[kLanes], std::index_sequence<L...>) {
  for (std::size_t i = 0; i < kLanes; ++i) {
    if ((i & Bit) != 0) continue;
    const Lanes a = v[i], b = v[i | Bit];
    v[i] = __builtin_shufflevector(a, b, ((L & Bit) != 0 ? kLanes + (L ^ Bit) : L)...);
    v[i | Bit] = __builtin_shufflevector(a, b, ((L & Bit) != 0 ? kLanes + L : L ^ Bit)...);
  }
}

// v[j] lane c = rows[c * stride + j], for j, c < kLanes.
inline void load_transposed(const double* rows, std::size_t stride, Lanes (&v)[kLanes]) {
  for (std::size_t c = 0; c < kLanes; ++c) v[c] = load(rows + c * stride);
  constexpr auto lanes = std::make_index_sequence<kLanes>();
  transpose_stage<1>(v, lanes);
  if constexpr (kLanes > 2) transpose_stage<2>(v, lanes);
  if constexpr (kLanes > 4) transpose_stage<4>(v, lanes);
}

// The node of `size` (>= kLanes) trajectories from column `offset` on, for the kLanes cells
// whose rows start at `rows`. The tree's first levels run on transposed tiles of kLanes columns,
// so that every merge is one vector operation on kLanes cells. With kPrefetch, the same columns
// of the next kLanes rows are prefetched along the way, into L2 (into L1 measured half as fast
// on a block coming from memory): a block streamed from memory is read kLanes rows at once,
// streams too short for the hardware prefetcher to pick up.
template <bool kPrefetch>
Node<Lanes> lanes_node(const double* rows, std::size_t stride, std::size_t offset,
                       std::size_t size) {
  const auto tile = [&](std::size_t t) {
    const std::size_t column = offset + t * kLanes;
    if constexpr (kPrefetch) {
      for (std::size_t c = kLanes; c < 2 * kLanes; ++c) {
        __builtin_prefetch(rows + c * stride + column, 0, 2);
      }
    }
    Lanes v[kLanes];
    load_transposed(rows + column, stride, v);
    return pairwise<Lanes>(0, kLanes, 1.0, [&](std::size_t j) { return Node<Lanes>{v[j], Lanes{}}; });
  };
  return pairwise<Lanes>(0, size / kLanes, static_cast<double>(kLanes), tile);
}

// Cell `cell` of `node` from row `row` alone, the node's trajectories from column `offset` on.
void summarise_one(const double* row, std::size_t offset, Moments& node, std::size_t cell) {
  const Node<double> one =
      pairwise<double>(offset, static_cast<std::size_t>(node.count), 1.0,
                       [&](std::size_t j) { return Node<double>{row[j], 0.0}; });
  node.mean[cell] = one.mean;
  node.m2[cell] = one.m2;
}

}  // namespace

std::vector<Moments> block_nodes(std::size_t cells, std::size_t count) {
  std::vector<Moments> nodes;
  for (int level = 63; level >= 0; --level) {
    const std::size_t size = std::size_t{1} << level;
    if ((count & size) == 0) continue;
    Moments& node = nodes.emplace_back();
    node.count = size;
    node.level = level;
    node.mean.resize(cells);
    node.m2.resize(cells);
  }
  return nodes;
}

void summarise_cells(const double* first_row, std::size_t stride, std::size_t cells,
                     std::size_t count, std::span<Moments> nodes, std::size_t first_cell) {
  std::size_t total = 0;
  for (const Moments& node : nodes) {
    total += static_cast<std::size_t>(node.count);
    if (node.mean.size() < first_cell + cells || node.m2.size() < first_cell + cells) {
      throw std::invalid_argument("summarise_cells: nodes too small");
    }
  }
  if (total != count) throw std::invalid_argument("summarise_cells: nodes do not match");
  std::size_t c = 0;
  for (; c + kLanes <= cells; c += kLanes) {
    const double* rows = first_row + c * stride;
    const bool more = c + 2 * kLanes <= cells;  // another kLanes rows follow
    std::size_t offset = 0;
    for (Moments& node : nodes) {
      const auto size = static_cast<std::size_t>(node.count);
      if (size >= kLanes) {
        const Node<Lanes> lanes = more ? lanes_node<true>(rows, stride, offset, size)
                                       : lanes_node<false>(rows, stride, offset, size);
        std::memcpy(node.mean.data() + first_cell + c, &lanes.mean, sizeof(Lanes));
        std::memcpy(node.m2.data() + first_cell + c, &lanes.m2, sizeof(Lanes));
      } else {  // smaller than a tile (the last node of a partial block): a cell at a time
        for (std::size_t k = 0; k < kLanes; ++k) {
          summarise_one(rows + k * stride, offset, node, first_cell + c + k);
        }
      }
      offset += size;
    }
  }
  for (; c < cells; ++c) {  // fewer than kLanes cells left: a cell at a time
    std::size_t offset = 0;
    for (Moments& node : nodes) {
      summarise_one(first_row + c * stride, offset, node, first_cell + c);
      offset += static_cast<std::size_t>(node.count);
    }
  }
}

std::vector<Moments> summarise_block(std::span<const double> values, std::size_t cells,
                                     std::size_t count, std::size_t stride) {
  if (count > stride || (cells > 0 && (cells - 1) * stride + count > values.size())) {
    throw std::invalid_argument("summarise_block: values too short");
  }
  std::vector<Moments> nodes = block_nodes(cells, count);
  summarise_cells(values.data(), stride, cells, count, nodes, 0);
  return nodes;
}

// Spare nodes kept for add(): one leaf at a time needs at most one or two.
namespace {
constexpr std::size_t kPoolSize = 2;
}  // namespace

Moments MomentCascade::fresh_node() {
  if (!pool_.empty()) {
    Moments node = std::move(pool_.back());
    pool_.pop_back();
    return node;
  }
  Moments node;
  node.mean.resize(cells_);
  node.m2.resize(cells_);
  return node;
}

void MomentCascade::add(std::span<const double> values) {
  if (values.size() != cells_) throw std::invalid_argument("MomentCascade: wrong cell count");
  Moments leaf = fresh_node();
  leaf.count = 1;
  leaf.level = 0;
  std::copy(values.begin(), values.end(), leaf.mean.begin());
  std::fill(leaf.m2.begin(), leaf.m2.end(), 0.0);
  push(std::move(leaf));
}

void MomentCascade::push(Moments&& node) {
  if (node.level > fold_level_) {
    throw std::invalid_argument("MomentCascade: a node of 2^" + std::to_string(node.level) +
                                " trajectories is above the fold level " +
                                std::to_string(fold_level_));
  }
  while (!stack_.empty() && stack_.back().level == node.level) {
    Moments earlier = std::move(stack_.back());
    stack_.pop_back();
    earlier.merge_later(node);
    if (pool_.size() < kPoolSize) pool_.push_back(std::move(node));  // else freed
    node = std::move(earlier);
  }
  if (node.level < fold_level_) {
    stack_.push_back(std::move(node));
  } else if (folded_.count == 0) {
    folded_ = std::move(node);
  } else {
    folded_.merge_later(node);
  }
}

std::vector<Moments> MomentCascade::take() {
  std::vector<Moments> out;
  if (folded_.count > 0) out.push_back(std::exchange(folded_, Moments{}));
  for (auto& node : stack_) out.push_back(std::move(node));
  stack_.clear();
  return out;
}

Moments MomentCascade::finish() {
  if (stack_.empty() && folded_.count == 0) {
    throw std::logic_error("MomentCascade: nothing was added");
  }
  std::vector<Moments> nodes = take();
  Moments result = std::move(nodes.back());
  nodes.pop_back();
  while (!nodes.empty()) {
    Moments earlier = std::move(nodes.back());
    nodes.pop_back();
    earlier.merge_later(result);
    result = std::move(earlier);
  }
  return result;
}

}  // namespace carecast::engine
