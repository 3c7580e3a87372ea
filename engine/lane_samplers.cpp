#include "engine/lane_samplers.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace carecast::engine {

namespace {

RandomStream open(const LaneAddresses& address, std::size_t lane) {
  return RandomStream({address.seed, address.trajectory[lane], address.site, address.month});
}

std::int64_t count(double n) {
  if (!(n >= 0 && n <= 0x1.0p53) || std::floor(n) != n) {
    throw std::invalid_argument("sample_binomial_lanes: n must be a whole number in [0, 2^53], "
                                "but is " + std::to_string(n));
  }
  return static_cast<std::int64_t>(n);
}

}  // namespace

// Reference implementation: one lane at a time through the scalar samplers.
void sample_standard_normal_lanes(const LaneAddresses& address, Lanes<double>& out) {
  for (std::size_t l = 0; l < kLanes; ++l) {
    auto stream = open(address, l);
    out[l] = sample_normal(stream, 0.0, 1.0);
  }
}

void sample_binomial_lanes(const LaneAddresses& address, const Lanes<double>& n,
                           const Lanes<const BinomialProbability*>& probability,
                           Lanes<double>& out) {
  for (std::size_t l = 0; l < kLanes; ++l) {
    const std::int64_t k = count(n[l]);
    if (k == 0) {
      out[l] = 0.0;
      continue;
    }
    auto stream = open(address, l);
    out[l] = static_cast<double>(sample_binomial(stream, k, *probability[l]));
  }
}

}  // namespace carecast::engine
