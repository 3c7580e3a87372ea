// Tests of engine/samplers.h.
//
// The statistical tests draw at fixed stream addresses, so they are deterministic. Each rejects at
// significance 1e-6: a correct sampler would fail one with probability 1e-6 over the choice of
// seed, and the fixed seed turns even that into a reproducible result rather than a flaky one.
//   * Chi-square: Pearson's statistic against the exact distribution; the p-value comes from the
//     chi-square upper tail Q(dof / 2, X^2 / 2), computed below with the regularized incomplete
//     gamma function. Continuous samplers use K = 2 N^0.4 equiprobable bins (Stan Math's recipe);
//     binomials use one bin per count, merging neighbours until each expects >= 5 draws.
//   * Kolmogorov-Smirnov: P(sqrt(N) D > t) <= 2 exp(-2 t^2) (Massart's bound on the DKW
//     inequality), so D > sqrt(-ln(1e-6 / 2) / (2 N)) rejects at 1e-6.
//   * Moments: |z| > Phi^-1(1 - 1e-6 / 2) = 4.8916 rejects at 1e-6 (two-sided), with the standard
//     error of the sample mean sqrt(var / N) and of the sample variance sqrt((mu4 - var^2) / N).
// Every draw has its own stream: site = the test's id, month = the case, trajectory = the draw.
#include "engine/samplers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace carecast::engine {
namespace {

constexpr std::uint64_t kSeed = 20240917;
constexpr double kAlpha = 1e-6;                   // significance of every statistical check
constexpr double kZCritical = 4.891638475698590;  // Phi^-1(1 - kAlpha / 2), from mpmath
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Draw sites, one per test, so no two tests share a stream.
enum Site : std::uint32_t {
  kUniformSite = 1,
  kNormalSite,
  kLognormalSite,
  kTriangularSite,
  kTruncatedNormalSite,
  kBetaSite,
  kBinomialSite,
  kBinomialMomentsSite,
  kPropertySite,
};

RandomStream stream_at(std::uint32_t site, std::uint32_t month, std::uint32_t trajectory) {
  return RandomStream(StreamAddress{kSeed, trajectory, site, month});
}

// ---- Reference distributions (long double, independent of the code under test) ----

long double ld_normal_cdf(long double x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); }
long double ld_upper_tail(long double x) { return 0.5L * std::erfc(x / std::sqrt(2.0L)); }
long double ld_density(long double x) {
  return std::exp(-0.5L * x * x) / std::sqrt(2.0L * 3.14159265358979323846264338327950288L);
}

// CDF of normal(mean, sd) truncated to [low, high], from whichever tail the interval lies in.
double truncated_normal_cdf(double mean, double sd, double low, double high, double x) {
  const long double a = (static_cast<long double>(low) - mean) / sd;
  const long double b = (static_cast<long double>(high) - mean) / sd;
  const long double z = (static_cast<long double>(x) - mean) / sd;
  if (a >= 0) {
    return static_cast<double>((ld_upper_tail(a) - ld_upper_tail(z)) /
                               (ld_upper_tail(a) - ld_upper_tail(b)));
  }
  return static_cast<double>((ld_normal_cdf(z) - ld_normal_cdf(a)) /
                             (ld_normal_cdf(b) - ld_normal_cdf(a)));
}

// E[Z] for Z standard normal truncated to [a, b], in long double (good for |a|, |b| < ~100).
long double ld_truncated_mean(long double a, long double b) {
  if (a >= 0) return (ld_density(a) - ld_density(b)) / (ld_upper_tail(a) - ld_upper_tail(b));
  return (ld_density(a) - ld_density(b)) / (ld_normal_cdf(b) - ld_normal_cdf(a));
}

// Regularized upper incomplete gamma Q(a, x): the series for P below x = a + 1, Lentz's continued
// fraction above (Numerical Recipes, gser and gcf).
double upper_incomplete_gamma(double a, double x) {
  if (x <= 0) return 1;
  const double log_prefactor = a * std::log(x) - x - std::lgamma(a);
  if (x < a + 1) {
    double term = 1 / a;
    double sum = term;
    for (int n = 1; n < 100000 && term > 1e-17 * sum; ++n) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - sum * std::exp(log_prefactor);
  }
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a;
  double c = 1 / kTiny;
  double d = 1 / b;
  double h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::abs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    if (std::abs(d * c - 1) < 1e-16) break;
  }
  return std::exp(log_prefactor) * h;
}

// P(chi-square with dof degrees of freedom > statistic).
double chi_square_p_value(double statistic, double dof) {
  return upper_incomplete_gamma(dof / 2, statistic / 2);
}

// Regularized incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes, betai),
// using I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(b, a, 1 - x);
  constexpr double kTiny = 1e-300;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  double c = 1;
  double d = 1 - (a + b) * x / (a + 1);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m < 100000; ++m) {
    for (int parity = 0; parity < 2; ++parity) {
      const double numerator = parity == 0
                                   ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                                   : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
      d = 1 + numerator * d;
      if (std::abs(d) < kTiny) d = kTiny;
      c = 1 + numerator / c;
      if (std::abs(c) < kTiny) c = kTiny;
      d = 1 / d;
      h *= d * c;
    }
    if (std::abs(d * c - 1) < 1e-16) break;
  }
  return std::exp(log_front) * h / a;
}

// log P(X = k) for X ~ binomial(n, p).
double binomial_log_pmf(std::int64_t n, double p, std::int64_t k) {
  const double nd = static_cast<double>(n);
  const double kd = static_cast<double>(k);
  return std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) + kd * std::log(p) +
         (nd - kd) * std::log1p(-p);
}

// ---- Goodness-of-fit checks ----

struct ChiSquare {
  double statistic = 0;
  int cells = 0;
  double p_value = 1;
};

ChiSquare pearson(const std::vector<double>& observed, const std::vector<double>& expected) {
  ChiSquare result;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    const double diff = observed[i] - expected[i];
    result.statistic += diff * diff / expected[i];
  }
  result.cells = static_cast<int>(observed.size());
  result.p_value = chi_square_p_value(result.statistic, result.cells - 1);
  return result;
}

// Chi-square and KS tests of draws against a continuous CDF. By the probability integral
// transform F(draw) is uniform on (0, 1) if the draws follow F, so the K equiprobable bins need
// only F, not its inverse.
void expect_fits_cdf(const std::vector<double>& draws, const std::function<double(double)>& cdf) {
  const double n = static_cast<double>(draws.size());
  const auto bins = static_cast<std::size_t>(std::lround(2 * std::pow(n, 0.4)));
  std::vector<double> transformed;
  transformed.reserve(draws.size());
  std::vector<double> observed(bins, 0.0);
  for (const double x : draws) {
    const double u = std::clamp(cdf(x), 0.0, 1.0);
    transformed.push_back(u);
    observed[std::min(bins - 1, static_cast<std::size_t>(u * static_cast<double>(bins)))] += 1;
  }
  const ChiSquare chi = pearson(observed, std::vector<double>(bins, n / static_cast<double>(bins)));
  EXPECT_GT(chi.p_value, kAlpha) << "chi-square " << chi.statistic << " on " << chi.cells
                                 << " bins";

  std::sort(transformed.begin(), transformed.end());
  double ks = 0;
  for (std::size_t i = 0; i < transformed.size(); ++i) {
    const double index = static_cast<double>(i);
    ks = std::max({ks, (index + 1) / n - transformed[i], transformed[i] - index / n});
  }
  EXPECT_LT(ks, std::sqrt(-std::log(kAlpha / 2) / (2 * n))) << "Kolmogorov-Smirnov";
}

// Draws `count` variates, one stream each: site, month = case, trajectory = draw index.
std::vector<double> draw(Site site, std::uint32_t month, int count,
                         const std::function<double(RandomStream&)>& sampler) {
  std::vector<double> draws(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    RandomStream stream = stream_at(site, month, static_cast<std::uint32_t>(i));
    draws[static_cast<std::size_t>(i)] = sampler(stream);
  }
  return draws;
}

constexpr int kContinuousDraws = 100000;

// ---- Normal helpers ----

TEST(NormalQuantile, MatchesHighPrecisionValues) {
  // References: mpmath at 60 digits, solving Phi(z) = p for the double p given.
  struct Case {
    double p;
    double z;
  };
  const Case cases[] = {
      {1e-300, -37.047096299361199237},      {1e-100, -21.273453560965324294},
      {1e-20, -9.2623400897984075796},       {1e-05, -4.2648907939228246102},
      {0.02425, -1.9729610513118848376},     {0.3, -0.52440051270804081597},
      {0.75, 0.6744897501960817432},         {0.975, 1.9599639845400538556},
      {0.9999999999, 6.3613408896974218642}, {0.9999999999999999, 8.2095361516013868556}};
  for (const Case& c : cases) {
    EXPECT_NEAR(normal_quantile(c.p), c.z, 4e-16 * std::abs(c.z)) << "p = " << c.p;
  }
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  EXPECT_EQ(normal_quantile(0.0), -kInf);
  EXPECT_EQ(normal_quantile(1.0), kInf);
}

TEST(NormalQuantile, InvertsTheCdfAcrossTheRange) {
  // One Newton step against a long double CDF estimates the error of z; AS241 promises about
  // 1e-16 relative, so allow 4 ulps.
  for (double log10_p = -300; log10_p <= std::log10(0.5); log10_p += 0.37) {
    const double p = std::pow(10.0, log10_p);
    for (const double sign : {-1.0, 1.0}) {
      // p and its mirror 1 - p (which rounds to 1 for p below 2^-54).
      const double argument = sign < 0 ? p : 1 - p;
      if (argument == 1) continue;
      const double z = normal_quantile(argument);
      const long double tail = sign < 0 ? ld_normal_cdf(z) : ld_upper_tail(z);
      const long double target = sign < 0 ? argument : 1 - static_cast<long double>(argument);
      const double error = static_cast<double>((tail - target) / ld_density(z));
      EXPECT_LE(std::abs(error),
                4 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(z)))
          << "p = " << argument;
    }
  }
}

TEST(NormalCdf, MatchesHighPrecisionValues) {
  // mpmath references. erfc is evaluated at a rounded x / sqrt(2), which costs up to x^2 eps of
  // relative accuracy: 2e-13 at x = -37.
  struct Case {
    double x;
    double cdf;
  };
  const Case cases[] = {{-37.0, 5.7255712225245768227e-300}, {-20.0, 2.7536241186062336951e-89},
                        {-10.0, 7.619853024160526066e-24},   {-3.0, 0.0013498980316300945267},
                        {-1.0, 0.15865525393145705141},      {0.0, 0.5},
                        {0.5, 0.69146246127401310364},       {2.0, 0.9772498680518207928},
                        {8.0, 0.9999999999999993779}};
  for (const Case& c : cases) {
    EXPECT_NEAR(normal_cdf(c.x), c.cdf, 2e-13 * c.cdf) << "x = " << c.x;
  }
  EXPECT_EQ(normal_cdf(-40), 0.0);  // 3.7e-350 underflows
  EXPECT_EQ(normal_cdf(40), 1.0);
}

TEST(TruncatedNormalMean, MatchesReferenceValues) {
  EXPECT_NEAR(truncated_normal_mean(0, 1, 0, kInf), std::sqrt(2 / 3.14159265358979323846), 1e-15);
  EXPECT_NEAR(truncated_normal_mean(0, 1, -kInf, kInf), 0.0, 1e-15);
  EXPECT_NEAR(truncated_normal_mean(0, 1, -2, 2), 0.0, 1e-15);
  struct Case {
    double low;
    double high;
  };
  const Case cases[] = {{8, kInf}, {20, kInf}, {29.5, kInf}, {30.5, kInf}, {40, kInf}, {90, kInf},
                        {8, 9},    {35, 35.5}, {-1, 3},      {-0.5, 40},   {0, 1e-3}};
  for (const Case& c : cases) {
    // Relative accuracy 1e-13 (absolute 1e-13 in sd units near 0, where [0, 1e-3] loses digits
    // to cancellation in Q(0) - Q(1e-3)).
    const double expected = static_cast<double>(ld_truncated_mean(c.low, c.high));
    const double tolerance = 1e-13 * std::max(1.0, std::abs(expected));
    EXPECT_NEAR(truncated_normal_mean(0, 1, c.low, c.high), expected, tolerance)
        << "[" << c.low << ", " << c.high << "]";
    EXPECT_NEAR(truncated_normal_mean(0, 1, -c.high, -c.low), -expected, tolerance)
        << "mirrored [" << c.low << ", " << c.high << "]";
    EXPECT_NEAR(truncated_normal_mean(5, 2, 5 + 2 * c.low, 5 + 2 * c.high), 5 + 2 * expected,
                2 * tolerance + 1e-15 * 5)
        << "shifted [" << c.low << ", " << c.high << "]";
  }
  // Beyond long double's range: E[Z | Z > a] = a + 1/a - 2/a^3 + O(a^-5).
  const double a = 1e6;
  EXPECT_DOUBLE_EQ(truncated_normal_mean(0, 1, a, kInf), a + 1 / a);
  EXPECT_EQ(truncated_normal_mean(0, 0, 1, 2), 1.0);  // sd = 0: mean clamped into [low, high]
  EXPECT_EQ(truncated_normal_mean(1.5, 0, 1, 2), 1.5);
}

// ---- Continuous samplers ----

TEST(SampleUniform, FitsItsDistribution) {
  const double bounds[][2] = {{0, 1}, {-3, 7}, {1e6, 1e6 + 1e-3}};
  for (std::uint32_t i = 0; i < std::size(bounds); ++i) {
    const double low = bounds[i][0];
    const double high = bounds[i][1];
    SCOPED_TRACE(testing::Message() << "uniform(" << low << ", " << high << ")");
    const auto draws = draw(kUniformSite, i, kContinuousDraws,
                            [&](RandomStream& s) { return sample_uniform(s, low, high); });
    for (const double x : draws) ASSERT_TRUE(x >= low && x <= high) << x;
    expect_fits_cdf(draws, [&](double x) { return (x - low) / (high - low); });
  }
}

TEST(SampleNormal, FitsItsDistribution) {
  const double parameters[][2] = {{0, 1}, {-3, 2.5}, {1e3, 1e-3}};
  for (std::uint32_t i = 0; i < std::size(parameters); ++i) {
    const double mean = parameters[i][0];
    const double sd = parameters[i][1];
    SCOPED_TRACE(testing::Message() << "normal(" << mean << ", " << sd << ")");
    const auto draws = draw(kNormalSite, i, kContinuousDraws,
                            [&](RandomStream& s) { return sample_normal(s, mean, sd); });
    expect_fits_cdf(draws, [&](double x) {
      return static_cast<double>(ld_normal_cdf((static_cast<long double>(x) - mean) / sd));
    });
  }
}

TEST(SampleLognormal, FitsItsDistribution) {
  const double parameters[][2] = {{0, 1}, {2, 0.5}, {-1, 3}};
  for (std::uint32_t i = 0; i < std::size(parameters); ++i) {
    const double mu = parameters[i][0];
    const double sigma = parameters[i][1];
    SCOPED_TRACE(testing::Message() << "lognormal(" << mu << ", " << sigma << ")");
    const auto draws = draw(kLognormalSite, i, kContinuousDraws,
                            [&](RandomStream& s) { return sample_lognormal(s, mu, sigma); });
    for (const double x : draws) ASSERT_GT(x, 0.0);
    expect_fits_cdf(draws, [&](double x) {
      return static_cast<double>(
          ld_normal_cdf((std::log(static_cast<long double>(x)) - mu) / sigma));
    });
  }
}

TEST(SampleTriangular, FitsItsDistribution) {
  const double parameters[][3] = {{0, 0.3, 1}, {2, 2, 5}, {-1, 4, 4}, {10, 15, 30}};
  for (std::uint32_t i = 0; i < std::size(parameters); ++i) {
    const double low = parameters[i][0];
    const double mode = parameters[i][1];
    const double high = parameters[i][2];
    SCOPED_TRACE(testing::Message() << "triangular(" << low << ", " << mode << ", " << high << ")");
    const auto draws = draw(kTriangularSite, i, kContinuousDraws,
                            [&](RandomStream& s) { return sample_triangular(s, low, mode, high); });
    for (const double x : draws) ASSERT_TRUE(x >= low && x <= high) << x;
    expect_fits_cdf(draws, [&](double x) {
      if (x <= mode) return (x - low) * (x - low) / ((high - low) * (mode - low));
      return 1 - (high - x) * (high - x) / ((high - low) * (high - mode));
    });
  }
}

TEST(SampleTruncatedNormal, FitsItsDistributionInBothTails) {
  struct Case {
    double mean, sd, low, high;
  };
  const Case cases[] = {
      {0, 1, -1, 2},        // straddles the mean
      {10, 3, 0, kInf},     // barely truncated
      {0, 1, 0, 1e-3},      // narrow
      {0, 1, 8, kInf},      // upper tail, erfc path
      {100, 10, 180, 200},  // the same tail, shifted and scaled
      {0, 1, -kInf, -8},    // lower tail
      {0, 1, -12, -10},     // lower tail, two-sided
      {3, 0.5, -kInf, 2},   // below the mean
      {0, 1, 29, 29.5},     // just below the switch to the asymptotic series
      {0, 1, 35, 35.5},     // asymptotic series
      {0, 1, 40, kInf},     // Q(40) = 4e-350 underflows a double
      {0, 1, -kInf, -45},   // the same in the lower tail
  };
  for (std::uint32_t i = 0; i < std::size(cases); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(testing::Message() << "truncated normal(" << c.mean << ", " << c.sd << ") on ["
                                    << c.low << ", " << c.high << "]");
    const auto draws = draw(kTruncatedNormalSite, i, kContinuousDraws, [&](RandomStream& s) {
      return sample_truncated_normal(s, c.mean, c.sd, c.low, c.high);
    });
    for (const double x : draws) ASSERT_TRUE(x >= c.low && x <= c.high) << x;
    expect_fits_cdf(draws,
                    [&](double x) { return truncated_normal_cdf(c.mean, c.sd, c.low, c.high, x); });
    // The sample mean agrees with truncated_normal_mean (z-test with the sample's own variance).
    const double n = static_cast<double>(draws.size());
    const double mean = std::accumulate(draws.begin(), draws.end(), 0.0) / n;
    double sum_squares = 0;
    for (const double x : draws) sum_squares += (x - mean) * (x - mean);
    const double standard_error = std::sqrt(sum_squares / (n - 1) / n);
    EXPECT_LT(std::abs(mean - truncated_normal_mean(c.mean, c.sd, c.low, c.high)),
              kZCritical * standard_error);
  }
}

TEST(SampleTruncatedNormal, IsContinuousWhereTheMethodChanges) {
  // erfc serves lower bounds below 30 sd, the asymptotic series from 30 on; the same uniform must
  // give (almost) the same variate on both sides of the switch.
  const double below = std::nextafter(30.0, 0.0);
  for (std::uint32_t i = 0; i < 1000; ++i) {
    RandomStream first = stream_at(kPropertySite, 0, i);
    RandomStream second = stream_at(kPropertySite, 0, i);
    EXPECT_NEAR(sample_truncated_normal(first, 0, 1, below, kInf),
                sample_truncated_normal(second, 0, 1, 30.0, kInf), 1e-12);
  }
}

TEST(SampleTruncatedNormal, IsMonotoneInTheUniform) {
  // Inversion: a larger uniform gives a larger variate, in every regime.
  const double intervals[][2] = {{-1, 2}, {8, kInf}, {-kInf, -8}, {40, 41}};
  for (const auto& interval : intervals) {
    std::vector<std::pair<double, double>> pairs;
    for (std::uint32_t i = 0; i < 2000; ++i) {
      RandomStream stream = stream_at(kPropertySite, 1, i);
      RandomStream copy = stream_at(kPropertySite, 1, i);
      pairs.emplace_back(copy.uniform(),
                         sample_truncated_normal(stream, 0, 1, interval[0], interval[1]));
    }
    std::sort(pairs.begin(), pairs.end());
    for (std::size_t i = 1; i < pairs.size(); ++i) {
      EXPECT_LE(pairs[i - 1].second, pairs[i].second)
          << "[" << interval[0] << ", " << interval[1] << "]";
    }
  }
}

// ---- Beta ----

TEST(SampleBeta, FitsItsDistribution) {
  const double parameters[][2] = {{2, 5},   {0.5, 0.5}, {0.2, 3},     {1, 1},
                                  {50, 80}, {0.3, 0.3}, {3000, 2000}, {1.5, 0.7}};
  for (std::uint32_t i = 0; i < std::size(parameters); ++i) {
    const double a = parameters[i][0];
    const double b = parameters[i][1];
    SCOPED_TRACE(testing::Message() << "beta(" << a << ", " << b << ")");
    const auto draws =
        draw(kBetaSite, i, kContinuousDraws, [&](RandomStream& s) { return sample_beta(s, a, b); });
    for (const double x : draws) ASSERT_TRUE(x >= 0 && x <= 1) << x;
    expect_fits_cdf(draws, [&](double x) { return incomplete_beta(a, b, x); });
  }
}

TEST(SampleBeta, SurvivesTinyShapes) {
  // Beta(1e-3, 1e-3) puts almost all mass within 1e-100 of 0 or 1, where X / (X + Y) of raw gamma
  // variates would be 0 / 0; about half the draws land near each end.
  int near_one = 0;
  for (std::uint32_t i = 0; i < 10000; ++i) {
    RandomStream stream = stream_at(kPropertySite, 2, i);
    const double x = sample_beta(stream, 1e-3, 1e-3);
    ASSERT_TRUE(x >= 0 && x <= 1) << x;
    near_one += x > 0.5;
  }
  // Binomial(10000, 1/2) count: sd = 50.
  EXPECT_LT(std::abs(near_one - 5000), kZCritical * 50);
}

// ---- Binomial ----

// Draws `count` binomial(n, p) variates and checks them against the exact pmf (chi-square) and
// against the exact mean and variance (z-tests).
void expect_binomial_fits(std::int64_t n, double p, std::uint32_t month, int count, bool chi) {
  const double nd = static_cast<double>(n);
  const double mean = nd * p;
  const double variance = nd * p * (1 - p);
  const double sd = std::sqrt(variance);
  // Every count more than 12 sd + 10 from the mean has probability < 1e-20: outside the window.
  const auto lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(mean - 12 * sd - 10));
  const auto hi = std::min<std::int64_t>(n, static_cast<std::int64_t>(mean + 12 * sd + 10));
  std::vector<double> histogram(chi ? static_cast<std::size_t>(hi - lo + 1) : 0, 0.0);
  double sum = 0;
  double sum_squares = 0;
  for (int i = 0; i < count; ++i) {
    RandomStream stream = stream_at(kBinomialSite, month, static_cast<std::uint32_t>(i));
    const std::int64_t x = sample_binomial(stream, n, p);
    ASSERT_TRUE(x >= 0 && x <= n) << x;
    const double deviation = static_cast<double>(x) - mean;
    sum += deviation;
    sum_squares += deviation * deviation;
    if (chi) histogram[static_cast<std::size_t>(std::clamp(x, lo, hi) - lo)] += 1;
  }
  const double draws = count;
  const double mean_z = sum / draws / std::sqrt(variance / draws);
  EXPECT_LT(std::abs(mean_z), kZCritical) << "mean";
  // Fourth central moment of the binomial: npq (1 + 3 (n - 2) pq).
  // Var(s^2) = (mu4 - var^2 (N - 3) / (N - 1)) / N. Skipped for n = 1, where s^2 is a function of
  // the sample mean and far from normal.
  if (n > 1) {
    const double mu4 = variance * (1 + 3 * (nd - 2) * p * (1 - p));
    const double sample_variance = (sum_squares - sum * sum / draws) / (draws - 1);
    const double variance_se =
        std::sqrt((mu4 - variance * variance * (draws - 3) / (draws - 1)) / draws);
    EXPECT_LT(std::abs(sample_variance - variance), kZCritical * variance_se) << "variance";
  }
  if (!chi) return;

  // Merge neighbouring counts until each cell expects >= 5; a short remainder joins the last cell.
  std::vector<double> observed;
  std::vector<double> expected;
  double pending_observed = 0;
  double pending_expected = 0;
  for (std::int64_t k = lo; k <= hi; ++k) {
    pending_observed += histogram[static_cast<std::size_t>(k - lo)];
    pending_expected += draws * std::exp(binomial_log_pmf(n, p, k));
    if (pending_expected >= 5) {
      observed.push_back(pending_observed);
      expected.push_back(pending_expected);
      pending_observed = pending_expected = 0;
    }
  }
  if (observed.empty()) {
    observed.push_back(0);
    expected.push_back(0);
  }
  observed.back() += pending_observed;
  expected.back() += pending_expected;
  if (observed.size() < 2) return;  // a single cell carries no information
  const ChiSquare result = pearson(observed, expected);
  EXPECT_GT(result.p_value, kAlpha)
      << "chi-square " << result.statistic << " on " << result.cells << " cells";
}

struct BinomialCase {
  std::int64_t n;
  double p;
  BinomialSetup::Method method;
};

constexpr auto kInversion = BinomialSetup::Method::kInversion;
constexpr auto kBtrs = BinomialSetup::Method::kBtrs;

TEST(SampleBinomial, FitsTheExactPmf) {
  // Both methods, each near the switch (n p' = kBinomialBtrsThreshold = 120) and far from it,
  // with p on both sides of 1/2.
  static_assert(kBinomialBtrsThreshold == 120, "the cases below straddle n p' = 120");
  const BinomialCase cases[] = {
      {1, 0.5, kInversion},
      {5, 0.3, kInversion},
      {19, 0.5, kInversion},
      {1000, 0.002, kInversion},
      {1000, 0.009, kInversion},
      {1000000, 1e-6, kInversion},
      {50, 0.999, kInversion},
      {30, 0.7, kInversion},
      {1000000, 1 - 1e-6, kInversion},
      {20, 0.5, kInversion},
      {200, 0.05, kInversion},
      {40, 0.75, kInversion},
      {80, 0.5, kInversion},
      {800, 0.05, kInversion},
      {239, 0.5, kInversion},
      {1000, 0.1199, kInversion},
      {399, 0.7, kInversion},
      {240, 0.5, kBtrs},
      {2400, 0.05, kBtrs},
      {480, 0.75, kBtrs},
      {300, 0.5, kBtrs},
      {1000, 0.3, kBtrs},
      {10000, 0.05, kBtrs},
      {5000, 0.998, kInversion},
      {60000, 0.998, kBtrs},
      {1000000, 1e-4, kInversion},
      {1000000, 1.21e-4, kBtrs},
      {10000000, 0.4, kBtrs},
      {1000000000, 1 - 1.1e-7, kInversion},
      {1000000000, 1 - 1.3e-7, kBtrs},
      {1000000000, 1e-3, kBtrs},
  };
  for (std::uint32_t i = 0; i < std::size(cases); ++i) {
    const BinomialCase& c = cases[i];
    SCOPED_TRACE(testing::Message() << "binomial(" << c.n << ", " << c.p << ")");
    ASSERT_EQ(make_binomial_setup(c.n, c.p).method, c.method);
    expect_binomial_fits(c.n, c.p, i, 200000, /*chi=*/true);
  }
}

TEST(SampleBinomial, HasExactMomentsForHugeN) {
  // Too wide for a per-count chi-square; the moments still pin down the mean and the spread.
  const BinomialCase cases[] = {{std::int64_t{1} << 40, 0.3, kBtrs},
                                {std::int64_t{1} << 53, 0.5, kBtrs},
                                {std::int64_t{1} << 53, 1e-15, kInversion},
                                {std::int64_t{1} << 53, 1 - 1e-13, kBtrs}};
  for (std::uint32_t i = 0; i < std::size(cases); ++i) {
    const BinomialCase& c = cases[i];
    SCOPED_TRACE(testing::Message() << "binomial(" << c.n << ", " << c.p << ")");
    ASSERT_EQ(make_binomial_setup(c.n, c.p).method, c.method);
    expect_binomial_fits(c.n, c.p, 100 + i, 100000, /*chi=*/false);
  }
}

TEST(SampleBinomial, BtrsHatCoversThePmfAndSqueezeLiesUnderIt) {
  // White-box check of the BTRS constants in BinomialSetup. BTRS returns k = floor(G(u)) with
  // G(u) = (2a / us + b) u + c, us = 0.5 - |u|, and accepts when V <= ratio(u) =
  // pmf(k) / pmf(m) * G'(u) / alpha, where G'(u) = a / us^2 + b. The result is exactly binomial iff
  // ratio <= 1 everywhere (the hat covers the pmf); the shortcut that accepts |u| <= 0.43,
  // V <= v_r without evaluating the pmf is valid iff ratio >= v_r there. (Statistical tests
  // cannot see a violation confined to a sliver of the tails; this check can.) The slack is
  // small (max ratio 0.995, min ratio / v_r 1.005 over a wide grid), so the tolerance is just
  // above the rounding of lgamma.
  for (const double p : {1e-4, 0.01, 0.1, 0.3, 0.5}) {
    for (const double np : {kBinomialBtrsThreshold, kBinomialBtrsThreshold + 1, 150.0, 200.0,
                            1000.0, 1e5}) {
      const auto n = static_cast<std::int64_t>(std::ceil(np / p));
      const BinomialSetup setup = make_binomial_setup(n, p);
      ASSERT_EQ(setup.method, kBtrs);
      const double log_pmf_mode = binomial_log_pmf(n, p, static_cast<std::int64_t>(setup.m));
      double max_ratio = 0;
      double min_squeeze_ratio = kInf;
      constexpr int kSteps = 20000;
      for (int i = 1; i < kSteps; ++i) {
        const double u = -0.5 + static_cast<double>(i) / kSteps;
        const double us = 0.5 - std::abs(u);
        const double k = std::floor((2 * setup.a / us + setup.b) * u + setup.c);
        if (k < 0 || k > static_cast<double>(n)) continue;
        const double log_pmf = binomial_log_pmf(n, p, static_cast<std::int64_t>(k));
        const double ratio =
            std::exp(log_pmf - log_pmf_mode) * (setup.a / (us * us) + setup.b) / setup.alpha;
        max_ratio = std::max(max_ratio, ratio);
        if (us >= 0.07) min_squeeze_ratio = std::min(min_squeeze_ratio, ratio);
      }
      EXPECT_LE(max_ratio, 1 + 1e-6) << "binomial(" << n << ", " << p << ")";
      EXPECT_GE(min_squeeze_ratio, setup.v_r * (1 - 1e-6)) << "binomial(" << n << ", " << p << ")";
    }
  }
}

TEST(SampleBinomial, HandlesDegenerateParametersWithoutDrawing) {
  const struct {
    std::int64_t n;
    double p;
    std::int64_t value;
  } cases[] = {{0, 0.3, 0},
               {0, 1, 0},
               {17, 0, 0},
               {17, 1, 17},
               {std::int64_t{1} << 53, 1, std::int64_t{1} << 53}};
  for (const auto& c : cases) {
    RandomStream stream = stream_at(kPropertySite, 3, 0);
    EXPECT_EQ(sample_binomial(stream, c.n, c.p), c.value);
    EXPECT_EQ(stream.blocks_used(), 0u);
  }
}

TEST(SampleBinomial, StaysInRangeOverAGrid) {
  const std::int64_t ns[] = {1,  2,  3,  7,    10,    19,      20,
                             21, 50, 99, 1000, 12345, 1000000, std::int64_t{1} << 53};
  const double ps[] = {1e-300, 1e-12,  1e-3, 0.01, 0.1,   0.3,      0.4999,
                       0.5,    0.5001, 0.7,  0.99, 0.999, 1 - 1e-12};
  std::uint32_t month = 0;
  for (const std::int64_t n : ns) {
    for (const double p : ps) {
      for (std::uint32_t i = 0; i < 300; ++i) {
        RandomStream stream = stream_at(kPropertySite, 100 + month, i);
        const std::int64_t x = sample_binomial(stream, n, p);
        ASSERT_TRUE(x >= 0 && x <= n) << "binomial(" << n << ", " << p << ") gave " << x;
      }
      ++month;
    }
  }
}

TEST(SampleBinomial, SetupGivesTheSameVariatesAsThePlainCall) {
  const std::int64_t ns[] = {1, 9, 20, 64, 1000, 100000, 10000000};
  const double ps[] = {0.001, 0.05, 0.3, 0.5, 0.8, 0.999};
  for (const std::int64_t n : ns) {
    for (const double p : ps) {
      const BinomialSetup setup = make_binomial_setup(n, p);
      for (std::uint32_t i = 0; i < 500; ++i) {
        RandomStream plain = stream_at(kPropertySite, 4, i);
        RandomStream prepared = stream_at(kPropertySite, 4, i);
        ASSERT_EQ(sample_binomial(plain, n, p), sample_binomial(prepared, setup))
            << "binomial(" << n << ", " << p << ") at trajectory " << i;
        ASSERT_EQ(plain.blocks_used(), prepared.blocks_used());
      }
    }
  }
}

TEST(SampleBinomial, SharedProbabilityGivesTheSameVariatesAsThePlainCall) {
  // One BinomialProbability serves every n; n from 0 through both sides of 64 (repeated squaring
  // below, exp and log1p from there) and of n p' = kBinomialBtrsThreshold (inversion below, BTRS
  // from there).
  const std::int64_t ns[] = {0,   1,   2,   9,   20,   39,   40,     63,      64,
                             65,  239, 240, 399, 400, 479, 480, 1000, 100000, 10000000};
  const double ps[] = {0.0, 0.001, 0.05, 1.0 / 12.0, 0.3, 0.5, 0.8, 0.999, 1.0};
  for (const double p : ps) {
    const BinomialProbability probability = make_binomial_probability(p);
    ASSERT_EQ(probability.p, p);
    for (const std::int64_t n : ns) {
      for (std::uint32_t i = 0; i < 500; ++i) {
        RandomStream plain = stream_at(kPropertySite, 12, i);
        RandomStream shared = stream_at(kPropertySite, 12, i);
        ASSERT_EQ(sample_binomial(plain, n, p), sample_binomial(shared, n, probability))
            << "binomial(" << n << ", " << p << ") at trajectory " << i;
        ASSERT_EQ(plain.blocks_used(), shared.blocks_used());
      }
    }
  }
  EXPECT_THROW(make_binomial_probability(-0.1), std::invalid_argument);
  EXPECT_THROW(make_binomial_probability(kNaN), std::invalid_argument);
}

TEST(SampleBinomial, MirrorsAroundOneHalf) {
  // With p' = min(p, 1 - p), binomial(n, p) and n - binomial(n, 1 - p) use the same draws.
  for (const double p : {0.001, 0.2, 0.45}) {
    for (std::uint32_t i = 0; i < 500; ++i) {
      RandomStream low = stream_at(kPropertySite, 5, i);
      RandomStream high = stream_at(kPropertySite, 5, i);
      EXPECT_EQ(sample_binomial(low, 1000, p), 1000 - sample_binomial(high, 1000, 1 - p));
    }
  }
}

// ---- Stream consumption ----

TEST(Samplers, SameAddressGivesTheSameVariate) {
  const std::vector<std::function<double(RandomStream&)>> samplers = {
      [](RandomStream& s) { return sample_uniform(s, 0, 1); },
      [](RandomStream& s) { return sample_normal(s, 0, 1); },
      [](RandomStream& s) { return sample_lognormal(s, 0, 1); },
      [](RandomStream& s) { return sample_triangular(s, 0, 0.5, 1); },
      [](RandomStream& s) { return sample_truncated_normal(s, 0, 1, 1, 3); },
      [](RandomStream& s) { return sample_beta(s, 0.5, 2); },
      [](RandomStream& s) { return static_cast<double>(sample_binomial(s, 10, 0.3)); },
      [](RandomStream& s) { return static_cast<double>(sample_binomial(s, 1000, 0.3)); },
  };
  for (std::size_t k = 0; k < samplers.size(); ++k) {
    for (std::uint32_t i = 0; i < 100; ++i) {
      RandomStream first = stream_at(kPropertySite, 6, i);
      RandomStream second = stream_at(kPropertySite, 6, i);
      const double a = samplers[k](first);
      const double b = samplers[k](second);
      EXPECT_EQ(a, b) << "sampler " << k;
      // The stream moves on: the next variate from it is a different draw.
      EXPECT_EQ(samplers[k](first), samplers[k](second)) << "sampler " << k;
    }
  }
}

TEST(Samplers, InversionSamplersConsumeExactlyOneUniform) {
  const std::vector<std::function<double(RandomStream&)>> samplers = {
      [](RandomStream& s) { return sample_uniform(s, 2, 2); },
      [](RandomStream& s) { return sample_normal(s, 0, 0); },
      [](RandomStream& s) { return sample_normal(s, 3, 2); },
      [](RandomStream& s) { return sample_lognormal(s, 0, 1); },
      [](RandomStream& s) { return sample_triangular(s, 0, 0.5, 1); },
      [](RandomStream& s) { return sample_truncated_normal(s, 0, 1, 1, 3); },
      [](RandomStream& s) { return sample_truncated_normal(s, 0, 0, 1, 3); },
      [](RandomStream& s) { return sample_truncated_normal(s, 0, 1, 50, kInf); },
      [](RandomStream& s) { return static_cast<double>(sample_binomial(s, 10, 0.3)); },
  };
  for (std::size_t k = 0; k < samplers.size(); ++k) {
    for (std::uint32_t i = 0; i < 20; ++i) {
      RandomStream stream = stream_at(kPropertySite, 7, i);
      RandomStream reference = stream_at(kPropertySite, 7, i);
      samplers[k](stream);
      reference.uniform();
      EXPECT_EQ(stream.uniform(), reference.uniform()) << "sampler " << k;
    }
  }
}

TEST(Samplers, NormalIsTheQuantileOfTheStreamsUniform) {
  for (std::uint32_t i = 0; i < 100; ++i) {
    RandomStream stream = stream_at(kPropertySite, 8, i);
    RandomStream reference = stream_at(kPropertySite, 8, i);
    const double u = reference.uniform();
    EXPECT_EQ(sample_normal(stream, 1, 2), 1 + 2 * normal_quantile(u));
  }
}

TEST(Samplers, DegenerateParametersGiveTheObviousValue) {
  RandomStream stream = stream_at(kPropertySite, 9, 0);
  EXPECT_EQ(sample_uniform(stream, 2, 2), 2.0);
  EXPECT_EQ(sample_normal(stream, 3, 0), 3.0);
  EXPECT_EQ(sample_lognormal(stream, 1, 0), std::exp(1.0));
  EXPECT_EQ(sample_triangular(stream, 4, 4, 4), 4.0);
  EXPECT_EQ(sample_truncated_normal(stream, 0, 0, 1, 2), 1.0);  // mean below: low
  EXPECT_EQ(sample_truncated_normal(stream, 5, 0, 1, 2), 2.0);  // mean above: high
  EXPECT_EQ(sample_truncated_normal(stream, 1.5, 0, 1, 2), 1.5);
}

// ---- Bad parameters ----

TEST(Samplers, RejectBadParameters) {
  RandomStream s = stream_at(kPropertySite, 10, 0);
  EXPECT_THROW(sample_uniform(s, 1, 0), std::invalid_argument);
  EXPECT_THROW(sample_uniform(s, kNaN, 1), std::invalid_argument);
  EXPECT_THROW(sample_uniform(s, 0, kInf), std::invalid_argument);

  EXPECT_THROW(sample_normal(s, 0, -1), std::invalid_argument);
  EXPECT_THROW(sample_normal(s, 0, kNaN), std::invalid_argument);
  EXPECT_THROW(sample_normal(s, 0, kInf), std::invalid_argument);
  EXPECT_THROW(sample_normal(s, kNaN, 1), std::invalid_argument);
  EXPECT_THROW(sample_normal(s, -kInf, 1), std::invalid_argument);

  EXPECT_THROW(sample_lognormal(s, 0, -0.1), std::invalid_argument);
  EXPECT_THROW(sample_lognormal(s, 0, kNaN), std::invalid_argument);
  EXPECT_THROW(sample_lognormal(s, kInf, 1), std::invalid_argument);

  EXPECT_THROW(sample_triangular(s, 0, -1, 1), std::invalid_argument);
  EXPECT_THROW(sample_triangular(s, 0, 2, 1), std::invalid_argument);
  EXPECT_THROW(sample_triangular(s, 1, 1, 0), std::invalid_argument);
  EXPECT_THROW(sample_triangular(s, 0, kNaN, 1), std::invalid_argument);
  EXPECT_THROW(sample_triangular(s, 0, 0.5, kInf), std::invalid_argument);

  EXPECT_THROW(sample_truncated_normal(s, 0, -1, 0, 1), std::invalid_argument);
  EXPECT_THROW(sample_truncated_normal(s, 0, kInf, 0, 1), std::invalid_argument);
  EXPECT_THROW(sample_truncated_normal(s, kNaN, 1, 0, 1), std::invalid_argument);
  EXPECT_THROW(sample_truncated_normal(s, 0, 1, 1, 1), std::invalid_argument);
  EXPECT_THROW(sample_truncated_normal(s, 0, 1, 2, 1), std::invalid_argument);
  EXPECT_THROW(sample_truncated_normal(s, 0, 1, kNaN, 1), std::invalid_argument);
  EXPECT_THROW(sample_truncated_normal(s, 0, 1, 0, kNaN), std::invalid_argument);
  EXPECT_THROW(truncated_normal_mean(0, 1, 2, 1), std::invalid_argument);
  EXPECT_THROW(truncated_normal_mean(0, -1, 0, 1), std::invalid_argument);

  EXPECT_THROW(sample_beta(s, 0, 1), std::invalid_argument);
  EXPECT_THROW(sample_beta(s, -1, 1), std::invalid_argument);
  EXPECT_THROW(sample_beta(s, 1, 0), std::invalid_argument);
  EXPECT_THROW(sample_beta(s, kNaN, 1), std::invalid_argument);
  EXPECT_THROW(sample_beta(s, 1, kInf), std::invalid_argument);

  EXPECT_THROW(sample_binomial(s, -1, 0.5), std::invalid_argument);
  EXPECT_THROW(sample_binomial(s, (std::int64_t{1} << 53) + 1, 0.5), std::invalid_argument);
  EXPECT_THROW(sample_binomial(s, 10, -0.1), std::invalid_argument);
  EXPECT_THROW(sample_binomial(s, 10, 1.5), std::invalid_argument);
  EXPECT_THROW(sample_binomial(s, 10, kNaN), std::invalid_argument);
  EXPECT_THROW(make_binomial_setup(-1, 0.5), std::invalid_argument);
  EXPECT_THROW(make_binomial_setup(10, kNaN), std::invalid_argument);

  EXPECT_THROW(normal_quantile(-0.1), std::invalid_argument);
  EXPECT_THROW(normal_quantile(1.1), std::invalid_argument);
  EXPECT_THROW(normal_quantile(kNaN), std::invalid_argument);
}

std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no exception)";
}

TEST(Samplers, ExplainBadParametersInOneShape) {
  RandomStream s = stream_at(kPropertySite, 11, 0);
  EXPECT_EQ(message_of([&] { sample_binomial(s, 10, 1.5); }),
            "sample_binomial: p must be in [0, 1], but is 1.5");
  EXPECT_EQ(message_of([&] { sample_binomial(s, -3, 0.5); }),
            "sample_binomial: n must be in [0, 2^53], but is -3");
  EXPECT_EQ(message_of([&] { make_binomial_setup(10, kNaN); }),
            "make_binomial_setup: p must be in [0, 1], but is nan");
  EXPECT_EQ(message_of([&] { sample_uniform(s, 2, 1); }),
            "sample_uniform: high must be >= low = 2, but is 1");
  EXPECT_EQ(message_of([&] { sample_normal(s, 0, -0.25); }),
            "sample_normal: sd must be finite and >= 0, but is -0.25");
  EXPECT_EQ(message_of([&] { sample_beta(s, 0, 1); }),
            "sample_beta: a must be finite and > 0, but is 0");
}

// ---- The test's own machinery ----

TEST(TestMachinery, ChiSquareTailMatchesKnownValues) {
  // mpmath: P(chi2_1 > 23.928) = 1.000066e-6, P(chi2_10 > 18.307) = 0.0500006,
  // P(chi2_199 > 300) = 4.776023e-6.
  EXPECT_NEAR(chi_square_p_value(23.928, 1), 1.000066e-6, 1e-11);
  EXPECT_NEAR(chi_square_p_value(18.307, 10), 0.0500006, 1e-7);
  EXPECT_NEAR(chi_square_p_value(300, 199), 4.776023e-6, 1e-11);
  EXPECT_NEAR(chi_square_p_value(2, 10), 1 - 0.0036598468273437135, 1e-12);
}

TEST(TestMachinery, IncompleteBetaMatchesClosedForms) {
  for (const double x : {0.001, 0.2, 0.5, 0.9, 0.999}) {
    EXPECT_NEAR(incomplete_beta(1, 1, x), x, 1e-14);
    EXPECT_NEAR(incomplete_beta(2, 1, x), x * x, 1e-14);
    EXPECT_NEAR(incomplete_beta(0.5, 0.5, x), 2 / 3.14159265358979323846 * std::asin(std::sqrt(x)),
                1e-14);
  }
}

}  // namespace
}  // namespace carecast::engine
