// The lane samplers: the scalar samplers' arithmetic, operation for operation, on 8 lanes at once.
//
// Every lane's Philox blocks come from one vectorised Philox (engine/philox_lanes.h), and its
// uniforms from their words as RandomStream::uniform() makes them. The binomial then runs, on all
// lanes together with masks, what the scalar sampler (engine/samplers.cpp) runs on one: the setup
// of make_binomial_setup, the inversion search, and BTRS attempt by attempt (the one-uniform path,
// the second uniform, the product of pmf ratios of step 3.1), each a fixed sequence of IEEE
// operations (sqrt, division and floor are correctly rounded in the vector units as in the scalar
// ones; the build sets -ffp-contract=off so that neither side fuses a multiply-add); (1 - p')^n
// for n >= 64 is engine/math_kernels.h's exp_estrin_kernel on the lanes, the same kernel the
// scalar setup uses.
// One thing stays scalar: a BTRS lane whose k lies more than 15 from the mode (Stirling's series,
// logarithms) finishes in the scalar code from its resumed stream.
// tests/engine/lane_samplers_test.cpp checks lane against scalar, bit for bit.
#include "engine/lane_samplers.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "engine/lane_math.h"
#include "engine/math_kernels.h"
#include "engine/philox_lanes.h"

#if defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace carecast::engine {

static_assert(kLanes == kPhiloxLanes);

namespace {

// 8 lanes of doubles (D8), of 64-bit masks (I8: -1 true, 0 false, as comparisons give) and of
// 64-bit words (U8), with element-wise arithmetic, comparisons and select(mask, a, b). With
// AVX-512 they are GCC/Clang vector extensions of 64 bytes, one register each; otherwise pairs of
// 32-byte vectors (one AVX register each), since gcc lowers a 64-byte vector without AVX-512
// largely element by element.
#if defined(__AVX512F__)
using D8 = double __attribute__((vector_size(64)));
using I8 = std::int64_t __attribute__((vector_size(64)));
using U8 = std::uint64_t __attribute__((vector_size(64)));

template <typename V>
inline V select(I8 mask, V a, V b) {
  return mask ? a : b;
}
template <typename V, typename T>
inline void set_lane(V& v, std::size_t l, T x) {
  v[l] = x;
}
#else
using D4 = double __attribute__((vector_size(32)));
using I4 = std::int64_t __attribute__((vector_size(32)));
using U4 = std::uint64_t __attribute__((vector_size(32)));

// Lanes 0-3 in `lo`, 4-7 in `hi`.
template <typename V>
struct Pair {
  V lo, hi;
  auto operator[](std::size_t l) const { return l < 4 ? lo[l] : hi[l - 4]; }
};

template <typename S>
concept Scalar = std::is_arithmetic_v<S>;

#define CARECAST_PAIR_OPERATOR(op)                                                            \
  template <typename V>                                                                       \
  inline auto operator op(Pair<V> a, Pair<V> b)->Pair<decltype(a.lo op b.lo)> {              \
    return {a.lo op b.lo, a.hi op b.hi};                                                      \
  }                                                                                           \
  template <typename V, Scalar S>                                                             \
  inline auto operator op(Pair<V> a, S b)->Pair<decltype(a.lo op b)> {                       \
    return {a.lo op b, a.hi op b};                                                            \
  }                                                                                           \
  template <typename V, Scalar S>                                                             \
  inline auto operator op(S a, Pair<V> b)->Pair<decltype(a op b.lo)> {                       \
    return {a op b.lo, a op b.hi};                                                            \
  }
CARECAST_PAIR_OPERATOR(+)
CARECAST_PAIR_OPERATOR(-)
CARECAST_PAIR_OPERATOR(*)
CARECAST_PAIR_OPERATOR(/)
CARECAST_PAIR_OPERATOR(&)
CARECAST_PAIR_OPERATOR(|)
CARECAST_PAIR_OPERATOR(<<)
CARECAST_PAIR_OPERATOR(>>)
CARECAST_PAIR_OPERATOR(<)
CARECAST_PAIR_OPERATOR(<=)
CARECAST_PAIR_OPERATOR(>)
CARECAST_PAIR_OPERATOR(>=)
CARECAST_PAIR_OPERATOR(==)
CARECAST_PAIR_OPERATOR(!=)
#undef CARECAST_PAIR_OPERATOR

template <typename V>
inline Pair<V> operator~(Pair<V> a) {
  return {~a.lo, ~a.hi};
}
template <typename V>
inline Pair<V> operator-(Pair<V> a) {
  return {-a.lo, -a.hi};
}
template <typename V>
inline Pair<V>& operator&=(Pair<V>& a, Pair<V> b) {
  a = a & b;
  return a;
}

using D8 = Pair<D4>;
using I8 = Pair<I4>;
using U8 = Pair<U4>;

template <typename V>
inline Pair<V> select(I8 mask, Pair<V> a, Pair<V> b) {
  return {mask.lo ? a.lo : b.lo, mask.hi ? a.hi : b.hi};
}
template <typename V, typename T>
inline void set_lane(Pair<V>& v, std::size_t l, T x) {
  if (l < 4) {
    v.lo[l] = x;
  } else {
    v.hi[l - 4] = x;
  }
}
#endif
static_assert(sizeof(D8) == 64 && sizeof(I8) == 64 && sizeof(U8) == 64);

// The scalar sampler's choices (engine/samplers.h).
constexpr double kBtrsThreshold = kBinomialBtrsThreshold;
constexpr double kInversionCapD = static_cast<double>(kBinomialInversionCap);

// BTRS attempts made on the lanes together; a lane still drawing after them (probability below
// 2^-16) finishes in the scalar code.
constexpr int kVectorAttempts = 16;

using binomial_detail::kReciprocals;  // the scalar inversion's table

// kCounts[x] = x as a double, for every count the inversion search visits: broadcast from
// memory into the lanes, the counts cost the search no additions.
constexpr auto kCounts = [] {
  std::array<double, kReciprocals.size()> table{};
  for (std::size_t x = 0; x < table.size(); ++x) table[x] = static_cast<double>(x);
  return table;
}();

inline D8 load(const Lanes<double>& x) {
  D8 v;
  std::memcpy(&v, x.data(), sizeof v);
  return v;
}

inline void store(Lanes<double>& x, D8 v) { std::memcpy(x.data(), &v, sizeof v); }

// Element-wise helpers without a vector-extension spelling. The halves of a D8 are taken by
// bit_cast, not through memory: a 64-byte store read back as two 32-byte loads would stall on
// store forwarding.
#if defined(__AVX512F__)
inline bool any(I8 mask) {
  const auto m = std::bit_cast<__m512i>(mask);
  return _mm512_test_epi64_mask(m, m) != 0;
}
inline D8 floor8(D8 x) {
  // The masked forms with every lane set: the unmasked ones pass _mm512_undefined_pd() along,
  // which gcc 12 reports as used uninitialized.
  const auto v = std::bit_cast<__m512d>(x);
  return std::bit_cast<D8>(
      _mm512_mask_roundscale_pd(v, 0xFF, v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
}
inline D8 sqrt8(D8 x) {
  const auto v = std::bit_cast<__m512d>(x);
  return std::bit_cast<D8>(_mm512_mask_sqrt_pd(v, 0xFF, v));
}
#elif defined(__AVX__)
inline bool any(I8 mask) {
  const __m256i both = std::bit_cast<__m256i>(mask.lo | mask.hi);
  return !_mm256_testz_si256(both, both);
}
inline D8 floor8(D8 x) {
  return {std::bit_cast<D4>(_mm256_floor_pd(std::bit_cast<__m256d>(x.lo))),
          std::bit_cast<D4>(_mm256_floor_pd(std::bit_cast<__m256d>(x.hi)))};
}
inline D8 sqrt8(D8 x) {
  return {std::bit_cast<D4>(_mm256_sqrt_pd(std::bit_cast<__m256d>(x.lo))),
          std::bit_cast<D4>(_mm256_sqrt_pd(std::bit_cast<__m256d>(x.hi)))};
}
#else
inline bool any(I8 mask) {
  std::int64_t acc = 0;
  for (std::size_t l = 0; l < kLanes; ++l) acc |= mask[l];
  return acc != 0;
}
inline D8 floor8(D8 x) {
  for (std::size_t l = 0; l < kLanes; ++l) set_lane(x, l, std::floor(x[l]));
  return x;
}
inline D8 sqrt8(D8 x) {
  for (std::size_t l = 0; l < kLanes; ++l) set_lane(x, l, std::sqrt(x[l]));
  return x;
}
#endif

inline bool all(I8 mask) { return !any(~mask); }

// The largest and the smallest of the lanes (none NaN), halves against halves: three steps on
// the critical path before the inversion search, not a chain of seven.
#if defined(__AVX512F__)
template <typename Pick>
inline double reduce_lanes(D8 x, Pick pick) {
  const auto m4 = pick(__builtin_shufflevector(x, x, 0, 1, 2, 3),
                       __builtin_shufflevector(x, x, 4, 5, 6, 7));
  const auto m2 = pick(__builtin_shufflevector(m4, m4, 0, 1), __builtin_shufflevector(m4, m4, 2, 3));
  return pick(m2, __builtin_shufflevector(m2, m2, 1, 0))[0];
}
inline double max_lane(D8 x) {
  return reduce_lanes(x, [](auto a, auto b) { return a > b ? a : b; });
}
inline double min_lane(D8 x) {
  return reduce_lanes(x, [](auto a, auto b) { return a < b ? a : b; });
}
#else
inline double max_lane(D8 x) {
  double m = x[0];
  for (std::size_t l = 1; l < kLanes; ++l) m = std::max(m, x[l]);
  return m;
}
inline double min_lane(D8 x) {
  double m = x[0];
  for (std::size_t l = 1; l < kLanes; ++l) m = std::min(m, x[l]);
  return m;
}
#endif

// Lane masks as the inversion search carries them from round to round (M8): with AVX-512 a mask
// register, bit l for lane l, which its comparisons write and its blends read directly; a mask
// carried as an I8 would be turned from and back into a mask register at every use. Without
// AVX-512 an M8 is an I8.
#if defined(__AVX512F__)
using M8 = __mmask8;

inline M8 to_mask(I8 mask) {
  const auto m = std::bit_cast<__m512i>(mask);
  return _mm512_test_epi64_mask(m, m);
}
inline bool any(M8 mask) { return !_kortestz_mask8_u8(mask, mask); }
inline M8 both(M8 a, M8 b) { return _kand_mask8(a, b); }
inline M8 greater(D8 a, D8 b) {
  return _mm512_cmp_pd_mask(std::bit_cast<__m512d>(a), std::bit_cast<__m512d>(b), _CMP_GT_OQ);
}
inline D8 select(M8 mask, D8 a, D8 b) {
  return std::bit_cast<D8>(
      _mm512_mask_blend_pd(mask, std::bit_cast<__m512d>(b), std::bit_cast<__m512d>(a)));
}
#else
using M8 = I8;

inline M8 to_mask(I8 mask) { return mask; }
inline M8 both(M8 a, M8 b) { return a & b; }
inline M8 greater(D8 a, D8 b) { return a > b; }
#endif

inline D8 abs8(D8 x) {
  return std::bit_cast<D8>(std::bit_cast<U8>(x) & (U8{} + 0x7FFFFFFFFFFFFFFFull));
}

// std::copysign(0.5, x).
inline D8 copysign_half(D8 x) {
  return std::bit_cast<D8>((std::bit_cast<U8>(x) & (U8{} + 0x8000000000000000ull)) |
                           std::bit_cast<U8>(D8{} + 0.5));
}

// x in every lane (written out, not as D8{} + x: that addition, which turns -0 into +0, would be
// made for every x not known at compile time).
#if defined(__AVX512F__)
inline D8 broadcast(double x) { return D8{x, x, x, x, x, x, x, x}; }
#else
inline D8 broadcast(double x) { return {D4{x, x, x, x}, D4{x, x, x, x}}; }
#endif

// Philox block number `index` of every lane's stream (counter {index, month, site,
// trajectory[l]}), word w of lane l in the low half of words[w][l].
struct LaneBlock {
  std::array<U8, 4> words;

  std::array<std::uint32_t, 4> lane(std::size_t l) const {
    return {static_cast<std::uint32_t>(words[0][l]), static_cast<std::uint32_t>(words[1][l]),
            static_cast<std::uint32_t>(words[2][l]), static_cast<std::uint32_t>(words[3][l])};
  }
};

// Inlined by force: since Philox's first rounds run partly in scalar registers gcc 12 leaves it
// out of line, and the call (its 256-byte block returned through memory, the search waiting on
// it) made CareWf/baseline/trajectory about 3% slower (fastest of 60, 1.513 -> 1.465 ms).
[[gnu::always_inline]] inline LaneBlock lane_block(const LaneAddresses& address,
                                                   std::uint32_t index) {
  const PhiloxWideBlock block = philox4x32_lanes_wide(
      index, address.month, address.site, address.trajectory,
      static_cast<std::uint32_t>(address.seed), static_cast<std::uint32_t>(address.seed >> 32));
  return {{std::bit_cast<U8>(block[0]), std::bit_cast<U8>(block[1]), std::bit_cast<U8>(block[2]),
           std::bit_cast<U8>(block[3])}};
}

// RandomStream::to_unit of two words (high, low) of every lane: k = the top 52 of their 64 bits,
// as a double by the exponent trick (2^52 + k has k for mantissa), then
// (2^52 + k) - (2^52 - 1/2) = k + 1/2 exactly, times 2^-52: the same double as
// (double(k) + 0.5) * 2^-52.
inline D8 uniforms(U8 high, U8 low) {
  const U8 bits = (((high << 32) | (low & 0xFFFFFFFFull)) >> 12) | 0x4330000000000000ull;
  return (std::bit_cast<D8>(bits) - (0x1.0p52 - 0.5)) * 0x1.0p-52;
}

// The first uniform of an attempt: words 0 and 1.
inline D8 first_uniforms(const LaneBlock& block) {
  return uniforms(block.words[0], block.words[1]);
}

StreamAddress lane_address(const LaneAddresses& address, std::size_t lane) {
  return {address.seed, address.trajectory[lane], address.site, address.month};
}

[[noreturn]] void throw_bad_count(double n) {
  throw std::invalid_argument("sample_binomial_lanes: n must be a whole number in [0, 2^53], "
                              "but is " + std::to_string(n));
}

// What n == 0 lanes read in place of their probability (which they may leave null).
const BinomialProbability kUnused{};

}  // namespace

void sample_standard_normal_lanes(const LaneAddresses& address, Lanes<double>& out) {
  const LaneBlock block = lane_block(address, 0);
  Lanes<double> u;
  store(u, first_uniforms(block));
  // sample_normal(stream, 0, 1) = 0 + 1 * ppnd16(u), u in (0, 1).
  normal_quantile_lanes(u);
  for (std::size_t l = 0; l < kLanes; ++l) out[l] = 0.0 + 1.0 * u[l];
}

BinomialProbability BinomialProbabilityLanes::lane(std::size_t l) const {
  BinomialProbability probability;
  probability.p = p[l];
  probability.mirrored = p[l] > 0.5 && p[l] < 1;
  probability.p_small = p_small[l];
  probability.q = q[l];
  probability.r = r[l];
  probability.log_q = log_q[l];
  for (std::size_t i = 0; i < q_powers.size(); ++i) probability.q_powers[i] = q_powers[i][l];
  return probability;
}

void BinomialProbabilityLanes::set(std::size_t l, const BinomialProbability& probability) {
  p[l] = probability.p;
  p_small[l] = probability.p_small;
  q[l] = probability.q;
  r[l] = probability.r;
  log_q[l] = probability.log_q;
  for (std::size_t i = 0; i < q_powers.size(); ++i) q_powers[i][l] = probability.q_powers[i];
}

// binomial_detail::probability_with_log() on the lanes: the same operations, constant lanes
// (p = 0 or 1) left at 0 as the scalar leaves them. Kept as vector code rather than calling the
// scalar function per lane, which measured 10% slower on BinomialMix/engine_lanes;
// LaneSamplers.ProbabilitiesEqualScalar holds the two to the same bits.
void make_binomial_probability_lanes(const Lanes<double>& p, BinomialProbabilityLanes& out) {
  const D8 pv = load(p);
  if (!all((pv >= 0.0) & (pv <= 1.0))) [[unlikely]] {
    for (const double x : p) (void)make_binomial_probability(x);  // throws its message
  }
  const I8 constant = (pv == 0.0) | (pv == 1.0);
  const I8 mirrored = pv > 0.5;
  const D8 zero{};
  const D8 p_small = select(constant, zero, select(mirrored, 1.0 - pv, pv));
  const D8 q = select(constant, zero, select(mirrored, pv, 1.0 - pv));
  store(out.p, pv);
  store(out.p_small, p_small);
  store(out.q, q);
  store(out.r, select(constant, zero, p_small / q));
  Lanes<double> log_q;
  store(log_q, -p_small);
  log1p_lanes(log_q);
  store(out.log_q, select(constant, zero, load(log_q)));
  D8 power = q;
  for (std::size_t i = 0; i < out.q_powers.size(); ++i) {
    if (i > 0) power = power * power;
    store(out.q_powers[i], power);
  }
}

// The scalar probabilities of every lane gathered field by field (n = 0 lanes may pass null).
void sample_binomial_lanes(const LaneAddresses& address, const Lanes<double>& n,
                           const Lanes<const BinomialProbability*>& probability,
                           Lanes<double>& out) {
  BinomialProbabilityLanes lanes;
  for (std::size_t l = 0; l < kLanes; ++l) {
    lanes.set(l, n[l] == 0 || probability[l] == nullptr ? kUnused : *probability[l]);
  }
  sample_binomial_lanes(address, n, lanes, out);
}

void sample_binomial_lanes(const LaneAddresses& address, const Lanes<double>& n,
                           const BinomialProbabilityLanes& probability, Lanes<double>& out) {
  const D8 nd = load(n);
  if (!all((nd >= 0) & (nd <= 0x1.0p53) & (floor8(nd) == nd))) [[unlikely]] {
    for (const double count : n) {
      if (!(count >= 0 && count <= 0x1.0p53) || std::floor(count) != count) {
        throw_bad_count(count);
      }
    }
  }

  const D8 p = load(probability.p);

  // make_setup: constants, then inversion below n p' = kBinomialBtrsThreshold and BTRS from there.
  const I8 constant = (nd == 0) | (p == 0) | (p == 1);
  D8 x = select(p == 1, nd, D8{});  // the constants' values; the other lanes are set below
  if (all(constant)) {
    store(out, x);
    return;
  }
  const D8 p_small = load(probability.p_small);
  const D8 r = load(probability.r);
  const D8 np = nd * p_small;
  const I8 inversion = ~constant & (np < kBtrsThreshold);
  const I8 btrs = ~constant & ~(np < kBtrsThreshold);
  const D8 nr = (nd + 1) * r;

  LaneBlock block = lane_block(address, 0);
  const D8 u = first_uniforms(block);

  if (any(inversion)) {
    // pmf(0) = (1 - p')^n: for n < 64 the product of the q^(2^i) of n's set bits, in increasing
    // i as power_of_complement() multiplies them (2^52 + n has n in its low mantissa bits).
    // Left out where no inversion lane has n < 64 (most calls of the default model).
    const I8 by_exp = inversion & (nd >= 64);
    D8 pmf = broadcast(1.0);
    if (!all(by_exp | ~inversion)) {
      const U8 bits = std::bit_cast<U8>(nd + 0x1.0p52);
      for (std::size_t i = 0; i < 6; ++i) {
        const D8 power = load(probability.q_powers[i]);
        pmf = select((bits & (U8{} + (1ull << i))) != 0, pmf * power, pmf);
      }
    }
    // For n >= 64 exp(n log q), by the exp_estrin_kernel() of power_of_complement().
    if (any(by_exp)) {
      const D8 exponent = select(by_exp, nd * load(probability.log_q), D8{});
      pmf = select(by_exp, exp_estrin_kernel<D8, I8>(exponent), pmf);
    }
    // The sequential search, two counts per round as sample_by_inversion() makes them, on every
    // lane until each has stopped: lane l stops at the first count at which the scalar loop's
    // condition (left > pmf && x < cap) fails. Before that its arithmetic is the scalar loop's;
    // after it, it goes on unused. Every lane in round k is at count k - 1, so 1 / k and
    // 1 / (k + 1), and the counts k and k + 1 themselves, are table entries shared by all of them.
    const D8 cap = select(nd < kInversionCapD, nd, broadcast(kInversionCapD));
    D8 left = u;
    D8 count{};
    M8 running = to_mask(inversion & (left > pmf) & (count < cap));
    // Round k: counts k and k + 1, tested against the caps unless no lane's cap lies among them.
    const auto round = [&](std::size_t k, bool test_cap) {
      const D8 k1 = broadcast(kCounts[k]), k2 = broadcast(kCounts[k + 1]);
      const D8 ratio_1 = nr * kReciprocals[k] - r;
      const D8 pmf_1 = pmf * ratio_1;
      count = select(running, k1, count);
      M8 going = greater(left - pmf, pmf_1);
      if (test_cap) going = both(going, greater(cap, k1));
      running = both(running, going);
      const D8 ratio_2 = nr * kReciprocals[k + 1] - r;
      left = left - (pmf + pmf_1);
      pmf = pmf * (ratio_1 * ratio_2);
      count = select(running, k2, count);
      going = greater(left, pmf);
      if (test_cap) going = both(going, greater(cap, k2));
      running = both(running, going);
    };
    // The rounds, in two loops. A loop that stops when no lane is running ends on a branch that
    // waits for the last of the search's chain of operations and is mispredicted at almost every
    // call, so that nothing after it overlaps that chain. So the first loop makes, without
    // asking, the rounds that the lanes are likely to need: through a count above mu + sqrt(mu)
    // + 1 (a standard deviation above the mean) for mu the largest n p' of the inversion lanes, a
    // number known before the search starts, so that the loop's exit is resolved early. Rounds
    // after a lane has stopped change nothing in it. The second loop finishes what runs beyond
    // (measured: through a count 0 or 3 standard deviations above the mean was slower). The
    // tables cover every round: a lane runs only below its cap of at most kBinomialInversionCap,
    // and the first loop ends by the round of counts kBinomialInversionCap - 1 and
    // kBinomialInversionCap.
    const double mu = max_lane(select(inversion, np, D8{}));
    const std::size_t likely_rounds =
        std::min<std::size_t>(static_cast<std::size_t>(0.5 * (mu + std::sqrt(mu)) + 1.5),
                              kBinomialInversionCap / 2);
    // Where every inversion lane's cap lies beyond the first loop's counts (the common case), its
    // rounds leave out the test against the cap (the compiler makes the loop twice, with and
    // without).
    const bool capped = min_lane(select(inversion, cap, broadcast(kInversionCapD))) <=
                        static_cast<double>(2 * likely_rounds);
    std::size_t k = 1;
    for (; k < 2 * likely_rounds; k += 2) round(k, capped);
    for (; any(running); k += 2) round(k, true);
    x = select(inversion, count, x);
  }

  // BinomialProbability::mirrored, which make_binomial_probability sets to p > 1/2 (the
  // constant lanes, p in {0, 1}, are left alone).
  const I8 mirrored = p > 0.5;
  if (any(btrs)) {
    // init_btrs.
    const D8 q = load(probability.q);
    const D8 spq = sqrt8(nd * p_small * q);
    const D8 b = 1.15 + 2.53 * spq;
    const D8 a = -0.0873 + 0.0248 * b + 0.01 * p_small;
    const D8 c = nd * p_small + 0.5;
    const D8 alpha = (2.83 + 5.1 / b) * spq;
    const D8 v_r = 0.92 - 4.2 / b;
    const D8 u_rv_r = 0.86 * v_r;
    const D8 m = floor8((nd + 1) * p_small);

    // The scalar BTRS (finish_btrs) for lane l from the first uniform v of attempt `attempt`,
    // which took words 0 and 1 of the lane's block number `attempt`.
    const auto finish_in_scalar = [&](std::size_t l, const LaneBlock& words, double v,
                                      int attempt) {
      BinomialSetup setup;
      setup.method = BinomialSetup::Method::kBtrs;
      setup.mirrored = mirrored[l] != 0;
      setup.n = static_cast<std::int64_t>(n[l]);
      setup.nd = n[l];
      setup.r = r[l];
      setup.nr = nr[l];
      setup.a = a[l];
      setup.b = b[l];
      setup.c = c[l];
      setup.alpha = alpha[l];
      setup.v_r = v_r[l];
      setup.u_rv_r = u_rv_r[l];
      setup.m = m[l];
      auto stream = RandomStream::resume(lane_address(address, l),
                                         static_cast<std::uint32_t>(attempt), words.lane(l), 2);
      return static_cast<double>(finish_btrs(stream, setup, v, attempt));
    };

    // sample_btrs, attempt by attempt on every lane still drawing. Each attempt takes one
    // Philox block: words 0 and 1 make V, and, off the one-uniform path, words 2 and 3 the second
    // uniform. A lane whose k lies more than 15 from the mode needs Stirling's series and
    // finishes in the scalar code; so does every lane after kVectorAttempts attempts.
    I8 pending = btrs;
    D8 v = u;
    for (int attempt = 0;; ++attempt) {
      if (attempt > 0) {
        block = lane_block(address, static_cast<std::uint32_t>(attempt));
        v = first_uniforms(block);
      }
      // (U, V) in the box |U| <= 0.43, V <= v_r: accepted outright, U = V / v_r - 0.43.
      const D8 box = v / v_r - 0.43;
      const D8 k = floor8((2.0 * a / (0.5 - abs8(box)) + b) * box + c);
      const I8 fast = pending & (v <= u_rv_r);
      x = select(fast, k, x);
      pending &= ~fast;
      if (!any(pending)) break;
      if (attempt == kVectorAttempts) {
        for (std::size_t l = 0; l < kLanes; ++l) {
          if (pending[l]) set_lane(x, l, finish_in_scalar(l, block, v[l], attempt));
        }
        break;
      }

      const D8 second = uniforms(block.words[2], block.words[3]);
      const I8 outside = v >= v_r;  // U afresh and V kept, else U from V and V afresh
      D8 sliver = v / v_r - 0.93;
      sliver = copysign_half(sliver) - sliver;
      const D8 uu = select(outside, second - 0.5, sliver);
      D8 vv = select(outside, v, second * v_r);
      const D8 us = 0.5 - abs8(uu);
      const D8 k2 = floor8((2.0 * a / us + b) * uu + c);
      const I8 in_range = pending & ~((k2 < 0) | (k2 > nd));  // rejected otherwise
      const D8 us2 = us * us;
      vv = vv * (alpha * us2 / (a + b * us2));
      const D8 d = k2 - m;
      const I8 near = in_range & (d >= -15.0) & (d <= 15.0);
      const I8 far = in_range & ~near;
      if (any(far)) {
        for (std::size_t l = 0; l < kLanes; ++l) {
          if (far[l]) set_lane(x, l, finish_in_scalar(l, block, v[l], attempt));
        }
        pending &= ~far;
      }
      if (any(near)) {
        // BTRS step 3.1: pmf(i) / pmf(i - 1) = nr / i - r for i from m + 1 to k (into f) or
        // from k + 1 to m (into v), in increasing i as the scalar loops multiply them.
        const I8 up = near & (d > 0);
        const I8 down = near & (d < 0);
        const D8 from = select(up, m, k2);
        const D8 steps = abs8(d);
        D8 f = broadcast(1.0);
        I8 going = (up | down) & (steps >= 1.0);
        for (double j = 1; any(going); ++j) {
          const D8 ratio = nr / (from + j) - r;
          f = select(going & up, f * ratio, f);
          vv = select(going & down, vv * ratio, vv);
          going &= steps >= j + 1;
        }
        const I8 accepted = near & (vv <= f);
        x = select(accepted, k2, x);
        pending &= ~accepted;
      }
      if (!any(pending)) break;
    }
  }

  // Mirrored lanes drew failures.
  x = select(~constant & mirrored, nd - x, x);
  store(out, x);
}

}  // namespace carecast::engine
