// exp (two ways), log and log1p as fixed sequences of IEEE additions, multiplications, divisions
// and integer bit operations, written once for scalars and for vectors of lanes (GCC vector
// extensions). A scalar and a lane evaluation of the same argument give the same double bit for
// bit (the build sets -ffp-contract=off), so code that steps trajectories in lanes can use them
// and still give each trajectory exactly what it gets alone; and the lanes need no libm call.
// Accuracy is about an ulp (tests/engine/math_kernels_test.cpp bounds each against libm).
//
// exp_kernel: k = round(x / ln 2) by the 1.5 * 2^52 shifter, r = x - k ln 2 in two parts (Cody
// and Waite; k ln2_hi is exact because ln2_hi has 32 significant bits and |k| < 2^11), so
// |r| <= ln(2)/2; exp(r) by its Taylor polynomial of degree 13, whose remainder is below
// 0.3466^14 / 14! < 5e-18; then times 2^k built in the exponent bits.
//
// log_kernel: x = m 2^k with m in [sqrt(2)/2, sqrt(2)) split off by integer operations on the
// bits; with f = m - 1 and s = f / (2 + f) (|s| <= 0.1716), log m = 2 atanh(s) =
// f - f^2/2 + s (f^2/2 + R), R = 2 s^2/3 + 2 s^4/5 + ... + 2 s^22/23 (remainder below 1e-20), as
// fdlibm arranges it; plus k ln 2 in two parts.
//
// log1p_kernel: Goldberg's log(u) * x / (u - 1) with u = 1 + x, which cancels the rounding of u.
#pragma once

#include <bit>
#include <cstdint>

namespace carecast::engine {

namespace math_kernels_detail {
inline constexpr double kLog2e = 1.4426950408889634074;
inline constexpr double kLn2Hi = 6.93147180369123816490e-01;  // fdlibm's ln2_hi
inline constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - ln2_hi
inline constexpr double kShifter = 0x1.8p52;

struct Coefficients {
  double value[14];
};
// 1 / j! for j = 0..13.
inline constexpr Coefficients kInverseFactorials = [] {
  Coefficients table{};
  double factorial = 1;
  for (int j = 0; j < 14; ++j) {
    if (j > 0) factorial *= j;
    table.value[j] = 1.0 / factorial;
  }
  return table;
}();
// 2 / (2j + 1) for j = 0..11.
inline constexpr Coefficients kTwiceInverseOdd = [] {
  Coefficients table{};
  for (int j = 0; j < 12; ++j) table.value[j] = 2.0 / (2 * j + 1);
  return table;
}();

// c[0] + c[1] x + ... + c[10] x^10 by Estrin's scheme: pairs, then pairs of pairs, so that the
// dependency chain is 4 multiply-adds deep rather than 10 (Horner).
template <typename D>
inline D estrin11(D x, const double* c) {
  const D x2 = x * x, x4 = x2 * x2, x8 = x4 * x4;
  const D a0 = c[0] + c[1] * x, a1 = c[2] + c[3] * x, a2 = c[4] + c[5] * x;
  const D a3 = c[6] + c[7] * x, a4 = c[8] + c[9] * x;
  const D b0 = a0 + a1 * x2, b1 = a2 + a3 * x2;
  return (b0 + b1 * x4) + (a4 + c[10] * x2) * x8;
}

// Bits of sqrt(2)/2 rounded down: m's split point.
inline constexpr std::int64_t kSqrtHalfBits = 0x3FE6A09E667F3BCDll;
inline constexpr std::int64_t kExponentMask = static_cast<std::int64_t>(0xFFF0000000000000ull);
inline constexpr std::int64_t kShifterBits = 0x4338000000000000ll;  // bits of 1.5 * 2^52
}  // namespace math_kernels_detail

namespace math_kernels_detail {
// exp(x) = 2^k exp(r), the part both exp kernels share: k = round(x / ln 2) by the shifter,
// r = x - k ln 2 in two parts, `polynomial`(r) = exp(r) for |r| <= ln(2)/2, then times 2^k.
template <typename D, typename I, typename Polynomial>
inline D exp_reduced(D x, Polynomial polynomial) {
  const D shifter = D{} + kShifter;
  const D t = x * kLog2e + shifter;  // 1.5 * 2^52 + round(x / ln 2)
  const D k = t - shifter;
  const D r = (x - k * kLn2Hi) - k * kLn2Lo;
  const D p = polynomial(r);
  const I k_bits = std::bit_cast<I>(t) - std::bit_cast<I>(shifter);  // k
  const D scale = std::bit_cast<D>((k_bits + 1023) << 52);
  return p * scale;
}
}  // namespace math_kernels_detail

// exp(x) for x in [-700, 700] (not checked). D is double or a GCC vector of doubles, I the
// signed 64-bit integer type (or vector) of the same size.
template <typename D, typename I>
inline D exp_kernel(D x) {
  return math_kernels_detail::exp_reduced<D, I>(x, [](D r) {
    const double* c = math_kernels_detail::kInverseFactorials.value;
    // Horner's rule (not Estrin's, which is shorter but loses monotonicity by an ulp where k
    // changes: tests/engine/math_kernels_test.cpp).
    D p = r * c[13] + c[12];
    for (int j = 11; j >= 0; --j) p = p * r + c[j];
    return p;
  });
}

// exp(x) as exp_kernel but with the polynomial by Estrin's scheme: the same reduction and degree,
// a dependency chain of 5 multiply-adds after r rather than 13, and so about half the latency,
// for a caller that waits on the result (the binomial's pmf(0) = (1 - p)^n, on which the
// inversion search waits). Accurate to about an ulp like exp_kernel (tests/engine/
// math_kernels_test.cpp), but not monotone to the ulp where k changes, which exp_kernel is.
template <typename D, typename I>
inline D exp_estrin_kernel(D x) {
  return math_kernels_detail::exp_reduced<D, I>(x, [](D r) {
    const double* c = math_kernels_detail::kInverseFactorials.value;
    const D r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const D a0 = c[0] + c[1] * r, a1 = c[2] + c[3] * r, a2 = c[4] + c[5] * r;
    const D a3 = c[6] + c[7] * r, a4 = c[8] + c[9] * r, a5 = c[10] + c[11] * r;
    const D a6 = c[12] + c[13] * r;
    const D b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2;
    return (b0 + b1 * r4) + (b2 + a6 * r4) * r8;
  });
}

// log(x) for positive, finite, normal x (not checked); D and I as for exp_kernel.
template <typename D, typename I>
inline D log_kernel(D x) {
  namespace d = math_kernels_detail;
  const I bits = std::bit_cast<I>(x);
  const I offset = bits - d::kSqrtHalfBits;
  const I k = offset >> 52;  // arithmetic shift: the exponent of x relative to m's range
  const D m = std::bit_cast<D>(bits - (offset & d::kExponentMask));  // in [sqrt(2)/2, sqrt(2))
  const D kd = std::bit_cast<D>(k + d::kShifterBits) - d::kShifter;  // k as a double, exactly
  const D f = m - 1.0;  // exact (Sterbenz)
  const D s = f / (f + 2.0);
  const D z = s * s;
  // log m = f - hfsq + s (hfsq + R), R = 2z/3 + 2z^2/5 + ... (fdlibm's arrangement: f is exact
  // and the rest a small correction, so the result is within about an ulp).
  const D r = z * d::estrin11(z, d::kTwiceInverseOdd.value + 1);
  const D hfsq = 0.5 * f * f;
  return kd * d::kLn2Hi - ((hfsq - (s * (hfsq + r) + kd * d::kLn2Lo)) - f);
}

// log(1 + x) for x > -1 with 1 + x finite (not checked); D and I as for exp_kernel. Where 1 + x
// rounds to 1 the result is x (the quotient, 0 / 0 there, is not used).
template <typename D, typename I>
inline D log1p_kernel(D x) {
  const D u = 1.0 + x;
  const D y = log_kernel<D, I>(u) * x / (u - 1.0);
  return u == 1.0 ? x : y;
}

inline double exp_kernel(double x) { return exp_kernel<double, std::int64_t>(x); }
inline double exp_estrin_kernel(double x) { return exp_estrin_kernel<double, std::int64_t>(x); }
inline double log_kernel(double x) { return log_kernel<double, std::int64_t>(x); }
inline double log1p_kernel(double x) { return log1p_kernel<double, std::int64_t>(x); }

}  // namespace carecast::engine
