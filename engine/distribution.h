// A scalar parameter: a fixed number or a distribution drawn once per trajectory.
//
// In stochastic mode a parameter is drawn from its own stream address, so the same trajectory
// draws the same value in every scenario (common random numbers); in expected mode it is
// replaced by its mean.
#pragma once

#include <limits>
#include <string>

#include "engine/random_stream.h"

namespace carecast::engine {

enum class DistributionKind { fixed, normal, lognormal, uniform, triangular, beta, truncnormal };

// The allowed values of a parameter: [low, high], with either end optionally open.
struct Interval {
  double low = -std::numeric_limits<double>::infinity();
  double high = std::numeric_limits<double>::infinity();
  bool low_open = false;
  bool high_open = false;

  bool contains(double x) const;
  // Whether every value in [lo, hi] (with the given openness) lies inside this interval.
  bool contains(const Interval& other) const;
  std::string describe() const;  // e.g. "in [0, 1]", "> 0", "any number"

  static Interval any() { return {}; }
  static Interval nonnegative() { return {0.0, kInf, false, false}; }
  static Interval positive() { return {0.0, kInf, true, false}; }
  static Interval unit() { return {0.0, 1.0, false, false}; }
  static Interval open_unit() { return {0.0, 1.0, true, true}; }
  static Interval half_open_unit() { return {0.0, 1.0, false, true}; }  // [0, 1)
  static Interval unit_excluding_zero() { return {0.0, 1.0, true, false}; }  // (0, 1]

 private:
  static constexpr double kInf = std::numeric_limits<double>::infinity();
};

class Distribution {
 public:
  Distribution() = default;
  static Distribution fixed(double value);
  static Distribution normal(double mean, double sd);
  static Distribution lognormal(double mu, double sigma);
  static Distribution uniform(double low, double high);
  static Distribution triangular(double low, double mode, double high);
  static Distribution beta(double a, double b);
  static Distribution truncnormal(double mean, double sd, double low, double high);

  DistributionKind kind() const { return kind_; }
  bool is_fixed() const { return kind_ == DistributionKind::fixed; }
  double mean() const;
  // The smallest interval holding every value the distribution can take.
  Interval support() const;
  double draw(RandomStream& stream) const;

  bool operator==(const Distribution& other) const = default;

 private:
  DistributionKind kind_ = DistributionKind::fixed;
  double p_[4] = {0.0, 0.0, 0.0, 0.0};
};

}  // namespace carecast::engine
