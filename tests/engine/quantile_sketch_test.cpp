#include "engine/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
#include <span>
#include <stdexcept>
#include <vector>

#include "engine/random_stream.h"

namespace carecast::engine {
namespace {

constexpr double kAlpha = QuantileSketch::kRelativeAccuracy;

// Test data from the engine's counter-based generator and inverse CDFs written here.
class Draws {
 public:
  explicit Draws(std::uint32_t site) : stream_(StreamAddress{20240611u, 0, site, 0}) {}
  double uniform() { return stream_.uniform(); }
  double uniform(double a, double b) { return a + (b - a) * stream_.uniform(); }
  double exponential(double mean) { return -mean * std::log(stream_.uniform()); }
  double normal() {  // Box-Muller, one of the pair
    const double r = std::sqrt(-2.0 * std::log(stream_.uniform()));
    return r * std::cos(2.0 * std::numbers::pi * stream_.uniform());
  }
  double lognormal(double mu, double sigma) { return std::exp(mu + sigma * normal()); }
  double binomial(int trials, double p) {
    int k = 0;
    for (int i = 0; i < trials; ++i) k += stream_.uniform() < p;
    return k;
  }

 private:
  RandomStream stream_;
};

std::vector<double> generate(std::size_t n, std::uint32_t site,
                             const std::function<double(Draws&)>& draw) {
  Draws draws(site);
  std::vector<double> values(n);
  for (double& v : values) v = draw(draws);
  return values;
}

// q = 0, 0.001, ..., 0.999, 1.
std::vector<double> grid() {
  std::vector<double> qs;
  for (int i = 0; i <= 1000; ++i) qs.push_back(i / 1000.0);
  return qs;
}

// The documented guarantee: for k = floor(q (n - 1)), |x~ - x_(k)| <= a |x_(k)| when |x_(k)| >= T
// (T = absolute_error_bound()), and < T otherwise, with T <= max(kZeroThreshold,
// M gamma^(-0.96 (kMaxBins - 2))) for the largest magnitude M. Checks it for every q of the grid,
// through quantile() and through the batch quantiles(), and returns the largest relative error
// seen.
double expect_guarantee(const std::vector<double>& data, const char* what) {
  QuantileSketch sketch;
  for (const double v : data) sketch.add(v);
  std::vector<double> sorted = data;
  std::sort(sorted.begin(), sorted.end());
  const auto n = sorted.size();
  EXPECT_EQ(sketch.count(), n) << what;
  EXPECT_EQ(sketch.min(), sorted.front()) << what;
  EXPECT_EQ(sketch.max(), sorted.back()) << what;
  const double largest = std::max(std::fabs(sorted.front()), std::fabs(sorted.back()));
  const double bound = sketch.absolute_error_bound();
  EXPECT_GE(bound, QuantileSketch::kZeroThreshold) << what;
  EXPECT_LE(bound, std::max(QuantileSketch::kZeroThreshold,
                            largest * std::exp(-0.96 * (QuantileSketch::kMaxBins - 2) *
                                               QuantileSketch::kLogGamma)))
      << what;

  const std::vector<double> qs = grid();
  std::vector<double> batch(qs.size());
  sketch.quantiles(qs, batch);
  double worst = 0.0;
  for (std::size_t j = 0; j < qs.size(); ++j) {
    const double q = qs[j];
    const auto k = static_cast<std::size_t>(std::floor(q * static_cast<double>(n - 1)));
    const double exact = sorted[k];
    const double got = sketch.quantile(q);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(batch[j]))
        << what << " q=" << q;
    if (k == 0) {
      EXPECT_EQ(got, sorted.front()) << what;
    } else if (k == n - 1) {
      EXPECT_EQ(got, sorted.back()) << what;
    }
    const double error = std::fabs(got - exact);
    if (std::fabs(exact) >= bound) {
      EXPECT_LE(error, kAlpha * std::fabs(exact)) << what << " q=" << q << " exact=" << exact;
      worst = std::max(worst, error / std::fabs(exact));
    } else {
      EXPECT_LT(error, bound) << what << " q=" << q;
    }
  }
  return worst;
}

constexpr std::size_t kN = 100'000;

TEST(QuantileSketch, Uniform) {
  const double worst =
      expect_guarantee(generate(kN, 1, [](Draws& d) { return d.uniform(10.0, 20.0); }), "uniform");
  EXPECT_GT(worst, 0.0);  // the sketch really is approximate: the test is not vacuous
}

TEST(QuantileSketch, Exponential) {
  expect_guarantee(generate(kN, 2, [](Draws& d) { return d.exponential(3.0); }), "exponential");
}

TEST(QuantileSketch, LognormalHeavyTail) {
  expect_guarantee(generate(kN, 3, [](Draws& d) { return d.lognormal(2.0, 2.5); }), "lognormal");
}

TEST(QuantileSketch, NormalAroundZeroMixedSign) {
  expect_guarantee(generate(kN, 4, [](Draws& d) { return 5.0 * d.normal(); }), "normal");
  expect_guarantee(generate(kN, 5, [](Draws& d) { return 1.0 + 0.5 * d.normal(); }),
                   "normal, mostly positive");
}

TEST(QuantileSketch, NegativeOnly) {
  expect_guarantee(generate(kN, 6, [](Draws& d) { return -d.lognormal(0.0, 1.0); }), "negative");
}

TEST(QuantileSketch, IntegersWithTiesAndZeros) {
  expect_guarantee(generate(kN, 7, [](Draws& d) { return d.binomial(6, 0.2); }), "binomial");
  expect_guarantee(generate(kN, 8, [](Draws& d) { return d.binomial(3, 0.5) - 1.0; }),
                   "binomial shifted");
  expect_guarantee(generate(kN, 9, [](Draws& d) { return std::floor(d.exponential(400.0)); }),
                   "integer counts");
}

TEST(QuantileSketch, ManyOrdersOfMagnitude) {
  expect_guarantee(
      generate(kN, 10, [](Draws& d) { return std::pow(10.0, d.uniform(-8.9, 300.0)); }),
      "1e-9..1e300");
  expect_guarantee(generate(kN, 11,
                            [](Draws& d) {
                              const double m = std::pow(10.0, d.uniform(-8.0, 12.0));
                              return d.uniform() < 0.4 ? -m : m;
                            }),
                   "+-1e-8..1e12");
  // The extremes of the double range.
  std::vector<double> extremes = {std::numeric_limits<double>::max(),
                                  -std::numeric_limits<double>::max(),
                                  QuantileSketch::kZeroThreshold,
                                  -QuantileSketch::kZeroThreshold,
                                  1.0,
                                  std::nextafter(2.0, 0.0),
                                  2.0,
                                  0.75 * std::numeric_limits<double>::max()};
  expect_guarantee(extremes, "extremes");
}

TEST(QuantileSketch, ConstantStreamIsExact) {
  for (const double c : {3.7, -0.0123, 1e-12, 0.0, 123456.789}) {
    QuantileSketch sketch;
    for (int i = 0; i < 1000; ++i) sketch.add(c);
    for (const double q : grid()) EXPECT_EQ(sketch.quantile(q), c) << c;
  }
}

TEST(QuantileSketch, SingleValueIsExact) {
  QuantileSketch sketch;
  sketch.add(42.4242);
  EXPECT_EQ(sketch.count(), 1u);
  EXPECT_EQ(sketch.quantile(0.0), 42.4242);
  EXPECT_EQ(sketch.quantile(0.5), 42.4242);
  EXPECT_EQ(sketch.quantile(1.0), 42.4242);
}

TEST(QuantileSketch, TwoValues) {
  QuantileSketch sketch;
  sketch.add(7.0);
  sketch.add(-3.0);
  // k = floor(q * 1): 0 for q < 1, 1 for q = 1.
  EXPECT_EQ(sketch.quantile(0.0), -3.0);  // clamped to min
  EXPECT_NEAR(sketch.quantile(0.999), -3.0, 3.0 * kAlpha);
  EXPECT_EQ(sketch.quantile(1.0), 7.0);  // clamped to max
  expect_guarantee({7.0, -3.0}, "two values");
  expect_guarantee({1.0, 1.001}, "two close values");
}

TEST(QuantileSketch, ZeroBin) {
  QuantileSketch sketch;
  for (const double v : {1e-10, -1e-11, 0.0, -0.0, 5e-10}) sketch.add(v);
  sketch.add(2.0);
  EXPECT_EQ(sketch.count(), 6u);
  EXPECT_EQ(sketch.min(), -1e-11);
  EXPECT_EQ(sketch.max(), 2.0);
  EXPECT_EQ(sketch.quantile(0.2), 0.0);     // k = 1, in the zero bin
  EXPECT_EQ(sketch.quantile(0.0), -1e-11);  // k = 0: the exact min
  EXPECT_EQ(sketch.quantile(1.0), 2.0);
  // -0.0 is recorded as +0.0, so min/max do not depend on which zero came first.
  QuantileSketch zeros;
  zeros.add(-0.0);
  EXPECT_FALSE(std::signbit(zeros.min()));
  EXPECT_FALSE(std::signbit(zeros.quantile(0.5)));
}

TEST(QuantileSketch, EmptySketch) {
  QuantileSketch sketch;
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(sketch.empty());
  EXPECT_TRUE(std::isnan(sketch.quantile(0.5)));
  EXPECT_TRUE(std::isnan(sketch.min()));
  EXPECT_TRUE(std::isnan(sketch.max()));
  EXPECT_EQ(sketch.bin_count(), 0u);
  EXPECT_EQ(sketch, QuantileSketch());
}

TEST(QuantileSketch, BadInputsThrow) {
  QuantileSketch sketch;
  sketch.add(1.0);
  EXPECT_THROW(sketch.add(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(sketch.add(std::numeric_limits<double>::infinity()), std::invalid_argument);
  EXPECT_THROW(sketch.add(-std::numeric_limits<double>::infinity()), std::invalid_argument);
  EXPECT_EQ(sketch.count(), 1u);  // unchanged
  EXPECT_EQ(sketch.max(), 1.0);
  EXPECT_THROW(sketch.quantile(-0.01), std::invalid_argument);
  EXPECT_THROW(sketch.quantile(1.01), std::invalid_argument);
  EXPECT_THROW(sketch.quantile(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  std::vector<double> qs = {0.1, 0.5}, out(3);
  EXPECT_THROW(sketch.quantiles(qs, out), std::invalid_argument);
  std::vector<double> bad_qs = {0.1, 2.0}, out2(2);
  EXPECT_THROW(sketch.quantiles(bad_qs, out2), std::invalid_argument);
}

TEST(QuantileSketch, AddAllMatchesAdd) {
  const auto data = generate(50'000, 18, [](Draws& d) {
    const double u = d.uniform();
    return u < 0.05 ? 0.0 : (u < 0.1 ? -0.0 : 3.0 * d.normal());
  });
  QuantileSketch one_by_one, all, in_pieces;
  for (const double v : data) one_by_one.add(v);
  all.add_all(data);
  in_pieces.add(1.5);  // not empty before
  in_pieces.add_all(std::span(data).first(20'000));
  in_pieces.add_all(std::span(data).subspan(20'000));
  QuantileSketch expected_pieces;
  expected_pieces.add(1.5);
  for (const double v : data) expected_pieces.add(v);
  EXPECT_EQ(all, one_by_one);
  EXPECT_EQ(in_pieces, expected_pieces);
  EXPECT_EQ(all.quantile(0.3), one_by_one.quantile(0.3));

  // A bad value anywhere: nothing is added.
  std::vector<double> bad = {1.0, 2.0, std::numeric_limits<double>::quiet_NaN(), 3.0};
  QuantileSketch before = all;
  EXPECT_THROW(all.add_all(bad), std::invalid_argument);
  bad[2] = -std::numeric_limits<double>::infinity();
  EXPECT_THROW(all.add_all(bad), std::invalid_argument);
  EXPECT_EQ(all, before);
}

// Hard values for add_all: mixed signs over many octaves, zeros of both signs, values at and
// around kZeroThreshold, denormals, DBL_MAX, DBL_MIN, bin boundaries (where a difference in the
// index arithmetic would show) and repeats.
double tricky_value(Draws& d, double previous) {
  constexpr double kMax = std::numeric_limits<double>::max();
  constexpr double kThreshold = QuantileSketch::kZeroThreshold;
  const double sign = d.uniform() < 0.5 ? -1.0 : 1.0;
  switch (static_cast<int>(d.uniform() * 12)) {
    case 0:
      return sign * 0.0;
    case 1: {
      const double near[] = {kThreshold, std::nextafter(kThreshold, 0.0),
                             std::nextafter(kThreshold, 1.0), 0.5 * kThreshold, 2 * kThreshold};
      return sign * near[static_cast<int>(d.uniform() * 5)];
    }
    case 2: {
      const double tiny[] = {std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::min(), 1e-310, 1e-300, 1e-200};
      return sign * tiny[static_cast<int>(d.uniform() * 5)];
    }
    case 3: {
      const double huge[] = {kMax, std::nextafter(kMax, 0.0), 1e308, 0x1p1023, 1e300};
      return sign * huge[static_cast<int>(d.uniform() * 5)];
    }
    case 4: {  // at or next to a bin boundary
      const auto i = static_cast<std::int32_t>(d.uniform(-2000.0, 2000.0));
      const double lower = QuantileSketch::bin_lower_bound(i);
      const double around[] = {lower, std::nextafter(lower, 0.0), std::nextafter(lower, kMax)};
      return sign * around[static_cast<int>(d.uniform() * 3)];
    }
    case 5: {  // powers of two and their neighbours
      const double power = std::ldexp(1.0, static_cast<int>(d.uniform(-60.0, 60.0)));
      const double around[] = {power, std::nextafter(power, 0.0), std::nextafter(power, kMax)};
      return sign * around[static_cast<int>(d.uniform() * 3)];
    }
    case 6:
    case 7:
      return previous;  // runs of equal values
    case 8:
      return d.lognormal(2.0, 0.05);  // one narrow cluster
    default:                          // any sign, any magnitude from 1e-12 to 1e12
      return sign * d.uniform(1.0, 2.0) * std::pow(10.0, d.uniform(-12.0, 12.0));
  }
}

// add_all() leaves exactly the state of add() one value at a time (operator==, and the same
// zero signs of min and max), for spans of every length from 0 to 300 (past the internal chunk
// of 256), fresh sketches and sketches that already hold values (so that windows grow on both
// sides), and any mix of values.
TEST(QuantileSketch, AddAllIsAddOneByOne) {
  Draws d(31);
  double previous = 1.0;
  std::vector<double> values;
  for (int length = 0; length <= 300; ++length) {
    for (int trial = 0; trial < 3; ++trial) {
      QuantileSketch all, one_by_one;
      // Trial 0 starts empty; trial 1 holds a narrow cluster (the span's values fall on both
      // sides of it); trial 2 holds values of every kind.
      for (int k = 0; k < (trial == 0 ? 0 : 20); ++k) {
        const double v = trial == 1 ? d.lognormal(0.0, 0.01) : tricky_value(d, previous);
        all.add(v);
        one_by_one.add(v);
      }
      // Three spans in a row into the same sketches: the kinds of values drift across them.
      for (int span = 0; span < 3; ++span) {
        values.clear();
        const int mode = static_cast<int>(d.uniform() * 4);
        for (int k = 0; k < length; ++k) {
          double v = 0.0;
          switch (mode) {
            case 0:
              v = tricky_value(d, previous);
              break;
            case 1:  // one sign only, as most of a run's cells
              v = std::fabs(tricky_value(d, previous));
              v = v >= QuantileSketch::kZeroThreshold ? v : 1.0;
              break;
            case 2:
              v = -d.lognormal(span * 3.0, 1.0);
              break;
            default:  // small integer counts: few bins, many repeats, some zeros
              v = d.binomial(6, 0.3);
              break;
          }
          values.push_back(v);
          previous = v;
        }
        all.add_all(values);
        for (const double v : values) one_by_one.add(v);
        ASSERT_EQ(all, one_by_one) << "length " << length << " trial " << trial << " span " << span;
        ASSERT_EQ(all.count(), one_by_one.count());
        if (!all.empty()) {
          ASSERT_EQ(std::signbit(all.min()), std::signbit(one_by_one.min()));
          ASSERT_EQ(std::signbit(all.max()), std::signbit(one_by_one.max()));
        }
      }
    }
  }
}

// Values within a few ulps of bin boundaries over the whole range of the mapping, where any
// difference between add_all's (vectorised) index arithmetic and bin_index() would change a bin.
TEST(QuantileSketch, AddAllIndexesBinBoundariesAsAdd) {
  const std::int32_t lo = QuantileSketch::bin_index(QuantileSketch::kZeroThreshold);
  const std::int32_t hi = QuantileSketch::bin_index(std::numeric_limits<double>::max());
  std::vector<double> values;
  for (std::int32_t i = lo + 1; i <= hi; i += 3) {
    const double lower = QuantileSketch::bin_lower_bound(i);
    if (!(lower <= std::numeric_limits<double>::max())) continue;
    double below = lower, above = lower;
    values.push_back((i & 1) ? -lower : lower);
    for (int ulps = 0; ulps < 3; ++ulps) {
      below = std::nextafter(below, 0.0);
      above = std::nextafter(above, std::numeric_limits<double>::infinity());
      if (above <= std::numeric_limits<double>::max()) values.push_back(above);
      values.push_back(-below);
    }
  }
  // Around some bins, every double within 2000 ulps of the boundary: m * l(x) + kIndexBias
  // then crosses the integer at which truncation changes, where a different rounding of any
  // step would show.
  for (std::int32_t i = lo + 1; i <= hi; i += 997) {
    const double lower = QuantileSketch::bin_lower_bound(i);
    double below = lower, above = lower;
    for (int ulps = 0; ulps < 2000; ++ulps) {
      below = std::nextafter(below, 0.0);
      above = std::nextafter(above, std::numeric_limits<double>::infinity());
      if (above <= std::numeric_limits<double>::max()) values.push_back(above);
      values.push_back((i & 1) ? -below : below);
    }
  }
  QuantileSketch all, one_by_one;
  for (std::size_t at = 0; at < values.size(); at += 128) {
    all.add_all(std::span(values).subspan(at, std::min<std::size_t>(128, values.size() - at)));
  }
  for (const double v : values) one_by_one.add(v);
  EXPECT_EQ(all, one_by_one);
  EXPECT_EQ(all.count(), values.size());
}

// A NaN or an infinity anywhere in the span, also past the first internal chunk of 256 values
// and among the last few values: add_all throws and adds nothing.
TEST(QuantileSketch, AddAllRejectsNonFiniteAnywhere) {
  const double bad[] = {
      std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  QuantileSketch sketch;
  sketch.add(3.0);
  sketch.add(-2.0);
  const QuantileSketch before = sketch;
  for (const std::size_t length : {1u, 3u, 8u, 13u, 128u, 256u, 257u, 600u}) {
    for (const std::size_t at : {std::size_t{0}, length / 2, length - 1}) {
      for (const double b : bad) {
        std::vector<double> values(length, 1.5);
        for (std::size_t k = 0; k < length; k += 3) values[k] = -0.25 * static_cast<double>(k);
        values[at] = b;
        EXPECT_THROW(sketch.add_all(values), std::invalid_argument) << length << " " << at;
        ASSERT_EQ(sketch, before);
        ASSERT_EQ(sketch.count(), 2u);
      }
    }
  }
}

// A bin holds up to 2^32 - 1; one more throws std::overflow_error and leaves the sketch as it was.
// Built by doubling through self-merges (fast), not by 4e9 adds.
TEST(QuantileSketch, BinOverflowThrows) {
  QuantileSketch full;   // 2^32 - 1 copies of 1.0 = 2^0 + 2^1 + ... + 2^31
  QuantileSketch power;  // 2^i copies of 1.0
  power.add(1.0);
  for (int i = 0; i < 32; ++i) {
    full.merge(power);
    if (i < 31) power.merge(power);
  }
  EXPECT_EQ(full.count(), 0xFFFFFFFFull);
  EXPECT_EQ(power.count(), 0x80000000ull);
  const QuantileSketch before = full;
  EXPECT_THROW(power.merge(power), std::overflow_error);  // 2^31 + 2^31
  EXPECT_EQ(power.count(), 0x80000000ull);
  EXPECT_THROW(full.add(1.0), std::overflow_error);
  EXPECT_EQ(full, before);
  const double one[] = {1.0};
  EXPECT_THROW(full.add_all(one), std::overflow_error);
  EXPECT_EQ(full, before);
  QuantileSketch single;
  single.add(1.0);
  EXPECT_THROW(full.merge(single), std::overflow_error);
  EXPECT_EQ(full, before);
  // Other bins still take values; the sketch still answers.
  full.add(2.0);
  full.add(-1.0);
  full.add(0.0);
  EXPECT_EQ(full.count(), 0xFFFFFFFFull + 3);
  EXPECT_NEAR(full.quantile(0.5), 1.0, kAlpha);
  EXPECT_EQ(full.quantile(1.0), 2.0);
  EXPECT_EQ(full.quantile(0.0), -1.0);

  // A larger maximum collapses the full bin of 1.0 into the positive floor's bin (the sum still
  // fits); a value that would then land in that bin overflows it and changes nothing.
  const double huge = 1e10;  // bin 1.0 lies below bin_index(1e10) - kMaxBins + 1
  ASSERT_LT(QuantileSketch::bin_index(1.0),
            QuantileSketch::bin_index(huge) - QuantileSketch::kMaxBins + 1);
  QuantileSketch collapsed = before;
  collapsed.add(huge);
  const QuantileSketch before_small = collapsed;
  EXPECT_THROW(collapsed.add(1e-3), std::overflow_error);
  EXPECT_EQ(collapsed, before_small);
  EXPECT_THROW(collapsed.merge(single), std::overflow_error);
  EXPECT_EQ(collapsed, before_small);
  // Merging the large value in collapses as adding it did.
  QuantileSketch merged = before;
  QuantileSketch large;
  large.add(huge);
  merged.merge(large);
  EXPECT_EQ(merged, collapsed);
}

TEST(QuantileSketch, BatchMatchesSingleForUnsortedQs) {
  QuantileSketch sketch;
  for (const double v : generate(10'000, 12, [](Draws& d) { return d.normal(); })) sketch.add(v);
  const std::vector<double> qs = {0.9, 0.1, 0.5, 0.5, 0.0, 1.0, 0.25};
  std::vector<double> out(qs.size());
  sketch.quantiles(qs, out);
  for (std::size_t j = 0; j < qs.size(); ++j) EXPECT_EQ(out[j], sketch.quantile(qs[j]));
}

// The index mapping matches its derivation: each bin spans a ratio of at most gamma (so its
// reported value is within a of every value in it) and at least gamma^0.96 (so bins are not
// wasted), and bin_index agrees with the bin bounds.
TEST(QuantileSketch, IndexMappingBinWidths) {
  const std::int32_t lo = QuantileSketch::bin_index(QuantileSketch::kZeroThreshold);
  const std::int32_t hi = QuantileSketch::bin_index(std::numeric_limits<double>::max());
  for (std::int32_t i = lo + 1; i < hi; ++i) {
    const double lower = QuantileSketch::bin_lower_bound(i);
    const double upper = QuantileSketch::bin_lower_bound(i + 1);
    const double width = std::log(upper / lower);
    ASSERT_LE(width, QuantileSketch::kLogGamma) << i;
    ASSERT_GE(width, 0.96 * QuantileSketch::kLogGamma) << i;
    const double value = QuantileSketch::bin_value(i);
    ASSERT_LE(value - lower, kAlpha * lower) << i;
    ASSERT_LE(upper - value, kAlpha * upper) << i;
    ASSERT_EQ(QuantileSketch::bin_index(lower * (1 + 1e-12)), i);
    ASSERT_EQ(QuantileSketch::bin_index(lower * (1 - 1e-12)), i - 1);
  }
  // About ln(2) / ln(gamma) bins per octave: 70 for a = 0.005.
  EXPECT_EQ(QuantileSketch::bin_index(2048.0) - QuantileSketch::bin_index(1024.0), 70);
}

// The bin bounds are Newton's x_60 for l^{-1} (or its first fixed point), as the plain loop
// below finds them: the sketch's shortcut for iterates that end alternating between two
// neighbours (about one bin in seven) gives the same bounds, over every bin a double can reach.
TEST(QuantileSketch, BinBoundsAreThoseOfSixtyNewtonSteps) {
  const double a = 6.0 / 35.0, b = -3.0 / 5.0, c = 10.0 / 7.0;
  const auto plain_lower_bound = [&](std::int32_t index) {
    const double y = static_cast<double>(index) / QuantileSketch::kMultiplier;
    const double e = std::floor(y), target = y - e;
    double t = target;
    for (int step = 0; step < 60; ++step) {
      const double next =
          t - (((a * t + b) * t + c) * t - target) / ((3.0 * a * t + 2.0 * b) * t + c);
      if (next == t) break;
      t = next;
    }
    return std::ldexp(1.0 + std::clamp(t, 0.0, 1.0), static_cast<int>(e));
  };
  const std::int32_t lo = QuantileSketch::bin_index(std::numeric_limits<double>::denorm_min());
  const std::int32_t hi = QuantileSketch::bin_index(std::numeric_limits<double>::max());
  for (std::int32_t i = lo; i <= hi; ++i) {
    ASSERT_EQ(QuantileSketch::bin_lower_bound(i), plain_lower_bound(i)) << i;
  }
}

// bin_value() is the harmonic mean of the bin's bounds, whether it comes from the table of
// common bins (magnitudes about 2^-33 to 2^48.6) or is computed: checked on both sides of the
// table's ends and through it (the products scale by powers of two exactly, so the plain
// formula gives the same double as bin_value's scaled one).
TEST(QuantileSketch, BinValueIsTheHarmonicMeanOfTheBoundsInAndOutOfItsTable) {
  const std::int32_t first = QuantileSketch::bin_index(0x1.0p-33);
  const std::int32_t end = QuantileSketch::bin_index(0x1.8p48);
  for (std::int32_t i = first - 200; i < end + 200; ++i) {
    const double lower = QuantileSketch::bin_lower_bound(i);
    const double upper = QuantileSketch::bin_lower_bound(i + 1);
    ASSERT_EQ(QuantileSketch::bin_value(i), 2.0 * lower * upper / (lower + upper)) << i;
  }
}

// Merging is exactly associative and commutative: any order or grouping of the pieces gives the
// state and the quantiles of one sketch fed every value.
TEST(QuantileSketch, MergeIsAssociativeAndCommutative) {
  const auto data = generate(60'000, 13, [](Draws& d) {
    const double u = d.uniform();
    if (u < 0.1) return 0.0;
    if (u < 0.4) return -d.lognormal(1.0, 1.5);
    return d.lognormal(3.0, 0.3);
  });
  const std::size_t cuts[] = {0, 7, 1000, 1001, 15'000, 33'333, 50'000, 60'000};
  std::vector<QuantileSketch> pieces;
  for (std::size_t p = 0; p + 1 < std::size(cuts); ++p) {
    QuantileSketch s;
    for (std::size_t i = cuts[p]; i < cuts[p + 1]; ++i) s.add(data[i]);
    pieces.push_back(s);
  }
  const std::size_t m = pieces.size();

  QuantileSketch whole;
  for (const double v : data) whole.add(v);

  QuantileSketch left;  // ((p0 + p1) + p2) + ...
  for (const auto& p : pieces) left.merge(p);
  QuantileSketch reversed;
  for (std::size_t p = m; p-- > 0;) reversed.merge(pieces[p]);
  QuantileSketch right = pieces[m - 1];  // p0 + (p1 + (... + p6))
  for (std::size_t p = m - 1; p-- > 0;) {
    QuantileSketch acc = pieces[p];
    acc.merge(right);
    right = acc;
  }
  std::vector<QuantileSketch> level = pieces;  // pairwise tree
  while (level.size() > 1) {
    std::vector<QuantileSketch> next;
    for (std::size_t i = 0; i < level.size(); i += 2) {
      QuantileSketch s = level[i];
      if (i + 1 < level.size()) s.merge(level[i + 1]);
      next.push_back(s);
    }
    level = next;
  }
  QuantileSketch shuffled = pieces[3];  // an arbitrary order, into a non-empty sketch
  for (const std::size_t p : {5u, 0u, 6u, 2u, 1u, 4u}) shuffled.merge(pieces[p]);

  const std::vector<double> qs = grid();
  std::vector<double> expected(qs.size()), got(qs.size());
  whole.quantiles(qs, expected);
  for (const QuantileSketch* s : {&left, &reversed, &right, &level.front(), &shuffled}) {
    EXPECT_EQ(*s, whole);
    EXPECT_EQ(s->count(), whole.count());
    EXPECT_EQ(s->min(), whole.min());
    EXPECT_EQ(s->max(), whole.max());
    s->quantiles(qs, got);
    for (std::size_t j = 0; j < qs.size(); ++j) {
      ASSERT_EQ(std::bit_cast<std::uint64_t>(got[j]), std::bit_cast<std::uint64_t>(expected[j]))
          << "q=" << qs[j];
    }
  }

  // Merging an empty sketch changes nothing; merging into one copies.
  QuantileSketch copy = whole;
  copy.merge(QuantileSketch());
  EXPECT_EQ(copy, whole);
  QuantileSketch into_empty;
  into_empty.merge(whole);
  EXPECT_EQ(into_empty, whole);
  EXPECT_LE(into_empty.bin_count(), whole.bin_count());

  // Self-merge doubles every count: same as adding the data twice.
  QuantileSketch twice;
  for (const double v : data) twice.add(v);
  for (const double v : data) twice.add(v);
  QuantileSketch self = whole;
  self.merge(self);
  EXPECT_EQ(self, twice);
}

TEST(QuantileSketch, CopyAndMove) {
  const auto data = generate(20'000, 19, [](Draws& d) { return 2.0 * d.normal(); });
  QuantileSketch a;
  a.add_all(data);
  QuantileSketch small;
  small.add(5.0);
  QuantileSketch wide;  // large windows, to be reused by a smaller copy
  for (const double v : generate(1000, 20, [](Draws& d) { return d.lognormal(0.0, 5.0); })) {
    wide.add(v);
    wide.add(-v);
  }
  QuantileSketch copy(a);
  EXPECT_EQ(copy, a);
  small = a;  // grows
  EXPECT_EQ(small, a);
  wide = a;  // reuses
  EXPECT_EQ(wide, a);
  const QuantileSketch& alias = wide;
  wide = alias;  // self-assignment
  EXPECT_EQ(wide, a);
  QuantileSketch moved(std::move(copy));
  EXPECT_EQ(moved, a);
  EXPECT_EQ(copy, QuantileSketch());  // NOLINT(bugprone-use-after-move): documented as empty
  small = std::move(moved);
  EXPECT_EQ(small, a);
  EXPECT_EQ(moved, QuantileSketch());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(std::isnan(moved.quantile(0.5)));
  moved.add(1.0);  // usable again
  EXPECT_EQ(moved.quantile(0.5), 1.0);
  std::vector<QuantileSketch> many(3, a);  // 64-byte aligned elements
  many.resize(100);
  EXPECT_EQ(many[2], a);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&many[7]) % 64, 0u);
}

TEST(QuantileSketch, DifferentContentsAreNotEqual) {
  QuantileSketch a, b;
  a.add(1.0);
  b.add(1.0);
  EXPECT_EQ(a, b);
  b.add(1.0);
  EXPECT_NE(a, b);
  a.add(1.3);
  EXPECT_NE(a, b);
}

// Upper bound on the bins a store allocates for values spanning [lo, hi] (lo, hi > 0), from the
// header: occupied span <= 1.04 ln(R) / ln(gamma) + 1, window <= 4/3 (span + 16).
double documented_bin_bound(double lo, double hi) {
  const double span = 1.04 * std::log(hi / lo) / QuantileSketch::kLogGamma + 1.0;
  return 4.0 / 3.0 * (span + 16.0);
}

TEST(QuantileSketch, BinsDoNotGrowWithCount) {
  Draws draws(14);
  QuantileSketch sketch;
  std::size_t after_1e4 = 0;
  for (int i = 1; i <= 1'000'000; ++i) {
    sketch.add(draws.uniform(100.0, 300.0));
    if (i == 10'000) after_1e4 = sketch.bin_count();
  }
  const std::size_t after_1e6 = sketch.bin_count();
  // ln(3) / ln(gamma) = 110 bins are occupied; a new extreme may add one growth step.
  EXPECT_GE(after_1e4, 110u);
  EXPECT_LE(after_1e6, after_1e4 + 8 + after_1e4 / 8);
  EXPECT_LE(static_cast<double>(after_1e6), documented_bin_bound(100.0, 300.0));
}

TEST(QuantileSketch, BinsForTypicalSpread) {
  // A lognormal with sigma 0.1 around 1000: the spread of one cell over trajectories.
  Draws draws(15);
  QuantileSketch sketch;
  std::size_t after_1e4 = 0;
  for (int i = 1; i <= 1'000'000; ++i) {
    sketch.add(draws.lognormal(std::log(1000.0), 0.1));
    if (i == 10'000) after_1e4 = sketch.bin_count();
  }
  const std::size_t after_1e6 = sketch.bin_count();
  EXPECT_LE(static_cast<double>(after_1e6), documented_bin_bound(sketch.min(), sketch.max()));
  EXPECT_LE(after_1e6, 2 * after_1e4);  // the range grows like sqrt(log n), memory with it
  std::printf("lognormal(sigma 0.1): %zu bins after 1e4 values, %zu after 1e6 (range %.1f..%.1f)\n",
              after_1e4, after_1e6, sketch.min(), sketch.max());
}

// A cell whose values cross zero (a difference, a funding gap) reaches ever smaller magnitudes as
// trajectories are added; its stores collapse their lowest bins, so its memory stays within the
// documented bound, 2 * (9/8 kMaxBins + 16) bins, from 10^4 values to 10^6.
TEST(QuantileSketch, BinsOfAZeroCrossingCellStayBounded) {
  Draws draws(21);
  QuantileSketch sketch;
  std::size_t after_1e4 = 0;
  for (int i = 1; i <= 1'000'000; ++i) {
    sketch.add(2.0e6 * draws.normal() + 5.0e5);
    if (i == 10'000) after_1e4 = sketch.bin_count();
  }
  const std::size_t after_1e6 = sketch.bin_count();
  const double bound = 2.0 * (9.0 / 8.0 * QuantileSketch::kMaxBins + 16.0);
  EXPECT_LE(static_cast<double>(after_1e4), bound);
  EXPECT_LE(static_cast<double>(after_1e6), bound);
  EXPECT_LE(static_cast<double>(after_1e6), 1.1 * static_cast<double>(after_1e4));
  // Collapsing happened (the smallest magnitudes span far more than kMaxBins bins) and costs an
  // absolute error of at most gamma^(-0.96 (kMaxBins - 2)) = 6.4e-4 of the largest magnitude.
  EXPECT_GT(sketch.absolute_error_bound(), QuantileSketch::kZeroThreshold);
  const double largest = std::max(-sketch.min(), sketch.max());
  EXPECT_LE(sketch.absolute_error_bound(),
            largest * std::exp(-0.96 * (QuantileSketch::kMaxBins - 2) * QuantileSketch::kLogGamma));
}

// Merging collapsed sketches: pieces whose scales rise from piece to piece (so the floors rise
// during the merges, and each piece collapses at a different floor) give, in any order, the
// state of one sketch fed every value, by add() or add_all().
TEST(QuantileSketch, CollapsingMergesInAnyOrder) {
  std::vector<std::vector<double>> pieces;
  for (std::uint32_t p = 0; p < 6; ++p) {
    const double scale = std::pow(10.0, 3.0 * p);  // 1 .. 1e15
    pieces.push_back(generate(3000 + 500 * p, 40 + p, [&](Draws& d) {
      const double m = scale * d.lognormal(0.0, 3.0);
      return d.uniform() < 0.3 ? -m : m;
    }));
  }
  QuantileSketch whole, whole_all;
  std::vector<QuantileSketch> sketches;
  for (const auto& piece : pieces) {
    for (const double v : piece) whole.add(v);
    whole_all.add_all(piece);
    sketches.emplace_back().add_all(piece);
  }
  EXPECT_EQ(whole_all, whole);
  EXPECT_GT(whole.absolute_error_bound(), 1.0);  // collapsed, far above kZeroThreshold
  QuantileSketch forward, backward, shuffled = sketches[2];
  for (const auto& s : sketches) forward.merge(s);
  for (std::size_t p = sketches.size(); p-- > 0;) backward.merge(sketches[p]);
  for (const std::size_t p : {5u, 0u, 3u, 1u, 4u}) shuffled.merge(sketches[p]);
  for (const QuantileSketch* s : {&forward, &backward, &shuffled}) {
    EXPECT_EQ(*s, whole);
    EXPECT_EQ(s->quantile(0.5), whole.quantile(0.5));
    EXPECT_EQ(s->absolute_error_bound(), whole.absolute_error_bound());
  }
  std::vector<double> all;
  for (const auto& piece : pieces) all.insert(all.end(), piece.begin(), piece.end());
  expect_guarantee(all, "rising scales");
}

TEST(QuantileSketch, ClearKeepsCapacityAndForgets) {
  QuantileSketch sketch;
  for (const double v : generate(1000, 16, [](Draws& d) { return d.normal(); })) sketch.add(v);
  sketch.clear();
  EXPECT_EQ(sketch, QuantileSketch());
  EXPECT_TRUE(std::isnan(sketch.quantile(0.5)));
  EXPECT_EQ(sketch.bin_count(), 0u);
  // Reused for another distribution: behaves as a fresh sketch.
  const auto data = generate(kN, 17, [](Draws& d) { return d.lognormal(-3.0, 0.5); });
  QuantileSketch fresh;
  for (const double v : data) {
    sketch.add(v);
    fresh.add(v);
  }
  EXPECT_EQ(sketch, fresh);
  EXPECT_EQ(sketch.quantile(0.37), fresh.quantile(0.37));
  expect_guarantee(data, "after clear");
}

TEST(QuantileSketch, GrowsDownwardAndUpward) {
  // Values arriving in decreasing, then increasing order exercise both growth directions.
  std::vector<double> data;
  for (int i = 0; i < 2000; ++i) data.push_back(1000.0 * std::pow(0.99, i));
  for (int i = 0; i < 2000; ++i) data.push_back(-1000.0 * std::pow(1.01, i));
  for (int i = 0; i < 2000; ++i) data.push_back(1.0 * std::pow(1.003, i));
  expect_guarantee(data, "monotone runs");
}

}  // namespace
}  // namespace carecast::engine
