// engine/math_kernels.h and engine/lane_math.h: exp, log and log1p within a few ulps of libm,
// exact where the exact value is a double, and bit for bit the same on a double and on lanes.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "engine/lane_math.h"
#include "engine/math_kernels.h"
#include "engine/normal_quantile.h"

namespace carecast::engine {
namespace {

// Distance in units in the last place between two finite doubles of the same sign.
std::int64_t ulps(double a, double b) {
  const auto ia = std::bit_cast<std::int64_t>(a), ib = std::bit_cast<std::int64_t>(b);
  return ia > ib ? ia - ib : ib - ia;
}

// The largest and the mean ulp distance of f from g over `draws` arguments from `argument`.
template <typename F, typename G, typename A>
std::pair<std::int64_t, double> ulp_error(F f, G g, A argument, int draws) {
  std::mt19937_64 rng(20261123);
  std::int64_t worst = 0, total = 0;
  for (int i = 0; i < draws; ++i) {
    const double x = argument(rng);
    const std::int64_t d = ulps(f(x), g(x));
    worst = std::max(worst, d);
    total += d;
  }
  return {worst, static_cast<double>(total) / draws};
}

// libm (glibc) is within 1 ulp, the kernels within about 1 ulp: they may differ by 2, and the
// mean distance shows the typical accuracy.
TEST(MathKernels, ExpWithinTwoUlpsOfLibm) {
  std::uniform_real_distribution<double> wide(-700.0, 700.0), narrow(-40.0, 40.0);
  const auto [worst, mean] = ulp_error(
      [](double x) { return exp_kernel(x); }, [](double x) { return std::exp(x); },
      [&](std::mt19937_64& rng) { return rng() % 2 ? wide(rng) : narrow(rng); }, 400000);
  EXPECT_LE(worst, 2);
  EXPECT_LT(mean, 0.5);
}

// The Estrin form: its own roundings, the same accuracy; over the binomial's range of
// n log(1 - p) as well.
TEST(MathKernels, ExpEstrinWithinTwoUlpsOfLibm) {
  std::uniform_real_distribution<double> wide(-700.0, 700.0), binomial(-80.0, 0.0);
  const auto [worst, mean] = ulp_error(
      [](double x) { return exp_estrin_kernel(x); }, [](double x) { return std::exp(x); },
      [&](std::mt19937_64& rng) { return rng() % 2 ? wide(rng) : binomial(rng); }, 400000);
  EXPECT_LE(worst, 2);
  EXPECT_LT(mean, 0.5);
  EXPECT_EQ(exp_estrin_kernel(0.0), 1.0);
  EXPECT_EQ(exp_estrin_kernel(-0x1p-60), 1.0);
}

TEST(MathKernels, LogWithinTwoUlpsOfLibm) {
  // Arguments spread over the whole exponent range and crowded near 1, where log is small.
  std::uniform_real_distribution<double> exponent(-1000.0, 1000.0), near_one(-0.3, 0.3);
  const auto [worst, mean] = ulp_error(
      [](double x) { return log_kernel(x); }, [](double x) { return std::log(x); },
      [&](std::mt19937_64& rng) {
        return rng() % 2 ? std::exp2(exponent(rng)) : 1.0 + near_one(rng);
      },
      400000);
  EXPECT_LE(worst, 2);
  EXPECT_LT(mean, 0.5);
}

TEST(MathKernels, Log1pWithinFourUlpsOfLibm) {
  // log1p(-p) for the probabilities the binomial sampler sees, tiny to one half.
  std::uniform_real_distribution<double> exponent(-60.0, -1.0);
  const auto [worst, mean] = ulp_error(
      [](double x) { return log1p_kernel(x); }, [](double x) { return std::log1p(x); },
      [&](std::mt19937_64& rng) { return -std::exp2(exponent(rng)); }, 400000);
  EXPECT_LE(worst, 4);
  EXPECT_LT(mean, 1.0);
}

TEST(MathKernels, ExactWhereTheValueIsADouble) {
  EXPECT_EQ(exp_kernel(0.0), 1.0);
  EXPECT_EQ(exp_kernel(-0.0), 1.0);
  EXPECT_EQ(exp_kernel(-1e-300), 1.0);
  EXPECT_EQ(exp_kernel(-0x1p-60), 1.0);
  EXPECT_EQ(log_kernel(1.0), 0.0);
  for (int k = -1000; k <= 1000; k += 37) {
    EXPECT_EQ(log_kernel(std::ldexp(1.0, k)), std::log(std::ldexp(1.0, k))) << k;
  }
  EXPECT_EQ(log1p_kernel(0.0), 0.0);
  EXPECT_EQ(log1p_kernel(-1e-300), -1e-300);  // 1 + x rounds to 1: log1p(x) = x to double
}

TEST(MathKernels, ExpIsMonotoneAcrossTheReductionBoundaries) {
  // Around x = (k + 1/2) ln 2 the reduction switches k; the result must not step backwards.
  for (int k = -1000; k < 1000; k += 3) {
    const double edge = (k + 0.5) * 0.6931471805599453;
    double x = edge - 64 * std::ldexp(1.0, std::ilogb(edge) - 52);
    double previous = exp_kernel(x);
    for (int step = 0; step < 128; ++step) {
      x = std::nextafter(x, 1000.0);
      const double y = exp_kernel(x);
      ASSERT_GE(y, previous) << "x = " << x;
      previous = y;
    }
  }
}

TEST(MathKernels, LogIsMonotoneAcrossTheSplitPoint) {
  // m's range switches at sqrt(2)/2 times a power of two.
  for (int k = -1000; k < 1000; k += 7) {
    double x = std::ldexp(0.7071067811865475, k);
    for (int step = 0; step < 64; ++step) x = std::nextafter(x, 0.0);
    double previous = log_kernel(x);
    for (int step = 0; step < 128; ++step) {
      x = std::nextafter(x, std::numeric_limits<double>::infinity());
      const double y = log_kernel(x);
      ASSERT_GE(y, previous) << "x = " << x;
      previous = y;
    }
  }
}

TEST(MathKernels, LanesEqualTheScalarKernels) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> wide(-700.0, 700.0), exponent(-1000.0, 1000.0),
      small(-60.0, -0.5), logit(-800.0, 800.0);
  for (int i = 0; i < 20000; ++i) {
    Lanes<double> e, g, p, s;
    for (std::size_t l = 0; l < kLanes; ++l) {
      e[l] = l == 3 ? 0.0 : wide(rng);
      g[l] = std::exp2(exponent(rng));
      p[l] = l == 5 ? -1e-300 : -std::exp2(small(rng));
      s[l] = logit(rng);
    }
    Lanes<double> e2 = e, g2 = g, p2 = p, s2 = s;
    exp_lanes(e2);
    log_lanes(g2);
    log1p_lanes(p2);
    logistic_lanes(s2);
    for (std::size_t l = 0; l < kLanes; ++l) {
      ASSERT_EQ(e2[l], exp_kernel(e[l])) << e[l];
      ASSERT_EQ(g2[l], log_kernel(g[l])) << g[l];
      ASSERT_EQ(p2[l], log1p_kernel(p[l])) << p[l];
      const double clamped = std::clamp(s[l], -700.0, 700.0);
      ASSERT_EQ(s2[l], 1.0 / (1.0 + exp_kernel(-clamped))) << s[l];
    }
  }
}

// The normal quantile on lanes equals the scalar kernel, with lanes of both branches of PPND16
// (centre and tails, r on both sides of 5) mixed in one vector, and at the edges: p = 0, 1, 1/2,
// the centre's bounds 0.075 and 0.925, tails as small as 2^-1074.
TEST(MathKernels, NormalQuantileLanesEqualTheScalarKernel) {
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> unit(0.0, 1.0), exponent(-1074.0, -1.0);
  const double edges[] = {0.0, 1.0, 0.5, 0.075, 0.925, std::nextafter(0.075, 0.0),
                          std::nextafter(0.925, 1.0), std::exp(-25.0), 1 - std::exp(-25.0),
                          0x1p-53, 1 - 0x1p-53, 0x1p-1074, std::numeric_limits<double>::min()};
  std::size_t next_edge = 0;
  for (int i = 0; i < 20000; ++i) {
    Lanes<double> p;
    for (std::size_t l = 0; l < kLanes; ++l) {
      switch (rng() % 4) {
        case 0: p[l] = unit(rng); break;                          // mostly the centre
        case 1: p[l] = std::exp2(exponent(rng)); break;           // a lower tail
        case 2: p[l] = 1 - std::exp2(exponent(rng) / 20); break;  // an upper tail
        default: p[l] = edges[next_edge++ % std::size(edges)]; break;
      }
    }
    Lanes<double> z = p;
    normal_quantile_lanes(z);
    for (std::size_t l = 0; l < kLanes; ++l) {
      ASSERT_EQ(std::bit_cast<std::uint64_t>(z[l]),
                std::bit_cast<std::uint64_t>(normal_quantile_kernel(p[l])))
          << "p = " << p[l];
    }
  }
  EXPECT_EQ(normal_quantile_kernel(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile_kernel(1.0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile_kernel(0.5), 0.0);
  // Subnormal tails: finite, continuous across the smallest normal number and monotone;
  // Phi^-1(2^-1074) = -38.4674 (scipy.stats.norm.ppf).
  const double smallest = std::numeric_limits<double>::min();
  EXPECT_NEAR(normal_quantile_kernel(0x1p-1074), -38.4674, 1e-3);
  EXPECT_NEAR(normal_quantile_kernel(std::nextafter(smallest, 0.0)),
              normal_quantile_kernel(smallest), 1e-13);
  double previous = normal_quantile_kernel(0x1p-1074);
  for (double p = 0x1p-1073; p < 1e-300; p *= 1.5) {
    const double z = normal_quantile_kernel(p);
    ASSERT_GT(z, previous) << "p = " << p;
    previous = z;
  }
  EXPECT_NEAR(normal_quantile_kernel(1 - 0x1p-53), -normal_quantile_kernel(0x1p-53), 1e-12);
}

TEST(MathKernels, LogisticSaturatesWithoutOverflow) {
  Lanes<double> x{};
  x[0] = -1e308;
  x[1] = 1e308;
  x[2] = -745.0;
  x[3] = 40.0;
  logistic_lanes(x);
  EXPECT_GE(x[0], 0.0);
  EXPECT_LT(x[0], 1e-300);
  EXPECT_EQ(x[1], 1.0);
  EXPECT_LT(x[2], 1e-300);
  EXPECT_EQ(x[3], 1.0);
  EXPECT_EQ(x[4], 0.5);
}

}  // namespace
}  // namespace carecast::engine
