// Random variates drawn from addressed streams.
//
// Every sampler takes the RandomStream of one variate first and consumes as many uniforms from it
// as it needs, so a variate is a pure function of its stream address and its parameters. Nothing
// here uses a std:: distribution (their output differs across standard libraries): each sampler is
// a fixed sequence of IEEE operations and <cmath> calls, so results agree across platforms up to
// last-bit differences between libm implementations.
//
// The continuous samplers (uniform, normal, lognormal, triangular, truncated normal) invert the
// CDF of exactly one uniform, whatever their parameters: a variate moves smoothly and monotonically
// with its parameters, which keeps common random numbers effective across scenarios. The beta and
// the binomial sampler use rejection and consume a variable number of uniforms.
//
// Bad parameters throw std::invalid_argument with a message of the form
//   "sample_binomial: p must be in [0, 1], but is 1.5".
#pragma once

#include <array>
#include <cstdint>

#include "engine/random_stream.h"

namespace carecast::engine {

// ---- Normal distribution helpers ----

// Standard normal CDF, via erfc (accurate in both tails).
double normal_cdf(double x);

// Standard normal quantile (inverse CDF) by Wichura's algorithm AS241 (PPND16), accurate to about
// 1e-16 relative for p in [1e-300, 1 - 1e-16]. Returns -inf at p = 0 and +inf at p = 1; throws for
// p outside [0, 1] or NaN.
double normal_quantile(double p);

// Mean of a normal(mean, sd) distribution truncated to [low, high] (low or high may be infinite).
// Stable far into either tail (e.g. low = mean + 40 sd); for intervals narrower than about 1e-6 sd
// deep in a tail the result is only accurate to the interval's width.
double truncated_normal_mean(double mean, double sd, double low, double high);

// ---- Continuous samplers (one uniform each) ----

// Uniform on [low, high]; low == high is allowed. Bounds must be finite.
double sample_uniform(RandomStream& stream, double low, double high);

// Normal(mean, sd) by inversion; sd == 0 gives mean.
double sample_normal(RandomStream& stream, double mean, double sd);

// exp(mu + sigma * N) with N standard normal.
double sample_lognormal(RandomStream& stream, double mu, double sigma);

// Triangular on [low, high] with the given mode, by inversion.
double sample_triangular(RandomStream& stream, double low, double mode, double high);

// Normal(mean, sd) conditioned on [low, high], by inversion. mean and sd describe the PARENT
// normal; low or high may be infinite but low < high. sd == 0 gives mean clamped into [low, high]
// (the limit as sd -> 0). Works in the tail the interval lies in, so e.g. low = mean + 8 sd or
// high = mean - 50 sd are sampled accurately.
double sample_truncated_normal(RandomStream& stream, double mean, double sd, double low,
                               double high);

// ---- Rejection samplers ----

// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) by Marsaglia & Tsang (2000), computed
// in log space so tiny shapes (a, b << 1) do not underflow to 0 / 0.
double sample_beta(RandomStream& stream, double a, double b);

// ---- Binomial ----

// The binomial sampler's choices, shared with the lane samplers (engine/lane_samplers.h), which
// must make the same ones to return the same variates: BTRS from n p' = kBinomialBtrsThreshold
// on (inversion below), and the inversion search stopped at kBinomialInversionCap.
inline constexpr double kBinomialBtrsThreshold = 120;
inline constexpr std::int64_t kBinomialInversionCap = 320;

// The constants of binomial(n, p) that depend on p alone, shared by every draw with that p
// whatever its n (care_wf draws each provider's leaving and fill probabilities in all regions).
// make_binomial_probability() fills the fields; callers read only `p`.
struct BinomialProbability {
  double p = 0;           // as given
  bool mirrored = false;  // p > 1/2: the sampler draws failures and returns n - x
  double p_small = 0;     // p' = min(p, 1 - p)
  double q = 0;           // 1 - p'
  double r = 0;           // p' / (1 - p')
  double log_q = 0;       // log1p(-p'): (1 - p')^n = exp(n log_q) for n >= 64
  // q^(2^i) by repeated squaring: (1 - p')^n for n < 64 is the product of those of n's set bits.
  std::array<double, 6> q_powers{};
};

// Precomputes the p-dependent constants; p in [0, 1].
BinomialProbability make_binomial_probability(double p);

namespace binomial_detail {
// 1 / x for x <= kBinomialInversionCap + 1 (the inversion search, which takes two counts a round,
// multiplies by these instead of dividing); one table for the scalar search and the lanes'.
inline constexpr auto kReciprocals = [] {
  std::array<double, kBinomialInversionCap + 2> table{};
  for (std::size_t x = 1; x < table.size(); ++x) table[x] = 1.0 / static_cast<double>(x);
  return table;
}();

// make_binomial_probability(p) with its logarithm log_q = log1p_kernel(-min(p, 1 - p))
// (engine/math_kernels.h) computed by the caller, for several p at once
// (make_binomial_probability_lanes); p must already be checked.
BinomialProbability probability_with_log(double p, double log_q);
}  // namespace binomial_detail

// The constants of one binomial(n, p), for drawing many variates with the same parameters.
// make_binomial_setup() fills the fields; callers treat them as opaque (only tests look inside).
//
// p' = min(p, 1 - p) is sampled and mirrored (n - x) when p > 1/2. n * p' <
// kBinomialBtrsThreshold uses sequential inversion from 0 (one uniform); from there on, Hörmann's
// BTRS (transformed rejection with squeeze, 1993), whose average of uniforms per draw falls from
// 2.0 near n p' = 20 to 1.4 for large n p'. n == 0, p == 0 and p == 1 consume no uniforms.
struct BinomialSetup {
  enum class Method : std::uint8_t { kConstant, kInversion, kBtrs };

  Method method = Method::kConstant;
  bool mirrored = false;  // the sampler draws failures and returns n - x
  std::int64_t n = 0;
  std::int64_t constant = 0;  // kConstant: the value
  std::int64_t cap = 0;       // kInversion: the largest count the search visits
  double r = 0;               // p' / (1 - p')
  double nr = 0;              // (n + 1) * r; pmf(k) / pmf(k - 1) = nr / k - r
  double nd = 0;              // n as a double
  double pmf0 = 0;            // kInversion: (1 - p')^n
  // kBtrs (Hörmann 1993, algorithm BTRS): the variate is floor((2a / us + b) u + c) for
  // us = 1/2 - |u|, under a hat scaled by alpha. The Stirling corrections fc(m) + fc(n - m) of the
  // mode are computed only when a draw needs them (|k - m| > 15, rare).
  double a = 0, b = 0, c = 0, alpha = 0;
  double v_r = 0;      // squeeze bound on V
  double u_rv_r = 0;   // 0.86 * v_r: below it one uniform decides acceptance
  double m = 0;        // mode, floor((n + 1) p')
};

// Precomputes the constants of binomial(n, p); n in [0, 2^53], p in [0, 1].
BinomialSetup make_binomial_setup(std::int64_t n, double p);

// Same as make_binomial_setup(n, probability.p), from the shared p-dependent constants.
BinomialSetup make_binomial_setup(std::int64_t n, const BinomialProbability& probability);

// A binomial variate, exact (to double rounding) for every valid (n, p), always in [0, n].
std::int64_t sample_binomial(RandomStream& stream, const BinomialSetup& setup);

// The rest of a BTRS draw (setup.method == kBtrs) from the first uniform v of its attempt number
// `attempt` (counted from 0), v already taken from `stream`: sample_binomial(stream, setup) is,
// bit for bit, finish_btrs(stream, setup, stream.uniform(), 0), mirrored (setup.n - x) when
// setup.mirrored. For the lane samplers (engine/lane_samplers.h), which run the attempts of all
// lanes together and resume a lane's stream here when it needs what they leave to the scalar
// code. Returns the unmirrored count.
std::int64_t finish_btrs(RandomStream& stream, const BinomialSetup& setup, double v,
                         int attempt = 0);

// Same as sample_binomial(stream, make_binomial_setup(n, probability)): the per-draw setup for
// one n, the p-dependent part taken from `probability`.
std::int64_t sample_binomial(RandomStream& stream, std::int64_t n,
                             const BinomialProbability& probability);

// Same as sample_binomial(stream, n, make_binomial_probability(p)), bit for bit.
std::int64_t sample_binomial(RandomStream& stream, std::int64_t n, double p);

}  // namespace carecast::engine
