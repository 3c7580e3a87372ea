#include "engine/distribution.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "engine/samplers.h"

namespace carecast::engine {

namespace {

std::string number(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{}", x);
}

}  // namespace

bool Interval::contains(double x) const {
  if (std::isnan(x)) return false;
  if (low_open ? !(x > low) : !(x >= low)) return false;
  if (high_open ? !(x < high) : !(x <= high)) return false;
  return true;
}

bool Interval::contains(const Interval& other) const {
  const bool low_ok = other.low > low || (other.low == low && (!low_open || other.low_open));
  const bool high_ok = other.high < high || (other.high == high && (!high_open || other.high_open));
  return low_ok && high_ok;
}

std::string Interval::describe() const {
  const bool no_low = std::isinf(low) && low < 0;
  const bool no_high = std::isinf(high) && high > 0;
  if (no_low && no_high) return "any number";
  if (no_high) return fmt::format("{} {}", low_open ? ">" : ">=", number(low));
  if (no_low) return fmt::format("{} {}", high_open ? "<" : "<=", number(high));
  return fmt::format("in {}{}, {}{}", low_open ? "(" : "[", number(low), number(high),
                     high_open ? ")" : "]");
}

Distribution Distribution::fixed(double value) {
  if (!std::isfinite(value)) throw std::invalid_argument("value must be a finite number");
  Distribution d;
  d.p_[0] = value;
  return d;
}

Distribution Distribution::normal(double mean, double sd) {
  if (!std::isfinite(mean) || !(sd > 0) || !std::isfinite(sd))
    throw std::invalid_argument("normal needs a finite mean and sd > 0");
  Distribution d;
  d.kind_ = DistributionKind::normal;
  d.p_[0] = mean;
  d.p_[1] = sd;
  return d;
}

Distribution Distribution::lognormal(double mu, double sigma) {
  if (!std::isfinite(mu) || !(sigma > 0) || !std::isfinite(sigma))
    throw std::invalid_argument("lognormal needs a finite mu and sigma > 0");
  Distribution d;
  d.kind_ = DistributionKind::lognormal;
  d.p_[0] = mu;
  d.p_[1] = sigma;
  return d;
}

Distribution Distribution::uniform(double low, double high) {
  if (!std::isfinite(low) || !std::isfinite(high) || !(low < high))
    throw std::invalid_argument("uniform needs finite low < high");
  Distribution d;
  d.kind_ = DistributionKind::uniform;
  d.p_[0] = low;
  d.p_[1] = high;
  return d;
}

Distribution Distribution::triangular(double low, double mode, double high) {
  if (!std::isfinite(low) || !std::isfinite(mode) || !std::isfinite(high) || !(low < high) ||
      mode < low || mode > high)
    throw std::invalid_argument("triangular needs finite low <= mode <= high with low < high");
  Distribution d;
  d.kind_ = DistributionKind::triangular;
  d.p_[0] = low;
  d.p_[1] = mode;
  d.p_[2] = high;
  return d;
}

Distribution Distribution::beta(double a, double b) {
  if (!(a > 0) || !(b > 0) || !std::isfinite(a) || !std::isfinite(b))
    throw std::invalid_argument("beta needs a > 0 and b > 0");
  Distribution d;
  d.kind_ = DistributionKind::beta;
  d.p_[0] = a;
  d.p_[1] = b;
  return d;
}

Distribution Distribution::truncnormal(double mean, double sd, double low, double high) {
  if (!std::isfinite(mean) || !(sd > 0) || !std::isfinite(sd) || std::isnan(low) ||
      std::isnan(high) || !(low < high))
    throw std::invalid_argument("truncnormal needs a finite mean, sd > 0 and low < high");
  Distribution d;
  d.kind_ = DistributionKind::truncnormal;
  d.p_[0] = mean;
  d.p_[1] = sd;
  d.p_[2] = low;
  d.p_[3] = high;
  return d;
}

double Distribution::mean() const {
  switch (kind_) {
    case DistributionKind::fixed:
    case DistributionKind::normal:
      return p_[0];
    case DistributionKind::lognormal:
      return std::exp(p_[0] + 0.5 * p_[1] * p_[1]);
    case DistributionKind::uniform:
      return 0.5 * (p_[0] + p_[1]);
    case DistributionKind::triangular:
      return (p_[0] + p_[1] + p_[2]) / 3.0;
    case DistributionKind::beta:
      return p_[0] / (p_[0] + p_[1]);
    case DistributionKind::truncnormal:
      return truncated_normal_mean(p_[0], p_[1], p_[2], p_[3]);
  }
  return p_[0];
}

Interval Distribution::support() const {
  constexpr double inf = std::numeric_limits<double>::infinity();
  switch (kind_) {
    case DistributionKind::fixed:
      return {p_[0], p_[0], false, false};
    case DistributionKind::normal:
      return {-inf, inf, true, true};
    case DistributionKind::lognormal:
      return {0.0, inf, true, true};
    case DistributionKind::uniform:
      return {p_[0], p_[1], false, false};
    case DistributionKind::triangular:
      return {p_[0], p_[2], false, false};
    case DistributionKind::beta:
      return {0.0, 1.0, true, true};
    case DistributionKind::truncnormal:
      return {p_[2], p_[3], false, false};
  }
  return {};
}

double Distribution::draw(RandomStream& stream) const {
  switch (kind_) {
    case DistributionKind::fixed:
      return p_[0];
    case DistributionKind::normal:
      return sample_normal(stream, p_[0], p_[1]);
    case DistributionKind::lognormal:
      return sample_lognormal(stream, p_[0], p_[1]);
    case DistributionKind::uniform:
      return sample_uniform(stream, p_[0], p_[1]);
    case DistributionKind::triangular:
      return sample_triangular(stream, p_[0], p_[1], p_[2]);
    case DistributionKind::beta:
      return sample_beta(stream, p_[0], p_[1]);
    case DistributionKind::truncnormal:
      return sample_truncated_normal(stream, p_[0], p_[1], p_[2], p_[3]);
  }
  return p_[0];
}

}  // namespace carecast::engine
