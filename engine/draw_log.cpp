#include "engine/draw_log.h"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

namespace carecast::engine {

void DrawLog::parameter(const Distribution& d, const StreamAddress& address) {
  calls_.push_back({Kind::parameter, static_cast<std::uint32_t>(parameters_.size()), 0, 0, {}});
  parameters_.emplace_back(d, address);
}

std::uint32_t DrawLog::slot_of(const BinomialProbabilityLanes* target) {
  const auto found = std::find(targets_.begin(), targets_.end(), target);
  if (found != targets_.end()) return static_cast<std::uint32_t>(found - targets_.begin());
  targets_.push_back(target);
  initial_.push_back(*target);
  return static_cast<std::uint32_t>(targets_.size() - 1);
}

void DrawLog::probabilities(const Lanes<double>& p, const BinomialProbabilityLanes* target) {
  calls_.push_back({Kind::probabilities, slot_of(target), 0, 0, p});
}

void DrawLog::check_batch(const LaneAddresses& address) {
  if (!batch_known_) {
    batch_ = address;
    batch_known_ = true;
  } else if (address.seed != batch_.seed || address.trajectory != batch_.trajectory) {
    throw std::invalid_argument("DrawLog: one log holds the draws of one batch of trajectories");
  }
}

void DrawLog::binomial(const LaneAddresses& address, const Lanes<double>& n,
                       const BinomialProbabilityLanes& probability) {
  check_batch(address);
  calls_.push_back({Kind::binomial, slot_of(&probability), address.site, address.month, n});
}

void DrawLog::normal(const LaneAddresses& address) {
  check_batch(address);
  calls_.push_back({Kind::normal, 0, address.site, address.month, {}});
}

std::size_t DrawLog::count(Kind kind) const {
  return static_cast<std::size_t>(
      std::count_if(calls_.begin(), calls_.end(), [&](const Call& c) { return c.kind == kind; }));
}

template <typename Use>
void DrawLog::run(Use&& use) const {
  std::vector<BinomialProbabilityLanes> slots = initial_;
  LaneAddresses address = batch_;
  Lanes<double> out;
  for (const Call& call : calls_) {
    switch (call.kind) {
      case Kind::parameter: {
        const auto& [d, at] = parameters_[call.index];
        RandomStream stream(at);
        use(d.draw(stream));
        break;
      }
      case Kind::probabilities:
        make_binomial_probability_lanes(call.lanes, slots[call.index]);
        break;
      case Kind::binomial:
        address.site = call.site;
        address.month = call.month;
        sample_binomial_lanes(address, call.lanes, slots[call.index], out);
        use(out);
        break;
      case Kind::normal:
        address.site = call.site;
        address.month = call.month;
        sample_standard_normal_lanes(address, out);
        use(out);
        break;
    }
  }
}

double DrawLog::replay() const {
  double sum = 0.0;
  run([&](const auto& x) {
    if constexpr (std::is_same_v<std::decay_t<decltype(x)>, double>) {
      sum += x;
    } else {
      for (const double v : x) sum += v;
    }
  });
  return sum;
}

std::vector<double> DrawLog::replay_variates() const {
  std::vector<double> variates;
  run([&](const auto& x) {
    if constexpr (!std::is_same_v<std::decay_t<decltype(x)>, double>) {
      variates.insert(variates.end(), x.begin(), x.end());
    }
  });
  return variates;
}

}  // namespace carecast::engine
