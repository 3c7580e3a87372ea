// Philox4x32-10 for 8 counters at once, under one key.
//
// philox4x32_lanes() returns, lane by lane, exactly r123::Philox4x32()(counter[l], key): the same
// rounds on 8 counters side by side. With AVX2 the 8 lanes are one 256-bit vector per counter word
// (the 32 x 32 -> 64-bit products of the even and the odd words by _mm256_mul_epu32); without it,
// a loop over Random123. The lane samplers (engine/lane_samplers.h) draw the first block of the
// streams of 8 trajectories with it.
#pragma once

#include <Random123/philox.h>

#include <array>
#include <cstddef>
#include <cstdint>

#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace carecast::engine {

inline constexpr std::size_t kPhiloxLanes = 8;

// Word w of the counter or output block of every lane: words[w][lane].
using PhiloxLaneWords = std::array<std::array<std::uint32_t, kPhiloxLanes>, 4>;

#ifdef __AVX2__
namespace philox_detail {

// (hi, lo) = the 64-bit products m * x of the 8 words of x.
inline void mulhilo(__m256i m, __m256i x, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(x, m);                      // words 0, 2, 4, 6
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);  // words 1, 3, 5, 7
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

}  // namespace philox_detail
#endif

// out[w][l] = word w of r123::Philox4x32()({counter[0][l], ..., counter[3][l]}, {key0, key1}).
inline void philox4x32_lanes(const PhiloxLaneWords& counter, std::uint32_t key0,
                             std::uint32_t key1, PhiloxLaneWords& out) {
#ifdef __AVX2__
  using philox_detail::mulhilo;
  const auto load = [](const std::array<std::uint32_t, kPhiloxLanes>& w) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.data()));
  };
  __m256i c0 = load(counter[0]), c1 = load(counter[1]), c2 = load(counter[2]),
          c3 = load(counter[3]);
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(PHILOX_M4x32_0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(PHILOX_M4x32_1));
  std::uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += PHILOX_W32_0;
      k1 += PHILOX_W32_1;
    }
    __m256i hi0, lo0, hi1, lo1;
    mulhilo(m0, c0, hi0, lo0);
    mulhilo(m1, c2, hi1, lo1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
    c1 = lo1;
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
    c3 = lo0;
  }
  const auto store = [](std::array<std::uint32_t, kPhiloxLanes>& w, __m256i v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.data()), v);
  };
  store(out[0], c0);
  store(out[1], c1);
  store(out[2], c2);
  store(out[3], c3);
#else
  const r123::Philox4x32::key_type key = {{key0, key1}};
  for (std::size_t l = 0; l < kPhiloxLanes; ++l) {
    const r123::Philox4x32::ctr_type c = {{counter[0][l], counter[1][l], counter[2][l],
                                           counter[3][l]}};
    const auto block = r123::Philox4x32()(c, key);
    for (std::size_t w = 0; w < 4; ++w) out[w][l] = block.v[w];
  }
#endif
}

}  // namespace carecast::engine
