// The standard normal quantile Phi^-1(p): Wichura (1988), algorithm AS241 PPND16 (relative error
// about 1e-16), written once for doubles and for vectors of lanes (GCC vector extensions), like
// engine/math_kernels.h, whose log it uses. A scalar and a lane evaluation of the same p give the
// same double bit for bit (the build sets -ffp-contract=off), so the normal shocks of trajectories
// stepped in lanes are exactly those of one trajectory at a time.
//
// PPND16 has two branches: a rational function of (p - 1/2)^2 in the centre (|p - 1/2| <= 0.425,
// 85% of draws) and one of sqrt(-log(tail)) in the tails. A vector computes the centre for every
// lane, and the tails only when one of its lanes needs them, then picks per lane.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "engine/math_kernels.h"

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace carecast::engine {

namespace normal_quantile_detail {
// clang-format off
inline constexpr std::array<double, 8> kA = {
    3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
    1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
    3.3430575583588128105e+4, 2.5090809287301226727e+3};
inline constexpr std::array<double, 8> kB = {
    1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
    2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
    5.2264952788528545610e+3};
inline constexpr std::array<double, 8> kC = {
    1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
    3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
    2.27238449892691845833e-2, 7.74545014278341407640e-4};
inline constexpr std::array<double, 8> kD = {
    1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
    1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
    1.05075007164441684324e-9};
inline constexpr std::array<double, 8> kE = {
    6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
    2.71155556874348757815e-5, 2.01033439929228813265e-7};
inline constexpr std::array<double, 8> kF = {
    1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
    7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
    2.04426310338993978564e-15};
// clang-format on

// c[0] + c[1] x + ... + c[7] x^7 by Horner's rule.
template <typename D>
inline D polynomial(D x, const std::array<double, 8>& c) {
  D sum = D{} + c[7];
  for (std::size_t i = 7; i-- > 0;) sum = sum * x + c[i];
  return sum;
}

template <typename D>
inline constexpr bool kScalar = std::is_same_v<D, double>;

inline constexpr double kLn2 = 0.69314718055994530942;

// Correctly rounded square roots, lane by lane.
template <typename D>
inline D sqrt(D x) {
  if constexpr (kScalar<D>) {
    return std::sqrt(x);
#if defined(__AVX512F__)
  } else if constexpr (sizeof(D) == 64) {
    const auto v = std::bit_cast<__m512d>(x);
    return std::bit_cast<D>(_mm512_mask_sqrt_pd(v, 0xFF, v));
#endif
#if defined(__AVX__)
  } else if constexpr (sizeof(D) == 32) {
    return std::bit_cast<D>(_mm256_sqrt_pd(std::bit_cast<__m256d>(x)));
#endif
  } else {
    for (std::size_t l = 0; l < sizeof(D) / sizeof(double); ++l) x[l] = std::sqrt(x[l]);
    return x;
  }
}

// Whether every lane of a comparison's result is true.
template <typename M>
inline bool all(M mask) {
  if constexpr (std::is_same_v<M, bool>) {
    return mask;
  } else {
    for (std::size_t l = 0; l < sizeof(M) / sizeof(std::int64_t); ++l) {
      if (!mask[l]) return false;
    }
    return true;
  }
}
}  // namespace normal_quantile_detail

// Phi^-1(p) for p in [0, 1] (not checked); p = 0 and p = 1 give -inf and +inf. D is double or a
// GCC vector of doubles, I the signed 64-bit integer type (or vector) of the same size.
template <typename D, typename I>
inline D normal_quantile_kernel(D p) {
  namespace d = normal_quantile_detail;
  const D q = p - 0.5;
  const D r_centre = 0.180625 - q * q;
  const auto centre = std::bit_cast<D>(std::bit_cast<I>(q) & 0x7FFFFFFFFFFFFFFF) <= 0.425;
  const D z_centre = q * d::polynomial(r_centre, d::kA) / d::polynomial(r_centre, d::kB);
  if (d::all(centre)) return z_centre;
  // The tails, with tail = min(p, 1 - p) (1 - p is exact for p >= 1/2, Sterbenz), for every lane
  // (the centre's lanes compute a harmless tail too, and are not picked).
  const auto lower = q < 0.0;
  const D tail = lower ? p : 1 - p;
  const auto zero = tail <= 0;
  // log_kernel takes normal numbers: a subnormal tail is scaled by 2^64 first (exactly), and
  // 64 ln 2 taken off its logarithm.
  const auto subnormal = tail < std::numeric_limits<double>::min();
  const D scaled = zero ? D{} + 1.0 : (subnormal ? tail * 0x1p64 : tail);
  const D log_tail = log_kernel<D, I>(scaled) - (subnormal ? D{} + 64 * d::kLn2 : D{});
  const D r = d::sqrt(-log_tail);
  const auto near = r <= 5;
  const auto rational = [&](bool is_near) {
    return is_near ? d::polynomial(r - 1.6, d::kC) / d::polynomial(r - 1.6, d::kD)
                   : d::polynomial(r - 5, d::kE) / d::polynomial(r - 5, d::kF);
  };
  D z_rational;
  if constexpr (d::kScalar<D>) {
    z_rational = rational(near);  // one of the two
  } else {
    z_rational = near ? rational(true) : rational(false);
  }
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const D z_tail = zero ? D{} + kInfinity : z_rational;
  const D z = lower ? -z_tail : z_tail;
  return centre ? z_centre : z;
}

inline double normal_quantile_kernel(double p) {
  return normal_quantile_kernel<double, std::int64_t>(p);
}

}  // namespace carecast::engine
