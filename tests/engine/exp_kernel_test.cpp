// exp_nonpositive: accurate to about an ulp on [-700, 0], exact at 0, and the same bit for bit
// whether evaluated on a double or on a vector of lanes.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>

#include "engine/exp_kernel.h"

namespace carecast::engine {
namespace {

// Distance in units in the last place between two positive finite doubles.
std::int64_t ulps(double a, double b) {
  const auto ia = std::bit_cast<std::int64_t>(a), ib = std::bit_cast<std::int64_t>(b);
  return ia > ib ? ia - ib : ib - ia;
}

TEST(ExpKernel, WithinTwoUlpsOfLibmOnTheWholeDomain) {
  // std::exp of glibc is within 1 ulp (usually correctly rounded) and the kernel's own error is
  // about 1 ulp, so they may differ by 2; the mean difference shows the typical accuracy.
  std::mt19937_64 rng(20261123);
  std::uniform_real_distribution<double> wide(-700.0, 0.0), narrow(-40.0, 0.0);
  std::int64_t worst = 0, total = 0;
  constexpr int kDraws = 400000;
  for (int i = 0; i < kDraws; ++i) {
    const double x = i % 2 ? wide(rng) : narrow(rng);
    const std::int64_t d = ulps(exp_nonpositive(x), std::exp(x));
    worst = std::max(worst, d);
    total += d;
  }
  EXPECT_LE(worst, 2);
  EXPECT_LT(static_cast<double>(total) / kDraws, 0.5);
}

TEST(ExpKernel, ExactWhereExpIsExact) {
  EXPECT_EQ(exp_nonpositive(0.0), 1.0);
  EXPECT_EQ(exp_nonpositive(-0.0), 1.0);
  // Tiny arguments round to 1 - |x| or 1, as the exact value does.
  EXPECT_EQ(exp_nonpositive(-1e-300), 1.0);
  EXPECT_EQ(exp_nonpositive(-0x1p-60), 1.0);
}

TEST(ExpKernel, MonotoneAcrossTheReductionBoundaries) {
  // Around x = -(k + 1/2) ln 2 the reduction switches k; the result must not step backwards.
  for (int k = 0; k < 1000; ++k) {
    const double edge = -(k + 0.5) * 0.6931471805599453;
    double x = edge + 64 * std::ldexp(1.0, std::ilogb(edge) - 52);
    double previous = exp_nonpositive(x);
    for (int step = 0; step < 128; ++step) {
      x = std::nextafter(x, -1000.0);
      const double y = exp_nonpositive(x);
      ASSERT_LE(y, previous) << "x = " << x;
      previous = y;
    }
  }
}

TEST(ExpKernel, VectorLanesEqualTheScalar) {
  using D4 = double __attribute__((vector_size(32)));
  using U4 = std::uint64_t __attribute__((vector_size(32)));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(-700.0, 0.0);
  for (int i = 0; i < 50000; ++i) {
    const D4 x = {uniform(rng), uniform(rng), -uniform(rng) / 1e6, 0.0};
    const D4 y = exp_nonpositive<D4, U4>(x);
    for (int l = 0; l < 4; ++l) ASSERT_EQ(y[l], exp_nonpositive(x[l])) << x[l];
  }
}

}  // namespace
}  // namespace carecast::engine
