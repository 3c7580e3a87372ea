// The scalar BTRS baseline of bench/ (bench/btrs_baseline.h) must be a correct binomial sampler,
// or the engine-vs-baseline ratio in docs/performance.md would compare against a broken sampler.
// A chi-square goodness-of-fit test against the exact pmf for a few (n, p) covering inversion,
// BTRS, both mirrored, and the n p = 10 switch; plus a check that the test itself has power.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/btrs_baseline.h"
#include "engine/random_stream.h"

namespace {

using carecast::engine::RandomStream;
using carecast::engine::StreamAddress;

double log_pmf(std::int64_t n, double p, std::int64_t k) {
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  return std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) + kd * std::log(p) +
         (nd - kd) * std::log1p(-p);
}

struct ChiSquare {
  double statistic = 0;
  int df = 0;
  double critical = 0;  // upper 1e-6 point (Wilson-Hilferty)
};

// Draws `draws` variates from `sample` and tests them against binomial(n, p): cells of expected
// count >= 5, with both tails pooled into the end cells.
template <typename Sample>
ChiSquare chi_square(std::int64_t n, double p, int draws, Sample sample) {
  std::vector<double> expected(static_cast<std::size_t>(n) + 1);
  for (std::int64_t k = 0; k <= n; ++k) {
    expected[static_cast<std::size_t>(k)] = draws * std::exp(log_pmf(n, p, k));
  }
  // Cell boundaries: [0, lo] pooled, lo+1 .. hi-1 single, [hi, n] pooled.
  std::int64_t lo = 0, hi = n;
  double tail = 0;
  while (lo < n && (tail += expected[static_cast<std::size_t>(lo)]) < 5) ++lo;
  tail = 0;
  while (hi > lo + 1 && (tail += expected[static_cast<std::size_t>(hi)]) < 5) --hi;
  const auto cell = [&](std::int64_t k) {
    return k <= lo ? std::int64_t{0} : k >= hi ? hi - lo : k - lo;
  };
  const std::size_t cells = static_cast<std::size_t>(hi - lo) + 1;
  std::vector<double> observed(cells, 0.0), want(cells, 0.0);
  for (std::int64_t k = 0; k <= n; ++k) {
    want[static_cast<std::size_t>(cell(k))] += expected[static_cast<std::size_t>(k)];
  }
  for (int i = 0; i < draws; ++i) {
    const std::int64_t x = sample();
    EXPECT_GE(x, 0);
    EXPECT_LE(x, n);
    observed[static_cast<std::size_t>(cell(x))] += 1;
  }
  ChiSquare result;
  for (std::size_t c = 0; c < cells; ++c) {
    const double d = observed[c] - want[c];
    result.statistic += d * d / want[c];
  }
  result.df = static_cast<int>(cells) - 1;
  const double df = result.df, z = 4.753424;  // upper 1e-6 point of the standard normal
  const double t = 1 - 2 / (9 * df) + z * std::sqrt(2 / (9 * df));
  result.critical = df * t * t * t;
  return result;
}

struct Case {
  std::int64_t n;
  double p;
};

// Test names like n1000_p0_3.
std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "n%lld_p%g", static_cast<long long>(info.param.n),
                info.param.p);
  std::string name(buffer);
  for (char& ch : name) {
    if (ch == '.') ch = '_';
  }
  return name;
}

class BtrsBaseline : public ::testing::TestWithParam<Case> {};

TEST_P(BtrsBaseline, MatchesTheBinomialPmf) {
  const auto [n, p] = GetParam();
  RandomStream stream(StreamAddress{20261123, 7, static_cast<std::uint32_t>(n), 0});
  auto uniform = [&] { return stream.uniform(); };
  const auto result = chi_square(n, p, 200000, [&] {
    return carecast::bench::btrs_binomial(uniform, n, p);
  });
  EXPECT_GT(result.df, 0);
  EXPECT_LT(result.statistic, result.critical)
      << "n = " << n << ", p = " << p << ", df = " << result.df;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BtrsBaseline,
    ::testing::Values(Case{1, 0.5},        // a coin (inversion)
                      Case{12, 0.3},       // inversion, n p = 3.6
                      Case{30, 0.9},       // mirrored inversion, n p' = 3
                      Case{200, 0.05},     // n p = 10: the first BTRS case
                      Case{199, 0.05},     // n p = 9.95: the last inversion case
                      Case{900, 0.044},    // care_wf leavers: n p ~ 40
                      Case{1000, 0.3},     // BTRS, n p = 300
                      Case{400, 0.8},      // mirrored BTRS
                      Case{250000, 0.002}  // n p = 500, small p (lgamma at large n)
                      ),
    case_name);

// The test above has power: a sampler 3% off in p fails it.
TEST(BtrsBaselineChiSquare, RejectsAWrongP) {
  RandomStream stream(StreamAddress{1, 2, 3, 4});
  auto uniform = [&] { return stream.uniform(); };
  const auto result = chi_square(1000, 0.3, 200000, [&] {
    return carecast::bench::btrs_binomial(uniform, 1000, 0.3 * 1.03);
  });
  EXPECT_GT(result.statistic, result.critical);
}

}  // namespace
