#include "engine/moments.h"

#include <cmath>
#include <stdexcept>

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

// Mean and M2 of a balanced pairwise tree over x[0..n), n a power of two, with exactly the
// arithmetic of Moments::merge_later for two nodes of equal count.
void pairwise(const double* x, std::size_t n, double* mean, double* m2) {
  constexpr std::size_t kMax = 64;
  double m[kMax], s[kMax];
  if (n == 1) {
    *mean = x[0];
    *m2 = 0.0;
    return;
  }
  if (n > kMax) {  // recurse on halves, then merge as the cascade would
    double mean_a, m2_a, mean_b, m2_b;
    pairwise(x, n / 2, &mean_a, &m2_a);
    pairwise(x + n / 2, n / 2, &mean_b, &m2_b);
    const double half = static_cast<double>(n / 2);
    const double delta = mean_b - mean_a;
    *mean = mean_a + delta * 0.5;
    *m2 = m2_a + m2_b + delta * delta * (half * half / static_cast<double>(n));
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = x[i];
    s[i] = 0.0;
  }
  double size = 1.0;  // trajectories per node at this level
  for (std::size_t width = n; width > 1; width /= 2, size *= 2.0) {
    const double cross = size * size / (2.0 * size);
    for (std::size_t i = 0; i < width / 2; ++i) {
      const double delta = m[2 * i + 1] - m[2 * i];
      const double merged_mean = m[2 * i] + delta * 0.5;
      s[i] = s[2 * i] + s[2 * i + 1] + delta * delta * cross;
      m[i] = merged_mean;
    }
  }
  *mean = m[0];
  *m2 = s[0];
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

void summarise_cell(const double* values, std::size_t count, std::span<Moments> nodes,
                    std::size_t cell) {
  std::size_t offset = 0;
  for (Moments& node : nodes) {
    const auto size = static_cast<std::size_t>(node.count);
    if (offset + size > count) throw std::invalid_argument("summarise_cell: nodes do not match");
    pairwise(values + offset, size, &node.mean[cell], &node.m2[cell]);
    offset += size;
  }
}

std::vector<Moments> summarise_block(std::span<const double> values, std::size_t cells,
                                     std::size_t count, std::size_t stride) {
  if (count > stride || (cells > 0 && (cells - 1) * stride + count > values.size())) {
    throw std::invalid_argument("summarise_block: values too short");
  }
  std::vector<Moments> nodes = block_nodes(cells, count);
  for (std::size_t c = 0; c < cells; ++c) summarise_cell(values.data() + c * stride, count, nodes, c);
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
  while (!stack_.empty() && stack_.back().level == node.level) {
    Moments earlier = std::move(stack_.back());
    stack_.pop_back();
    earlier.merge_later(node);
    if (pool_.size() < kPoolSize) pool_.push_back(std::move(node));  // else freed
    node = std::move(earlier);
  }
  stack_.push_back(std::move(node));
}

std::vector<Moments> MomentCascade::take() {
  std::vector<Moments> out = std::move(stack_);
  stack_.clear();
  return out;
}

Moments MomentCascade::finish() {
  if (stack_.empty()) throw std::logic_error("MomentCascade: nothing was added");
  Moments result = std::move(stack_.back());
  stack_.pop_back();
  while (!stack_.empty()) {
    Moments earlier = std::move(stack_.back());
    stack_.pop_back();
    earlier.merge_later(result);
    result = std::move(earlier);
  }
  return result;
}

}  // namespace carecast::engine
