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
    pool_.push_back(std::move(node));
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
