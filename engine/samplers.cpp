#include "engine/samplers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include "engine/math_kernels.h"
#include "engine/normal_quantile.h"

namespace carecast::engine {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kInvSqrt2 = 0.70710678118654752440;  // 1 / sqrt(2)
constexpr double kSqrt2Pi = 2.50662827463100050242;   // sqrt(2 pi)

// Rejection loops give up after this many attempts. Every attempt of Marsaglia-Tsang and of BTRS
// accepts with probability above 1/2, so reaching the bound (probability < 2^-1000) means a bug.
constexpr int kMaxAttempts = 1000;

// ---- Parameter checks ----

template <typename T>
std::string format_number(T value) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return std::string(buffer, end);
}

[[noreturn]] void throw_invalid(std::string_view function, std::string_view requirement,
                                std::string_view value) {
  std::string message(function);
  message.append(": ").append(requirement).append(", but is ").append(value);
  throw std::invalid_argument(message);
}

// Throws "<function>: <requirement>, but is <value>" unless `ok`. The message is built only on
// failure, so a passing check costs one predictable branch.
template <typename T>
inline void require(bool ok, const char* function, const char* requirement, T value) {
  if (!ok) [[unlikely]] {
    throw_invalid(function, requirement, format_number(value));
  }
}

// As above for a requirement relative to another parameter, e.g. "high must be >= low = 2".
inline void require(bool ok, const char* function, const char* requirement, double reference,
                    double value) {
  if (!ok) [[unlikely]] {
    throw_invalid(function, std::string(requirement) + " = " + format_number(reference),
                  format_number(value));
  }
}

[[noreturn]] void throw_rejection_failure(const char* function) {
  throw std::runtime_error(std::string(function) + ": rejection sampling accepted nothing in " +
                           std::to_string(kMaxAttempts) + " attempts (internal error)");
}

// ---- Normal distribution ----

// Wichura (1988), algorithm AS241 PPND16 (engine/normal_quantile.h), without argument checks;
// p = 0 and p = 1 give -inf and +inf.
double ppnd16(double p) { return normal_quantile_kernel(p); }

// Q(x) = 1 - Phi(x), the upper tail of the standard normal.
double upper_tail(double x) { return 0.5 * std::erfc(x * kInvSqrt2); }

// From this many sd on, the upper tail is handled with the asymptotic series of the Mills ratio
// instead of erfc, which underflows near 38 sd.
constexpr double kAsymptoticTail = 30;

// S(x) = x Q(x) / phi(x) = 1 - 1/x^2 + 3/x^4 - 15/x^6 + ... for x >= kAsymptoticTail (phi is the
// standard normal density), summed to the term 19!!/x^20. The first omitted term, 21!!/x^22, is
// below 5e-23 at x = 30: full double precision.
double tail_series(double x) {
  const double z = 1 / (x * x);
  double term = 1;
  double sum = 1;
  for (int k = 1; k <= 10; ++k) {
    term *= -(2.0 * k - 1) * z;
    sum += term;
  }
  return sum;
}

// Mills ratio Q(x) / phi(x) for x >= 0 (0 at x = +inf).
double mills_ratio(double x) {
  if (x < kAsymptoticTail) return upper_tail(x) * kSqrt2Pi * std::exp(0.5 * x * x);
  return tail_series(x) / x;
}

// Quantile of the standard normal truncated to [alpha, beta] with alpha >= kAsymptoticTail, where
// Q(alpha) may underflow: solves log(Q(z) / Q(alpha)) = log(target) for t = z - alpha by Newton's
// method, with -log(Q(z) / Q(alpha)) = t (alpha + t/2) + log(z / alpha) - log(S(z) / S(alpha)).
// That function of t is convex and increasing with slope z / S(z), and t = excess / alpha lies to
// the right of the root, so the iteration converges monotonically (in at most 3 steps in tests).
double asymptotic_tail_quantile(double alpha, double beta, double below, double above) {
  const double s_alpha = tail_series(alpha);
  const double log_rho = -0.5 * (beta - alpha) * (beta + alpha) - std::log(beta / alpha) +
                         std::log(tail_series(beta) / s_alpha);  // log(Q(beta) / Q(alpha))
  const double mass = -std::expm1(log_rho);  // share of the tail above alpha that lies below beta
  const double excess =
      below < 0.5 ? -std::log1p(-below * mass) : -std::log(std::exp(log_rho) + above * mass);
  double t = excess / alpha;
  for (int step = 0; step < 50; ++step) {
    const double z = alpha + t;
    const double s_z = tail_series(z);
    const double h =
        t * (alpha + 0.5 * t) + std::log1p(t / alpha) - std::log(s_z / s_alpha) - excess;
    const double delta = h * s_z / z;
    t -= delta;
    if (std::abs(delta) <= 1e-15 * z) break;
  }
  return alpha + t;
}

// Quantile of the standard normal truncated to [alpha, beta], 0 <= alpha < beta <= inf, at the
// point with the share `below` of the mass under it and `above` = 1 - below over it. Both are
// passed so that whichever is used (the smaller) is exact. Works with upper-tail areas, so that
// alpha = 8 (Q = 6e-16) loses nothing to cancellation against 1.
double upper_tail_quantile(double alpha, double beta, double below, double above) {
  if (alpha >= kAsymptoticTail) return asymptotic_tail_quantile(alpha, beta, below, above);
  const double qa = upper_tail(alpha);
  const double qb = upper_tail(beta);
  const double q = below < 0.5 ? qa - below * (qa - qb) : qb + above * (qa - qb);
  return -ppnd16(q);  // Q^-1(q) = -Phi^-1(q)
}

// Quantile at u of the standard normal truncated to [alpha, beta] with alpha < 0 < beta.
double straddling_quantile(double alpha, double beta, double u) {
  const double mass = 0.5 * (std::erf(beta * kInvSqrt2) - std::erf(alpha * kInvSqrt2));
  const double p = normal_cdf(alpha) + u * mass;
  if (p <= 0.5) return ppnd16(p);
  return -ppnd16(upper_tail(beta) + (1 - u) * mass);  // from the upper tail, for accuracy
}

// Quantile at u of the standard normal truncated to [alpha, beta], alpha < beta.
double standard_truncated_quantile(double alpha, double beta, double u) {
  if (alpha >= 0) return upper_tail_quantile(alpha, beta, u, 1 - u);
  if (beta <= 0) return -upper_tail_quantile(-beta, -alpha, 1 - u, u);  // mirror image
  return straddling_quantile(alpha, beta, u);
}

// E[Z] for Z standard normal truncated to [alpha, beta], alpha < beta.
double standard_truncated_mean(double alpha, double beta) {
  if (alpha >= 0) {
    // (phi(a) - phi(b)) / (Q(a) - Q(b)), divided through by phi(a) so nothing underflows.
    const double log_w = -0.5 * (beta - alpha) * (beta + alpha);  // log(phi(beta) / phi(alpha))
    return -std::expm1(log_w) / (mills_ratio(alpha) - std::exp(log_w) * mills_ratio(beta));
  }
  if (beta <= 0) return -standard_truncated_mean(-beta, -alpha);
  const double density_difference =
      (std::exp(-0.5 * alpha * alpha) - std::exp(-0.5 * beta * beta)) / kSqrt2Pi;
  return density_difference / (0.5 * (std::erf(beta * kInvSqrt2) - std::erf(alpha * kInvSqrt2)));
}

void check_truncated_normal(const char* function, double mean, double sd, double low, double high) {
  require(std::isfinite(mean), function, "mean must be finite", mean);
  require(sd >= 0 && std::isfinite(sd), function, "sd must be finite and >= 0", sd);
  require(!std::isnan(low), function, "low must not be NaN", low);
  require(low < high, function, "high must be > low", low, high);
}

// ---- Gamma variates (for the beta sampler) ----

// log of a Gamma(shape, 1) variate for shape >= 1, by Marsaglia & Tsang (2000).
double log_gamma_variate_at_least_one(RandomStream& stream, double shape) {
  const double d = shape - 1.0 / 3.0;
  const double c = 1 / std::sqrt(9 * d);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const double x = ppnd16(stream.uniform());
    const double cube_root = 1 + c * x;
    if (cube_root <= 0) continue;
    const double v = cube_root * cube_root * cube_root;
    const double u = stream.uniform();
    const double x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2 || std::log(u) < 0.5 * x2 + d * (1 - v + std::log(v))) {
      return std::log(d * v);
    }
  }
  throw_rejection_failure("sample_beta");
}

// log of a Gamma(shape, 1) variate; logs keep tiny shapes from underflowing.
double log_gamma_variate(RandomStream& stream, double shape) {
  if (shape >= 1) return log_gamma_variate_at_least_one(stream, shape);
  // Gamma(a) = Gamma(a + 1) U^(1/a) for a < 1 (Marsaglia & Tsang, section 6).
  const double log_boosted = log_gamma_variate_at_least_one(stream, shape + 1);
  return log_boosted + std::log(stream.uniform()) / shape;
}

// ---- Binomial ----

constexpr std::int64_t kMaxBinomialN = std::int64_t{1} << 53;  // counts stay exact in a double

// n p' from which BTRS is used instead of inversion. Hörmann recommends 10 for one draw at a
// time; care_wf draws 8 trajectories at once in lanes (engine/lane_samplers.h), where a BTRS call
// costs several times an inversion one (a division per step of its acceptance test, and every
// lane's rejections repeated until the last lane accepts). Measured on care_wf's mix of draws
// (bench/sampling_bench.cpp, BinomialMix/engine_lanes and TrajectoryDraws, A/B in one sitting):
// switching at 40 instead of 20 made both about 18% faster (an earlier session, when 60 and 100
// gained nothing more); once the inversion search had become cheaper, switching at 120 instead
// of 40 made TrajectoryDraws and CareWf/baseline/trajectory about 9% faster (best of 6
// alternations: 1.153 against 1.262 ms, 1.312 against 1.427 ms per 8 trajectories), 80 about
// 5%, 160 the same as 120. The scalar sampler, which must make the same choice as the lanes,
// is slower for it at n p' from 40 to 120; no model draws one trajectory at a time.
constexpr double kBtrsThreshold = kBinomialBtrsThreshold;

// The inversion search stops at this count. With mu = n p' < 120, Chernoff's bound
// P(X >= k) <= e^-mu (e mu / k)^k gives P(X >= 320) < e^-120 (120 e / 320)^320 < 1e-49, far below
// the 2^-53 resolution of a uniform, so the cap changes no result; it only ends the search when
// rounding leaves u above the total of the computed probabilities.
constexpr std::int64_t kInversionCap = kBinomialInversionCap;

// In BTRS, |k - m| up to this is accepted or rejected by multiplying pmf ratios (step 3.1).
constexpr std::int64_t kRecursionRange = 15;

// fc(k) = log(k!) - [(k + 1/2) log(k + 1) - (k + 1) + log(2 pi) / 2], the remainder of Stirling's
// series. Below 16 from a table (values computed to 50 digits with mpmath, then rounded); from 16
// on from the series in x = k + 1, whose first omitted term, 691 / (360360 x^11), is below 6e-17.
double stirling_tail(std::int64_t k) {
  static constexpr std::array<double, 16> kTable = {
      0.08106146679532726,  0.0413406959554093,    0.02767792568499834,  0.020790672103765093,
      0.016644691189821193, 0.013876128823070748,  0.01189670994589177,  0.010411265261972096,
      0.009255462182712733, 0.00833056343336287,   0.007573675487951841, 0.00694284010720953,
      0.006408994188004207, 0.0059513701127588475, 0.005554733551962801, 0.0052076559196096404};
  if (k < static_cast<std::int64_t>(kTable.size())) return kTable[k];
  const double x = static_cast<double>(k) + 1;
  const double z = 1 / (x * x);
  return (1.0 / 12 - z * (1.0 / 360 - z * (1.0 / 1260 - z * (1.0 / 1680 - z / 1188)))) / x;
}

// The p-dependent constants; `function` names the caller in the error message.
BinomialProbability make_probability(const char* function, double p) {
  require(p >= 0 && p <= 1, function, "p must be in [0, 1]", p);
  const double p_small = p > 0.5 ? 1 - p : p;  // exact for p > 1/2
  return binomial_detail::probability_with_log(p, log1p_kernel(-p_small));
}

// (1 - p')^n. n < 64 (most inversion cases with large p) by repeated squaring, which is several
// times cheaper than exp and as accurate (at most 2 log2(n) roundings); the squares q^(2^i) come
// precomputed, so only the multiplications by those of n's set bits are left, in the order the
// squaring loop does them.
double power_of_complement(const BinomialProbability& probability, std::int64_t n) {
  // n log q >= -n p' / (1 - p') > -240 for the inversion's n p' < 120 (p' <= 1/2): within the
  // exp kernel's domain. The Estrin form, whose shorter dependency chain the search waits on for less.
  if (n >= 64) return exp_estrin_kernel(static_cast<double>(n) * probability.log_q);
  double result = 1;
  for (std::size_t i = 0; n > 0; n >>= 1, ++i) {
    if (n & 1) result *= probability.q_powers[i];
  }
  return result;
}

void init_inversion(BinomialSetup& setup, const BinomialProbability& probability) {
  setup.method = BinomialSetup::Method::kInversion;
  setup.pmf0 = power_of_complement(probability, setup.n);
  setup.cap = std::min(setup.n, kInversionCap);
}

// Constants of Hörmann (1993), algorithm BTRS, for p <= 1/2 and n p >= 10.
void init_btrs(BinomialSetup& setup, double p, double q) {
  setup.method = BinomialSetup::Method::kBtrs;
  const double n = setup.nd;
  const double spq = std::sqrt(n * p * q);
  setup.b = 1.15 + 2.53 * spq;
  setup.a = -0.0873 + 0.0248 * setup.b + 0.01 * p;
  setup.c = n * p + 0.5;
  setup.alpha = (2.83 + 5.1 / setup.b) * spq;
  setup.v_r = 0.92 - 4.2 / setup.b;
  setup.u_rv_r = 0.86 * setup.v_r;
  setup.m = std::floor((n + 1) * p);
}

BinomialSetup make_setup(const char* function, std::int64_t n,
                         const BinomialProbability& probability) {
  // One unsigned comparison rejects negative n too.
  require(static_cast<std::uint64_t>(n) <= static_cast<std::uint64_t>(kMaxBinomialN), function,
          "n must be in [0, 2^53]", n);
  BinomialSetup setup;
  setup.n = n;
  const double p = probability.p;
  if (n == 0 || p == 0 || p == 1) {
    setup.constant = p == 1 ? n : 0;
    return setup;
  }
  setup.mirrored = probability.mirrored;
  setup.nd = static_cast<double>(n);
  setup.r = probability.r;
  setup.nr = (setup.nd + 1) * setup.r;
  if (setup.nd * probability.p_small < kBtrsThreshold) {
    init_inversion(setup, probability);
  } else {
    init_btrs(setup, probability.p_small, probability.q);
  }
  return setup;
}

using binomial_detail::kReciprocals;

// Sequential search from 0: subtracts pmf(0), pmf(1), ... from u until it is used up, two
// counts per round. The search for 8 lanes at once (engine/lane_samplers.cpp) makes the same
// operations, and its speed is the length of their chain of dependent operations: advancing two
// counts per round as
//     pmf(x + 2) = pmf(x) * (ratio(x + 1) * ratio(x + 2)),
//     u(x + 2)   = u(x) - (pmf(x) + pmf(x + 1))
// (u(x) = u - pmf(0) - ... - pmf(x - 1), ratio(i) = pmf(i) / pmf(i - 1) = nr / i - r) puts one
// multiplication and one subtraction in that chain per two counts, not per count; the roundings
// differ from the one-count recurrence, not the precision.
std::int64_t sample_by_inversion(RandomStream& stream, const BinomialSetup& setup) {
  double left = stream.uniform();
  double pmf = setup.pmf0;
  std::int64_t x = 0;
  while (left > pmf && x < setup.cap) {
    const double ratio_1 = setup.nr * kReciprocals[x + 1] - setup.r;
    const double pmf_1 = pmf * ratio_1;
    if (!(left - pmf > pmf_1 && x + 1 < setup.cap)) return x + 1;
    const double ratio_2 = setup.nr * kReciprocals[x + 2] - setup.r;
    left = left - (pmf + pmf_1);
    pmf = pmf * (ratio_1 * ratio_2);
    x += 2;
  }
  return x;
}

// Whether v, already scaled to the hat, lies under pmf(k) / pmf(m): BTRS steps 3.1 and 3.3.
bool btrs_accepts(const BinomialSetup& setup, double v, std::int64_t k) {
  const auto m = static_cast<std::int64_t>(setup.m);
  const std::int64_t d = k - m;
  if (d >= -kRecursionRange && d <= kRecursionRange) {
    // pmf(i) / pmf(i - 1) = nr / i - r; one of the two loops runs.
    double f = 1;
    for (std::int64_t i = m + 1; i <= k; ++i) f *= setup.nr / static_cast<double>(i) - setup.r;
    for (std::int64_t i = k + 1; i <= m; ++i) v *= setup.nr / static_cast<double>(i) - setup.r;
    return v <= f;
  }
  // log(pmf(k) / pmf(m)) from Stirling's series, arranged so that no term is a difference of
  // large logarithms (which would lose ~1e-4 at n = 1e12):
  //   (n - m + 1/2) log1p(d / (n - k + 1)) - (m + 1/2) log1p(d / (m + 1))
  //   + d log((n - k + 1) r / (k + 1)) + fc(m) + fc(n - m) - fc(k) - fc(n - k).
  const double fc_mode = stirling_tail(m) + stirling_tail(setup.n - m);
  const double kd = static_cast<double>(k);
  const double dd = static_cast<double>(d);
  const double nk = setup.nd - kd + 1;
  const double log_ratio = (setup.nd - setup.m + 0.5) * std::log1p(dd / nk) -
                           (setup.m + 0.5) * std::log1p(dd / (setup.m + 1)) +
                           dd * std::log(nk * setup.r / (kd + 1)) + fc_mode -
                           stirling_tail(k) - stirling_tail(setup.n - k);
  return std::log(v) <= log_ratio;
}

}  // namespace

// Hörmann (1993), algorithm BTRS, with the one-uniform first step that the same paper uses in its
// algorithm BTRD. `v` is the first uniform of attempt number `attempt` (counted from 0), already
// drawn from `stream`; the rest of the draw comes from `stream`.
std::int64_t finish_btrs(RandomStream& stream, const BinomialSetup& setup, double v,
                         int attempt) {
  for (;;) {
    double u;
    if (v <= setup.u_rv_r) {
      // (U, V) lies in the box |U| <= 0.43, V <= v_r, which is accepted outright, and
      // U = V / v_r - 0.43 is uniform on it: one uniform makes the variate.
      u = v / setup.v_r - 0.43;
      return static_cast<std::int64_t>(
          std::floor((2 * setup.a / (0.5 - std::abs(u)) + setup.b) * u + setup.c));
    }
    if (v >= setup.v_r) {
      u = stream.uniform() - 0.5;
    } else {
      // V in (0.86 v_r, v_r) becomes U in the slivers 0.43 < |U| < 0.5; V is drawn afresh.
      u = v / setup.v_r - 0.93;
      u = std::copysign(0.5, u) - u;
      v = stream.uniform() * setup.v_r;
    }
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * setup.a / us + setup.b) * u + setup.c);
    // k out of range (which also catches the infinities of us = 0) is rejected.
    if (!(k < 0 || k > setup.nd)) {
      const double us2 = us * us;
      v *= setup.alpha * us2 / (setup.a + setup.b * us2);  // alpha / (a / us^2 + b)
      if (btrs_accepts(setup, v, static_cast<std::int64_t>(k))) {
        return static_cast<std::int64_t>(k);
      }
    }
    if (++attempt == kMaxAttempts) throw_rejection_failure("sample_binomial");
    v = stream.uniform();
  }
}

// ---- Helpers ----

double normal_cdf(double x) { return 0.5 * std::erfc(-x * kInvSqrt2); }

double normal_quantile(double p) {
  require(p >= 0 && p <= 1, "normal_quantile", "p must be in [0, 1]", p);
  return ppnd16(p);
}

double truncated_normal_mean(double mean, double sd, double low, double high) {
  check_truncated_normal("truncated_normal_mean", mean, sd, low, high);
  const double alpha = (low - mean) / sd;
  const double beta = (high - mean) / sd;
  if (sd == 0 || !(alpha < beta)) return std::clamp(mean, low, high);
  return std::clamp(mean + sd * standard_truncated_mean(alpha, beta), low, high);
}

// ---- Continuous samplers ----

double sample_uniform(RandomStream& stream, double low, double high) {
  require(std::isfinite(low), "sample_uniform", "low must be finite", low);
  require(std::isfinite(high), "sample_uniform", "high must be finite", high);
  require(low <= high, "sample_uniform", "high must be >= low", low, high);
  return std::min(low + stream.uniform() * (high - low), high);
}

double sample_normal(RandomStream& stream, double mean, double sd) {
  require(std::isfinite(mean), "sample_normal", "mean must be finite", mean);
  require(sd >= 0 && std::isfinite(sd), "sample_normal", "sd must be finite and >= 0", sd);
  return mean + sd * ppnd16(stream.uniform());
}

double sample_lognormal(RandomStream& stream, double mu, double sigma) {
  require(std::isfinite(mu), "sample_lognormal", "mu must be finite", mu);
  require(sigma >= 0 && std::isfinite(sigma), "sample_lognormal", "sigma must be finite and >= 0",
          sigma);
  return std::exp(mu + sigma * ppnd16(stream.uniform()));
}

double sample_triangular(RandomStream& stream, double low, double mode, double high) {
  require(std::isfinite(low), "sample_triangular", "low must be finite", low);
  require(std::isfinite(high), "sample_triangular", "high must be finite", high);
  require(low <= high, "sample_triangular", "high must be >= low", low, high);
  require(mode >= low && mode <= high, "sample_triangular", "mode must be in [low, high]", mode);
  const double u = stream.uniform();
  const double width = high - low;
  const double left = mode - low;
  // F(mode) = left / width; compared multiplied through so that width = 0 needs no division.
  const double x = u * width < left ? low + std::sqrt(u * width * left)
                                    : high - std::sqrt((1 - u) * width * (high - mode));
  return std::clamp(x, low, high);
}

double sample_truncated_normal(RandomStream& stream, double mean, double sd, double low,
                               double high) {
  check_truncated_normal("sample_truncated_normal", mean, sd, low, high);
  const double u = stream.uniform();  // drawn in every case, so one uniform per variate
  const double alpha = (low - mean) / sd;
  const double beta = (high - mean) / sd;
  // sd = 0, or an interval narrower than the rounding of its standardized ends.
  if (sd == 0 || !(alpha < beta)) return std::clamp(mean, low, high);
  return std::clamp(mean + sd * standard_truncated_quantile(alpha, beta, u), low, high);
}

// ---- Beta ----

double sample_beta(RandomStream& stream, double a, double b) {
  require(a > 0 && std::isfinite(a), "sample_beta", "a must be finite and > 0", a);
  require(b > 0 && std::isfinite(b), "sample_beta", "b must be finite and > 0", b);
  const double log_x = log_gamma_variate(stream, a);
  const double log_y = log_gamma_variate(stream, b);
  return 1 / (1 + std::exp(log_y - log_x));  // X / (X + Y)
}

// ---- Binomial ----

namespace binomial_detail {

BinomialProbability probability_with_log(double p, double log_q) {
  BinomialProbability probability;
  probability.p = p;
  if (p == 0 || p == 1) return probability;  // constant variates use nothing else
  probability.mirrored = p > 0.5;
  probability.p_small = probability.mirrored ? 1 - p : p;  // exact for p > 1/2
  probability.q = probability.mirrored ? p : 1 - p;
  probability.r = probability.p_small / probability.q;
  probability.log_q = log_q;
  probability.q_powers[0] = probability.q;
  for (std::size_t i = 1; i < probability.q_powers.size(); ++i) {
    probability.q_powers[i] = probability.q_powers[i - 1] * probability.q_powers[i - 1];
  }
  return probability;
}

}  // namespace binomial_detail

BinomialProbability make_binomial_probability(double p) {
  return make_probability("make_binomial_probability", p);
}

BinomialSetup make_binomial_setup(std::int64_t n, double p) {
  return make_setup("make_binomial_setup", n, make_probability("make_binomial_setup", p));
}

BinomialSetup make_binomial_setup(std::int64_t n, const BinomialProbability& probability) {
  return make_setup("make_binomial_setup", n, probability);
}

std::int64_t sample_binomial(RandomStream& stream, const BinomialSetup& setup) {
  if (setup.method == BinomialSetup::Method::kConstant) return setup.constant;
  const std::int64_t x = setup.method == BinomialSetup::Method::kInversion
                             ? sample_by_inversion(stream, setup)
                             : finish_btrs(stream, setup, stream.uniform());
  return setup.mirrored ? setup.n - x : x;
}

std::int64_t sample_binomial(RandomStream& stream, std::int64_t n,
                             const BinomialProbability& probability) {
  return sample_binomial(stream, make_setup("sample_binomial", n, probability));
}

std::int64_t sample_binomial(RandomStream& stream, std::int64_t n, double p) {
  // n is checked first, as the setup would, so that the message names the first bad parameter.
  require(static_cast<std::uint64_t>(n) <= static_cast<std::uint64_t>(kMaxBinomialN),
          "sample_binomial", "n must be in [0, 2^53]", n);
  return sample_binomial(stream, n, make_probability("sample_binomial", p));
}

}  // namespace carecast::engine
