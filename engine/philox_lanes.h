// Philox4x32-10 for 8 counters at once, under one key.
//
// Lane by lane the result is exactly r123::Philox4x32()(counter[l], key): the same rounds on 8
// counters side by side. Each counter word of the 8 lanes is held in 64-bit slots, one lane per
// slot with the word in its low half, so that one 32 x 32 -> 64-bit multiply per slot
// (_mm512_mul_epu32 with AVX-512, two _mm256_mul_epu32 with AVX2) gives both halves of Philox's
// products: the low half stays in place and the high half is one shift away. The bits above a
// slot's low half are left as they fall (the multiplies read only the low halves). Without AVX2, a
// loop over Random123. The lane samplers (engine/lane_samplers.h) draw the blocks of the streams
// of 8 trajectories with it.
#pragma once

#include <Random123/philox.h>

#include <array>
#include <cstddef>
#include <cstdint>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace carecast::engine {

inline constexpr std::size_t kPhiloxLanes = 8;

// Word w of the counter or output block of every lane: words[w][lane].
using PhiloxLaneWords = std::array<std::array<std::uint32_t, kPhiloxLanes>, 4>;

// One word of every lane in the low half of a 64-bit slot, in registers; convert to 8 uint64_t
// (or a vector of them) with std::bit_cast. The high halves are unspecified.
#if defined(__AVX512F__)
struct PhiloxWideWord {
  __m512i lanes;
};
#elif defined(__AVX2__)
struct PhiloxWideWord {
  __m256i low, high;  // lanes 0-3 and 4-7
};
#else
struct PhiloxWideWord {
  std::array<std::uint64_t, kPhiloxLanes> lanes;
};
#endif
static_assert(sizeof(PhiloxWideWord) == 8 * kPhiloxLanes);

using PhiloxWideBlock = std::array<PhiloxWideWord, 4>;

namespace philox_detail {

#if defined(__AVX512F__)
// The merge-masked forms with every lane set: gcc 12 reports the _mm512_undefined_*() that the
// unmasked ones pass along as used uninitialized.
inline PhiloxWideWord widen(const std::uint32_t* lanes) {
  const __m512i zero = _mm512_setzero_si512();
  return {_mm512_mask_cvtepu32_epi64(
      zero, 0xFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes)))};
}
inline PhiloxWideWord splat(std::uint32_t x) {
  return {_mm512_set1_epi64(static_cast<long long>(x))};
}
inline PhiloxWideWord operator^(PhiloxWideWord a, PhiloxWideWord b) {
  return {_mm512_xor_si512(a.lanes, b.lanes)};
}
// The low halves added modulo 2^32 (and the high halves apart from them).
inline PhiloxWideWord add32(PhiloxWideWord a, PhiloxWideWord b) {
  return {_mm512_add_epi32(a.lanes, b.lanes)};
}
// (hi, lo) of m * x, lane by lane.
inline void mulhilo(PhiloxWideWord m, PhiloxWideWord x, PhiloxWideWord& hi, PhiloxWideWord& lo) {
  lo.lanes = _mm512_mask_mul_epu32(x.lanes, 0xFF, x.lanes, m.lanes);
  hi.lanes = _mm512_mask_srli_epi64(lo.lanes, 0xFF, lo.lanes, 32);
}
inline void narrow(PhiloxWideWord w, std::uint32_t* lanes) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes),
                      _mm512_mask_cvtepi64_epi32(_mm256_setzero_si256(), 0xFF, w.lanes));
}
#elif defined(__AVX2__)
inline PhiloxWideWord widen(const std::uint32_t* lanes) {
  return {_mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lanes))),
          _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lanes + 4)))};
}
inline PhiloxWideWord splat(std::uint32_t x) {
  const __m256i v = _mm256_set1_epi64x(static_cast<long long>(x));
  return {v, v};
}
inline PhiloxWideWord operator^(PhiloxWideWord a, PhiloxWideWord b) {
  return {_mm256_xor_si256(a.low, b.low), _mm256_xor_si256(a.high, b.high)};
}
inline PhiloxWideWord add32(PhiloxWideWord a, PhiloxWideWord b) {
  return {_mm256_add_epi32(a.low, b.low), _mm256_add_epi32(a.high, b.high)};
}
inline void mulhilo(PhiloxWideWord m, PhiloxWideWord x, PhiloxWideWord& hi, PhiloxWideWord& lo) {
  lo.low = _mm256_mul_epu32(x.low, m.low);
  lo.high = _mm256_mul_epu32(x.high, m.high);
  hi.low = _mm256_srli_epi64(lo.low, 32);
  hi.high = _mm256_srli_epi64(lo.high, 32);
}
inline void narrow(PhiloxWideWord w, std::uint32_t* lanes) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  const __m256i low = _mm256_permutevar8x32_epi32(w.low, even);
  const __m256i high = _mm256_permutevar8x32_epi32(w.high, even);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), _mm256_blend_epi32(low, high, 0xF0));
}
#endif

}  // namespace philox_detail

// Block of the counters {c0, c1, c2, c3[l]} under the key {key0, key1} for every lane l, in the
// wide form: the lane samplers' case, where lanes differ in their trajectory only.
inline PhiloxWideBlock philox4x32_lanes_wide(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                             const std::array<std::uint32_t, kPhiloxLanes>& c3,
                                             std::uint32_t key0, std::uint32_t key1);

// out[w][l] = word w of r123::Philox4x32()({counter[0][l], ..., counter[3][l]}, {key0, key1}).
inline void philox4x32_lanes(const PhiloxLaneWords& counter, std::uint32_t key0,
                             std::uint32_t key1, PhiloxLaneWords& out);

#if defined(__AVX2__) || defined(__AVX512F__)
namespace philox_detail {

// Rounds `first` to 10 (counted from 0) of Philox4x32 on c, {key0, key1} being the key of round
// `first`, bumped between rounds. The key is bumped in the vector registers, so that it is
// moved into them once, not once a round.
inline PhiloxWideBlock rounds(PhiloxWideBlock c, std::uint32_t key0, std::uint32_t key1,
                              int first = 0) {
  const PhiloxWideWord m0 = splat(PHILOX_M4x32_0);
  const PhiloxWideWord m1 = splat(PHILOX_M4x32_1);
  const PhiloxWideWord bump0 = splat(PHILOX_W32_0);
  const PhiloxWideWord bump1 = splat(PHILOX_W32_1);
  PhiloxWideWord k0 = splat(key0);
  PhiloxWideWord k1 = splat(key1);
  for (int round = first; round < 10; ++round) {
    if (round > first) {
      k0 = add32(k0, bump0);
      k1 = add32(k1, bump1);
    }
    PhiloxWideWord hi0, lo0, hi1, lo1;
    mulhilo(m0, c[0], hi0, lo0);
    mulhilo(m1, c[2], hi1, lo1);
    // The key is xored into the word that does not wait for the multiply.
    c = {hi1 ^ (c[1] ^ k0), lo1, hi0 ^ (c[3] ^ k1), lo0};
  }
  return c;
}

// (hi, lo) of m * x for one 32-bit x.
inline void mulhilo32(std::uint32_t m, std::uint32_t x, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t product = std::uint64_t{m} * x;
  hi = static_cast<std::uint32_t>(product >> 32);
  lo = static_cast<std::uint32_t>(product);
}

}  // namespace philox_detail

// Only word 3 of the counter differs between the lanes, so the first rounds are partly the same
// in every lane: words that depend on c0, c1 and c2 alone are computed once, in scalar registers,
// and the vector registers take only what depends on c3. Round by round (Philox's round maps
// {x0, x1, x2, x3} to {hi(M1 x2) ^ x1 ^ k0, lo(M1 x2), hi(M0 x0) ^ x3 ^ k1, lo(M0 x0)}), with
// s a word the same in every lane and v one that is not:
//   round 1: {s, s, s, v} -> {s, s, v, s}
//   round 2: {s, s, v, s} -> {v, v, s, s}
//   round 3: {v, v, s, s} -> {v, s, v, v}
//   round 4: {v, s, v, v} -> every word v.
// That leaves 4 of the 20 multiplies and shifts on the lanes undone, and the round keys of those
// rounds are folded into the scalar words.
inline PhiloxWideBlock philox4x32_lanes_wide(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                             const std::array<std::uint32_t, kPhiloxLanes>& c3,
                                             std::uint32_t key0, std::uint32_t key1) {
  using namespace philox_detail;
  std::uint32_t k0 = key0, k1 = key1;
  const auto bump = [&] {
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  };
  std::uint32_t hi0, lo0, hi1, lo1;
  // Round 1: {s, s, s, v}.
  mulhilo32(PHILOX_M4x32_0, c0, hi0, lo0);
  mulhilo32(PHILOX_M4x32_1, c2, hi1, lo1);
  const std::uint32_t a0 = hi1 ^ c1 ^ k0, a1 = lo1, a3 = lo0;
  const PhiloxWideWord a2 = widen(c3.data()) ^ splat(hi0 ^ k1);
  // Round 2: {s, s, v, s}.
  bump();
  PhiloxWideWord vhi1, vlo1;
  mulhilo32(PHILOX_M4x32_0, a0, hi0, lo0);
  mulhilo(splat(PHILOX_M4x32_1), a2, vhi1, vlo1);
  const PhiloxWideWord b0 = vhi1 ^ splat(a1 ^ k0), b1 = vlo1;
  const std::uint32_t b2 = hi0 ^ a3 ^ k1, b3 = lo0;
  // Round 3: {v, v, s, s}.
  bump();
  PhiloxWideWord vhi0, vlo0;
  mulhilo(splat(PHILOX_M4x32_0), b0, vhi0, vlo0);
  mulhilo32(PHILOX_M4x32_1, b2, hi1, lo1);
  const PhiloxWideBlock c = {b1 ^ splat(hi1 ^ k0), splat(lo1), vhi0 ^ splat(b3 ^ k1), vlo0};
  // Rounds 4 to 10 on every word.
  bump();
  return rounds(c, k0, k1, 3);
}

inline void philox4x32_lanes(const PhiloxLaneWords& counter, std::uint32_t key0,
                             std::uint32_t key1, PhiloxLaneWords& out) {
  using namespace philox_detail;
  const PhiloxWideBlock block =
      rounds({widen(counter[0].data()), widen(counter[1].data()), widen(counter[2].data()),
              widen(counter[3].data())},
             key0, key1);
  for (std::size_t w = 0; w < 4; ++w) narrow(block[w], out[w].data());
}
#else
inline void philox4x32_lanes(const PhiloxLaneWords& counter, std::uint32_t key0,
                             std::uint32_t key1, PhiloxLaneWords& out) {
  const r123::Philox4x32::key_type key = {{key0, key1}};
  for (std::size_t l = 0; l < kPhiloxLanes; ++l) {
    const r123::Philox4x32::ctr_type c = {
        {counter[0][l], counter[1][l], counter[2][l], counter[3][l]}};
    const auto block = r123::Philox4x32()(c, key);
    for (std::size_t w = 0; w < 4; ++w) out[w][l] = block.v[w];
  }
}

inline PhiloxWideBlock philox4x32_lanes_wide(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                             const std::array<std::uint32_t, kPhiloxLanes>& c3,
                                             std::uint32_t key0, std::uint32_t key1) {
  const r123::Philox4x32::key_type key = {{key0, key1}};
  PhiloxWideBlock out;
  for (std::size_t l = 0; l < kPhiloxLanes; ++l) {
    const auto block = r123::Philox4x32()({{c0, c1, c2, c3[l]}}, key);
    for (std::size_t w = 0; w < 4; ++w) out[w].lanes[l] = block.v[w];
  }
  return out;
}
#endif

}  // namespace carecast::engine
