// exp(x) for x in [-700, 0] as a fixed sequence of additions and multiplications, written once
// for scalars and for vectors of lanes: the scalar samplers and the lane samplers evaluate
// (1 - p')^n = exp(n log(1 - p')) with it and so agree bit for bit, and the lanes need no libm
// call. (Their error differs from std::exp's by about an ulp; which of the two is used changes a
// binomial variate only if its uniform falls within ~1e-16 of a CDF step.)
//
// Method: k = round(x / ln 2) by the 1.5 * 2^52 shifter, r = x - k ln 2 in two parts (Cody and
// Waite; k ln2_hi is exact because ln2_hi has 32 significant bits and |k| < 2^11), so
// |r| <= ln(2)/2; exp(r) by its Taylor polynomial of degree 13, whose remainder is below
// 0.3466^14 / 14! < 5e-18; then times 2^k built in the exponent bits (k >= -1010: no
// subnormals). Accurate to about 1 ulp (tests/engine/exp_kernel_test.cpp bounds it).
#pragma once

#include <bit>
#include <cstdint>

namespace carecast::engine {

namespace exp_kernel_detail {
inline constexpr double kLog2e = 1.4426950408889634074;
inline constexpr double kLn2Hi = 6.93147180369123816490e-01;  // fdlibm's ln2_hi
inline constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - ln2_hi
inline constexpr double kShifter = 0x1.8p52;
// 1 / j! for j = 0..13.
inline constexpr auto kInverseFactorials = [] {
  struct Table { double value[14]; } table{};
  double factorial = 1;
  for (int j = 0; j < 14; ++j) {
    if (j > 0) factorial *= j;
    table.value[j] = 1.0 / factorial;
  }
  return table;
}();
}  // namespace exp_kernel_detail

// D is double or a GCC vector of doubles, U the unsigned 64-bit integer type (or vector) of the
// same size. x must lie in [-700, 0] (not checked).
template <typename D, typename U>
inline D exp_nonpositive(D x) {
  namespace d = exp_kernel_detail;
  const D shifter = D{} + d::kShifter;
  const D t = x * d::kLog2e + shifter;  // 1.5 * 2^52 + round(x / ln 2)
  const D k = t - shifter;
  const D r = (x - k * d::kLn2Hi) - k * d::kLn2Lo;
  D p = r * d::kInverseFactorials.value[13] + d::kInverseFactorials.value[12];
  for (int j = 11; j >= 0; --j) p = p * r + d::kInverseFactorials.value[j];
  const U k_bits = std::bit_cast<U>(t) - std::bit_cast<U>(shifter);  // k, two's complement
  const D scale = std::bit_cast<D>((k_bits + 1023) << 52);
  return p * scale;
}

inline double exp_nonpositive(double x) { return exp_nonpositive<double, std::uint64_t>(x); }

}  // namespace carecast::engine
