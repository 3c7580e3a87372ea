#include "engine/quantile_sketch.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace carecast::engine {

static_assert(sizeof(QuantileSketch) == 64, "one sketch, one cache line");

namespace {

// Solves P(t) = c for t in [0, 1], c in [0, 1), P(t) = A t^3 + B t^2 + C t (increasing, concave
// on [0, 1]). Newton's method from t = c: P(t) >= t on [0, 1], so the first step lands left of
// the root and the iterates then climb to it monotonically (quadratically), in 3 to 7 steps.
// The answer is the iterate x_60 (x_0 = c), or the first that repeats its predecessor. In
// double arithmetic the iterates of about one c in seven end alternating between two neighbours
// of the root; once x_(i+1) == x_(i-1) the rest alternate, so x_60 is known at once by its
// parity, without the remaining steps (the answer is the same as stepping on: tested).
double inverse_cubic(double c, double a, double b, double cc) {
  constexpr int kSteps = 60;
  double before = std::numeric_limits<double>::quiet_NaN(), t = c;  // x_(i-1), x_i
  for (int i = 0; i < kSteps; ++i) {
    const double p = ((a * t + b) * t + cc) * t;
    const double slope = (3.0 * a * t + 2.0 * b) * t + cc;
    const double next = t - (p - c) / slope;  // x_(i+1)
    if (next == t) break;
    if (next == before) return std::clamp((kSteps - i - 1) % 2 == 0 ? next : t, 0.0, 1.0);
    before = t;
    t = next;
  }
  return std::clamp(t, 0.0, 1.0);
}

// l^{-1}(y) as a mantissa in [1, 2] and a binary exponent: l(x) = e + P(s - 1), x = s 2^e.
struct Magnitude {
  double mantissa;
  int exponent;
};

Magnitude inverse_mapping(double y, double a, double b, double c) {
  const double e = std::floor(y);
  return {1.0 + inverse_cubic(y - e, a, b, c), static_cast<int>(e)};
}
}  // namespace

double QuantileSketch::bin_lower_bound(std::int32_t index) {
  const Magnitude lower =
      inverse_mapping(static_cast<double>(index) / kMultiplier, kCubicA, kCubicB, kCubicC);
  return std::ldexp(lower.mantissa, lower.exponent);
}

double QuantileSketch::compute_bin_value(std::int32_t index) {
  const Magnitude lower =
      inverse_mapping(static_cast<double>(index) / kMultiplier, kCubicA, kCubicB, kCubicC);
  const Magnitude upper =
      inverse_mapping(static_cast<double>(index + 1) / kMultiplier, kCubicA, kCubicB, kCubicC);
  // Harmonic mean 2 L U / (L + U), computed relative to 2^lower.exponent so that the top bin
  // (whose U may exceed DBL_MAX) does not overflow.
  const double l = lower.mantissa;
  const double u = std::ldexp(upper.mantissa, upper.exponent - lower.exponent);
  return std::ldexp(2.0 * l * u / (l + u), lower.exponent);
}

namespace {
// The bins of magnitudes from about 2^-33 to 2^48.6, which hold every value of a care_wf run: a
// run reads out a few bins of each of up to ~10^5 cells, so their values are computed once, on
// first use (5700 bins, two Newton solves each: well under a millisecond), not twice a cell.
constexpr std::int32_t kTableFirst = -2300, kTableEnd = 3400;
}  // namespace

double QuantileSketch::bin_value(std::int32_t index) {
  static const auto table = [] {
    std::array<double, kTableEnd - kTableFirst> values{};
    for (std::int32_t i = kTableFirst; i < kTableEnd; ++i) {
      values[static_cast<std::size_t>(i - kTableFirst)] = compute_bin_value(i);
    }
    return values;
  }();
  if (index >= kTableFirst && index < kTableEnd) {
    return table[static_cast<std::size_t>(index - kTableFirst)];
  }
  return compute_bin_value(index);
}

void QuantileSketch::throw_not_finite(double x) {
  throw std::invalid_argument(std::string("QuantileSketch::add: value is ") +
                              (std::isnan(x) ? "NaN" : "infinite"));
}

void QuantileSketch::Store::throw_overflow() {
  throw std::overflow_error("QuantileSketch: a bin count would exceed 2^32 - 1");
}

namespace {
// A block for `capacity` counts; block[0] holds the capacity; the counts are left uninitialised.
std::uint32_t* allocate_block(std::uint32_t capacity) {
  auto* block = new std::uint32_t[std::size_t{capacity} + 1];
  block[0] = capacity;
  return block;
}
}  // namespace

QuantileSketch::Store::Store(const Store& other) : offset_(other.offset_), size_(other.size_) {
  if (size_ > 0) {
    block_ = allocate_block(size_);
    std::copy_n(other.block_ + 1, size_, block_ + 1);
  }
}

QuantileSketch::Store::Store(Store&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)),
      offset_(other.offset_),
      size_(std::exchange(other.size_, 0)) {}

QuantileSketch::Store& QuantileSketch::Store::operator=(const Store& other) {
  if (this == &other) return *this;
  if (other.size_ > capacity()) {
    std::uint32_t* block = allocate_block(other.size_);
    delete[] block_;
    block_ = block;
  }
  if (other.size_ > 0) std::copy_n(other.block_ + 1, other.size_, block_ + 1);
  offset_ = other.offset_;
  size_ = other.size_;
  return *this;
}

QuantileSketch::Store& QuantileSketch::Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    delete[] block_;
    block_ = std::exchange(other.block_, nullptr);
    offset_ = other.offset_;
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void QuantileSketch::Store::reshape(std::int32_t lo, std::int32_t hi) {
  const auto new_size = static_cast<std::uint32_t>(hi - lo) + 1;
  const auto shift = size_ > 0 ? static_cast<std::uint32_t>(offset_ - lo) : 0u;
  if (new_size <= capacity()) {  // in place (always so after clear() of a large enough store)
    std::uint32_t* counts = block_ + 1;
    if (shift > 0) std::copy_backward(counts, counts + size_, counts + shift + size_);
    std::fill_n(counts, shift, 0u);
    std::fill(counts + shift + size_, counts + new_size, 0u);
  } else {
    std::uint32_t* block = allocate_block(new_size);
    std::uint32_t* counts = block + 1;
    std::fill_n(counts, new_size, 0u);
    if (size_ > 0) std::copy_n(block_ + 1, size_, counts + shift);
    delete[] block_;
    block_ = block;
  }
  offset_ = lo;
  size_ = new_size;
}

void QuantileSketch::Store::grow_and_add(std::int32_t index, std::int32_t floor) {
  cover(index, index, floor);
  ++block_[1 + static_cast<std::uint32_t>(index - offset_)];
}

void QuantileSketch::Store::collapse_below(std::int32_t floor) {
  std::uint32_t* const counts = block_ + 1;
  const auto below = static_cast<std::uint32_t>(
      std::min<std::int64_t>(size_, std::int64_t{floor} - offset_));
  std::uint32_t sum = 0;  // no overflow: the callers have checked, or the total is below 2^32
  for (std::uint32_t i = 0; i < below; ++i) sum += counts[i];
  if (below == size_) {  // the whole window lies below the floor
    counts[0] = sum;
    size_ = 1;
  } else {
    std::copy(counts + below, counts + size_, counts);
    counts[0] += sum;
    size_ -= below;
  }
  offset_ = floor;
}

std::uint64_t QuantileSketch::Store::count_through(std::int32_t index) const {
  std::uint64_t sum = 0;
  for (std::int32_t i = offset_; i <= index && i - offset_ < static_cast<std::int32_t>(size_); ++i) {
    sum += block_[1 + static_cast<std::uint32_t>(i - offset_)];
  }
  return sum;
}

void QuantileSketch::Store::add_checked(std::int32_t index, std::int32_t floor) {
  const std::int32_t target = std::max(index, floor);
  const std::uint64_t at_floor = count_through(floor);  // bin floor's count once collapsed
  if (at_floor > kMaxBinCount || (target == floor ? at_floor : at(target)) >= kMaxBinCount) {
    throw_overflow();
  }
  add(index, floor);
}

bool QuantileSketch::Store::occupied(std::int32_t& lo, std::int32_t& hi) const {
  const auto counts = bins();
  const auto nonzero = [](std::uint32_t c) { return c != 0; };
  const auto first = std::find_if(counts.begin(), counts.end(), nonzero);
  if (first == counts.end()) return false;
  const auto last = std::find_if(counts.rbegin(), counts.rend(), nonzero);
  lo = offset_ + static_cast<std::int32_t>(first - counts.begin());
  hi = offset_ + static_cast<std::int32_t>(counts.rend() - last) - 1;
  return true;
}

void QuantileSketch::Store::check_merge(const Store& other, std::int32_t floor) const {
  if (count_through(floor) + other.count_through(floor) > kMaxBinCount) throw_overflow();
  std::int32_t lo = 0, hi = -1;
  if (!other.occupied(lo, hi)) return;
  for (std::int32_t i = std::max(lo, floor + 1); i <= hi; ++i) {
    if (other.at(i) > kMaxBinCount - at(i)) throw_overflow();
  }
}

void QuantileSketch::Store::merge(const Store& other, std::int32_t floor) {
  collapse(floor);
  std::int32_t lo = 0, hi = -1;
  if (!other.occupied(lo, hi)) return;
  const std::int32_t first = std::max(lo, floor), last = std::max(hi, floor);
  if (size_ == 0) {
    reshape(first, last);
  } else {
    const std::int32_t end = offset_ + static_cast<std::int32_t>(size_) - 1;
    if (first < offset_ || last > end) reshape(std::min(first, offset_), std::max(last, end));
  }
  for (std::int32_t i = lo; i <= hi; ++i) {
    block_[1 + static_cast<std::uint32_t>(std::max(i, floor) - offset_)] += other.at(i);
  }
}

bool QuantileSketch::Store::same_counts(const Store& b) const {
  const Store& a = *this;
  std::int32_t a_lo = 0, a_hi = -1, b_lo = 0, b_hi = -1;
  const bool a_any = a.occupied(a_lo, a_hi);
  const bool b_any = b.occupied(b_lo, b_hi);
  if (a_any != b_any) return false;
  if (!a_any) return true;
  if (a_lo != b_lo || a_hi != b_hi) return false;
  for (std::int32_t i = a_lo; i <= a_hi; ++i) {
    if (a.at(i) != b.at(i)) return false;
  }
  return true;
}

void QuantileSketch::Store::cover(std::int32_t lo, std::int32_t hi, std::int32_t floor) {
  if (size_ == 0) {
    reshape(std::max(lo - 8, floor), hi + 7);
    return;
  }
  const std::int32_t end = offset_ + static_cast<std::int32_t>(size_) - 1;
  if (lo >= offset_ && hi <= end) return;  // the common case
  const auto extra = 8 + static_cast<std::int32_t>(size_ / 8);
  reshape(lo < offset_ ? std::max(lo - extra, floor) : offset_, hi > end ? hi + extra : end);
}

namespace {
[[noreturn, gnu::noinline]] void throw_first_not_finite(std::span<const double> values) {
  for (const double x : values) {
    if (!(std::fabs(x) <= std::numeric_limits<double>::max())) {
      throw std::invalid_argument(std::string("QuantileSketch::add: value is ") +
                                  (std::isnan(x) ? "NaN" : "infinite"));
    }
  }
  throw std::logic_error("QuantileSketch: no value is NaN or infinite");
}
}  // namespace

void QuantileSketch::add_all(std::span<const double> values) {
  // No bin can fill up while the total stays within kMaxBinCount; past that, check every bin.
  const bool checked = values.size() > kMaxBinCount - std::min<std::uint64_t>(count_, kMaxBinCount);
  if (checked) [[unlikely]] {
    add_all_checked(values);
    return;
  }
  if (values.size() <= kChunk) [[likely]] {
    add_chunk(values.data(), values.size());
    return;
  }
  bool finite = true;
  for (const double x : values) finite &= std::fabs(x) <= std::numeric_limits<double>::max();
  if (!finite) throw_first_not_finite(values);
  for (std::size_t done = 0; done < values.size(); done += kChunk) {
    add_chunk(values.data() + done, std::min(kChunk, values.size() - done));
  }
}

namespace {
// counts[index[j] - lo] += 1 for every j < n (and index[j] -= lo), where n <= 256, every index
// lies in [lo, lo + range), range <= 256, and no bin receives all n values (so each bin receives
// at most 255). Counting the values in turn into one of four local byte histograms keeps values of
// the same bin close together in the block from waiting on each other's increment.
void histogram_add(std::uint32_t* counts, std::int32_t* index, std::size_t n, std::int32_t lo,
                   std::uint32_t range) {
  constexpr std::size_t kStride = 256 + 32;
  alignas(32) std::uint8_t local[4][kStride];
  const std::size_t padded = (std::size_t{range} + 31) & ~std::size_t{31};
  std::size_t j = 0;
  // Zero the histograms; make the indices relative to lo.
#ifdef __AVX2__
  for (std::size_t b = 0; b < padded; b += 32) {
    for (auto& h : local)
      _mm256_store_si256(reinterpret_cast<__m256i*>(h + b), _mm256_setzero_si256());
  }
  const __m256i vlo = _mm256_set1_epi32(lo);
  for (; j + 8 <= n; j += 8) {
    auto* at = reinterpret_cast<__m256i*>(index + j);
    _mm256_store_si256(at, _mm256_sub_epi32(_mm256_load_si256(at), vlo));
  }
#else
  for (auto& h : local) std::memset(h, 0, padded);
#endif
  for (; j < n; ++j) index[j] -= lo;
  const auto rel = [&](std::size_t k) { return static_cast<std::uint32_t>(index[k]); };
  for (j = 0; j + 4 <= n; j += 4) {
    ++local[0][rel(j)];
    ++local[1][rel(j + 1)];
    ++local[2][rel(j + 2)];
    ++local[3][rel(j + 3)];
  }
  for (; j < n; ++j) ++local[0][rel(j)];
  std::uint32_t b = 0;
#ifdef __AVX2__
  for (; b + 16 <= range; b += 16) {
    const auto at = [&](int k) {
      return _mm_load_si128(reinterpret_cast<const __m128i*>(&local[k][b]));
    };
    // At most 255 in a bin: the byte sums are exact.
    const __m128i sum = _mm_add_epi8(_mm_add_epi8(at(0), at(1)), _mm_add_epi8(at(2), at(3)));
    auto* low = reinterpret_cast<__m256i*>(counts + b);
    auto* high = reinterpret_cast<__m256i*>(counts + b + 8);
    _mm256_storeu_si256(low, _mm256_add_epi32(_mm256_loadu_si256(low), _mm256_cvtepu8_epi32(sum)));
    _mm256_storeu_si256(high, _mm256_add_epi32(_mm256_loadu_si256(high),
                                               _mm256_cvtepu8_epi32(_mm_srli_si128(sum, 8))));
  }
#endif
  for (; b < range; ++b) {
    counts[b] += static_cast<std::uint8_t>(local[0][b] + local[1][b] + local[2][b] + local[3][b]);
  }
}
}  // namespace

// Two passes over at most kChunk values. The first (vectorised with AVX2 where available)
// takes min and max and writes each value's bin index to a local array, with the smallest and
// largest: bin_index(|x|), the same operations in the same order, so the same index bit for bit
// (kept biased by kIndexBias, i.e. before its last subtraction). It also finds out whether every
// value is finite; nothing is changed until that is known. If every value goes to the same store
// (min >= kZeroThreshold, or max <= -kZeroThreshold: the common case), that store grows once to
// cover the range of indices and the second pass only counts, with no bounds check and no branch.
// Blocks of mixed signs or with zero-bin values take add_mixed().
void QuantileSketch::add_chunk(const double* values, std::size_t n) {
  static_assert(kChunk <= 256, "histogram_add counts in bytes");
  if (n == 0) return;
  positive_.prefetch();                    // its lines arrive while the first pass runs
  alignas(32) std::int32_t index[kChunk];  // bin_index(|x|) + kIndexBias (any for the zero bin)
  std::int32_t index_lo = std::numeric_limits<std::int32_t>::max();
  std::int32_t index_hi = std::numeric_limits<std::int32_t>::min();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  constexpr double kLargest = std::numeric_limits<double>::max();
  bool finite = true;
  std::size_t i = 0;
#ifdef __AVX2__
  if (n >= 8) {
    const __m256d sign = _mm256_set1_pd(-0.0);
    const __m256i mantissa = _mm256_set1_epi64x(static_cast<long long>(kMantissaMask));
    const __m256i one_bits = _mm256_set1_epi64x(static_cast<long long>(kOneBits));
    // (bits >> 52) | bits of 2^52 is the double 2^52 + biased exponent; subtracting
    // 2^52 + 1023 leaves the exponent exactly, as static_cast<double>(exponent) does.
    const __m256i two52_bits = _mm256_set1_epi64x(0x4330000000000000LL);
    const __m256d two52_plus_bias = _mm256_set1_pd(4503599627370496.0 + 1023.0);
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d cubic_a = _mm256_set1_pd(kCubicA);
    const __m256d cubic_b = _mm256_set1_pd(kCubicB);
    const __m256d cubic_c = _mm256_set1_pd(kCubicC);
    const __m256d multiplier = _mm256_set1_pd(kMultiplier);
    const __m256d index_bias = _mm256_set1_pd(static_cast<double>(kIndexBias));
    __m256d vlo = _mm256_set1_pd(lo), vhi = _mm256_set1_pd(hi);
    __m256i vindex_lo = _mm256_set1_epi32(index_lo), vindex_hi = _mm256_set1_epi32(index_hi);
    __m256d vexponent_hi = _mm256_set1_pd(-1023.0);
    // Four values: min and max, the largest exponent, and the biased bin indices, which it
    // returns.
    const auto four = [&](const double* at) {
      const __m256d x = _mm256_loadu_pd(at);
      vlo = _mm256_min_pd(x, vlo);  // x < lo ? x : lo (a NaN leaves lo, but see below)
      vhi = _mm256_max_pd(x, vhi);  // x > hi ? x : hi
      // bin_index(|x|), operation for operation.
      const __m256i bits = _mm256_castpd_si256(_mm256_andnot_pd(sign, x));
      const __m256d exponent = _mm256_sub_pd(
          _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(bits, 52), two52_bits)),
          two52_plus_bias);
      vexponent_hi = _mm256_max_pd(exponent, vexponent_hi);
      const __m256d t = _mm256_sub_pd(
          _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, mantissa), one_bits)), one);
      __m256d p = _mm256_add_pd(_mm256_mul_pd(cubic_a, t), cubic_b);
      p = _mm256_add_pd(_mm256_mul_pd(p, t), cubic_c);
      p = _mm256_mul_pd(p, t);
      const __m256d l = _mm256_add_pd(exponent, p);
      return _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_mul_pd(multiplier, l), index_bias));
    };
    for (; i + 8 <= n; i += 8) {
      const __m256i biased = _mm256_set_m128i(four(values + i + 4), four(values + i));
      vindex_lo = _mm256_min_epi32(vindex_lo, biased);
      vindex_hi = _mm256_max_epi32(vindex_hi, biased);
      _mm256_store_si256(reinterpret_cast<__m256i*>(index + i), biased);
    }
    alignas(32) double doubles[4];
    alignas(32) std::int32_t ints[8];
    _mm256_store_pd(doubles, vlo);
    for (const double v : doubles) lo = v < lo ? v : lo;
    _mm256_store_pd(doubles, vhi);
    for (const double v : doubles) hi = v > hi ? v : hi;
    _mm256_store_si256(reinterpret_cast<__m256i*>(ints), vindex_lo);
    for (const std::int32_t v : ints) index_lo = std::min(index_lo, v);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ints), vindex_hi);
    for (const std::int32_t v : ints) index_hi = std::max(index_hi, v);
    // NaN and +-inf, and only they, have the exponent bits of 2^1024.
    _mm256_store_pd(doubles, vexponent_hi);
    for (const double v : doubles) finite &= v <= 1023.0;
  }
#endif
  for (; i < n; ++i) {
    const double x = values[i];
    const double magnitude = std::fabs(x);
    const bool ok = magnitude <= kLargest;
    finite &= ok;
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
    const std::int32_t biased = bin_index(ok ? magnitude : 0.0) + kIndexBias;
    index[i] = biased;
    index_lo = std::min(index_lo, biased);
    index_hi = std::max(index_hi, biased);
  }
  if (!finite) throw_first_not_finite(std::span<const double>(values, n));
  lo += 0.0;  // -0.0 becomes +0.0, as in add() (a zero may have come as either)
  hi += 0.0;

  std::size_t zeros = 0;
  const std::int32_t positive_floor_now = positive_floor(std::max(hi, max_));
  const std::int32_t negative_floor_now = negative_floor(std::min(lo, min_));
  if (lo >= kZeroThreshold || hi <= -kZeroThreshold) {  // every value in the same store
    const bool positive = lo >= kZeroThreshold;
    Store& store = positive ? positive_ : negative_;
    const std::int32_t floor = positive ? positive_floor_now : negative_floor_now;
    store.collapse(floor);
    if (index_lo - kIndexBias < floor) [[unlikely]] {  // some values go to the floor's bin
      const std::int32_t biased_floor = floor + kIndexBias;
      for (std::size_t j = 0; j < n; ++j) index[j] = std::max(index[j], biased_floor);
      index_lo = biased_floor;
      index_hi = std::max(index_hi, biased_floor);
    }
    store.cover(index_lo - kIndexBias, index_hi - kIndexBias, floor);
    std::uint32_t* const counts = store.counts() + (index_lo - kIndexBias - store.offset());
    const auto range = static_cast<std::uint32_t>(index_hi - index_lo) + 1;
    if (range == 1) {  // a constant block, or nearly: one bin
      counts[0] += static_cast<std::uint32_t>(n);
    } else if (range <= 256) {
      histogram_add(counts, index, n, index_lo, range);
    } else {
      for (std::size_t j = 0; j < n; ++j) ++counts[index[j] - index_lo];
    }
  } else {
    zeros = add_mixed(values, n, index, positive_floor_now, negative_floor_now);
  }
  count_ += n;
  zero_count_ += zeros;
  min_ = lo < min_ ? lo : min_;
  max_ = hi > max_ ? hi : max_;
}

// The second pass of add_chunk() when the values do not all go to the same store; returns the
// number of values in the zero bin.
std::size_t QuantileSketch::add_mixed(const double* values, std::size_t n,
                                      const std::int32_t* index,
                                      std::int32_t positive_floor, std::int32_t negative_floor) {
  alignas(32) std::int32_t kind[kChunk];  // 0: zero bin, 1: positive store, 2: negative store
  constexpr std::int32_t kNone = std::numeric_limits<std::int32_t>::max();
  std::int32_t pos_lo = kNone, pos_hi = -kNone, neg_lo = kNone, neg_hi = -kNone;
  std::size_t zeros = 0;
  std::size_t j = 0;
#ifdef __AVX2__
  {
    const __m256d threshold = _mm256_set1_pd(kZeroThreshold);
    const __m256d minus_threshold = _mm256_set1_pd(-kZeroThreshold);
    const __m256i none = _mm256_set1_epi32(kNone), minus_none = _mm256_set1_epi32(-kNone);
    const __m256i kind_positive = _mm256_set1_epi32(1), kind_negative = _mm256_set1_epi32(2);
    __m256i vpos_lo = none, vpos_hi = minus_none, vneg_lo = none, vneg_hi = minus_none;
    __m256i nonzero_lanes = _mm256_setzero_si256();
    // The 64-bit lane masks of two __m256d (values j..j+3 and j+4..j+7) as eight 32-bit ones.
    const auto narrow = [](__m256d low, __m256d high) {
      const __m256 packed =
          _mm256_shuffle_ps(_mm256_castpd_ps(low), _mm256_castpd_ps(high), _MM_SHUFFLE(2, 0, 2, 0));
      return _mm256_permute4x64_epi64(_mm256_castps_si256(packed), _MM_SHUFFLE(3, 1, 2, 0));
    };
    for (; j + 8 <= n; j += 8) {
      const __m256d low = _mm256_loadu_pd(values + j), high = _mm256_loadu_pd(values + j + 4);
      const __m256i positive = narrow(_mm256_cmp_pd(low, threshold, _CMP_GE_OQ),
                                      _mm256_cmp_pd(high, threshold, _CMP_GE_OQ));
      const __m256i negative = narrow(_mm256_cmp_pd(low, minus_threshold, _CMP_LE_OQ),
                                      _mm256_cmp_pd(high, minus_threshold, _CMP_LE_OQ));
      const __m256i biased = _mm256_load_si256(reinterpret_cast<const __m256i*>(index + j));
      vpos_lo = _mm256_min_epi32(vpos_lo, _mm256_blendv_epi8(none, biased, positive));
      vpos_hi = _mm256_max_epi32(vpos_hi, _mm256_blendv_epi8(minus_none, biased, positive));
      vneg_lo = _mm256_min_epi32(vneg_lo, _mm256_blendv_epi8(none, biased, negative));
      vneg_hi = _mm256_max_epi32(vneg_hi, _mm256_blendv_epi8(minus_none, biased, negative));
      _mm256_store_si256(reinterpret_cast<__m256i*>(kind + j),
                         _mm256_or_si256(_mm256_and_si256(positive, kind_positive),
                                         _mm256_and_si256(negative, kind_negative)));
      nonzero_lanes = _mm256_sub_epi32(nonzero_lanes, _mm256_or_si256(positive, negative));
    }
    alignas(32) std::int32_t ints[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(ints), vpos_lo);
    for (const std::int32_t v : ints) pos_lo = std::min(pos_lo, v);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ints), vpos_hi);
    for (const std::int32_t v : ints) pos_hi = std::max(pos_hi, v);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ints), vneg_lo);
    for (const std::int32_t v : ints) neg_lo = std::min(neg_lo, v);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ints), vneg_hi);
    for (const std::int32_t v : ints) neg_hi = std::max(neg_hi, v);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ints), nonzero_lanes);
    std::size_t nonzero = 0;
    for (const std::int32_t v : ints) nonzero += static_cast<std::size_t>(v);
    zeros = j - nonzero;
  }
#endif
  for (; j < n; ++j) {
    const bool positive = values[j] >= kZeroThreshold;
    const bool negative = values[j] <= -kZeroThreshold;
    const std::int32_t biased = index[j];
    pos_lo = std::min(pos_lo, positive ? biased : kNone);
    pos_hi = std::max(pos_hi, positive ? biased : -kNone);
    neg_lo = std::min(neg_lo, negative ? biased : kNone);
    neg_hi = std::max(neg_hi, negative ? biased : -kNone);
    kind[j] = static_cast<std::int32_t>(positive) | static_cast<std::int32_t>(negative) << 1;
    zeros += !(positive || negative);
  }
  // Indices below a store's floor count in the floor's bin.
  const auto cover = [](Store& store, std::int32_t biased_lo, std::int32_t biased_hi,
                        std::int32_t floor) {
    store.collapse(floor);
    store.cover(std::max(biased_lo - kIndexBias, floor), std::max(biased_hi - kIndexBias, floor),
                floor);
  };
  if (pos_lo != kNone) cover(positive_, pos_lo, pos_hi, positive_floor);
  if (neg_lo != kNone) cover(negative_, neg_lo, neg_hi, negative_floor);
  if (zeros == n) return zeros;
  const std::int32_t biased_floors[3] = {0, positive_floor + kIndexBias,
                                         negative_floor + kIndexBias};
  // A zero-bin value counts into a scratch array at its own position (no dependency chain).
  std::uint32_t sink[kChunk];
  std::fill_n(sink, n, 0u);
  std::uint32_t* const counts[3] = {sink, positive_.counts(), negative_.counts()};
  const std::int32_t offsets[3] = {0, positive_.offset() + kIndexBias,
                                   negative_.offset() + kIndexBias};
  for (std::size_t m = 0; m < n; ++m) {
    const std::int32_t k = kind[m];
    const std::int32_t at = k == 0 ? static_cast<std::int32_t>(m)
                                   : std::max(index[m], biased_floors[k]) - offsets[k];
    ++counts[k][at];
  }
  return zeros;
}

void QuantileSketch::add_all_checked(std::span<const double> values) {
  for (const double x : values) {
    if (!(std::fabs(x) <= std::numeric_limits<double>::max())) throw_not_finite(x);
  }
  std::size_t done = 0;
  double lo = min_, hi = max_;  // of the values added so far, for the floors
  try {
    for (; done < values.size(); ++done) {
      const double x = values[done];
      const double magnitude = std::fabs(x);
      if (magnitude >= kZeroThreshold) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
        if (x > 0.0) {
          positive_.add_checked(bin_index(magnitude), positive_floor(hi));
        } else {
          negative_.add_checked(bin_index(magnitude), negative_floor(lo));
        }
      }
    }
  } catch (...) {  // a bin overflowed: account for the values whose bins were incremented
    account(values.first(done));
    throw;
  }
  account(values);
}

void QuantileSketch::account(std::span<const double> values) {
  double lo = min_, hi = max_;
  std::uint64_t zeros = 0;
  for (const double x : values) {
    const double y = x + 0.0;  // -0.0 becomes +0.0, as in add()
    lo = y < lo ? y : lo;
    hi = y > hi ? y : hi;
    zeros += std::fabs(x) < kZeroThreshold;
  }
  count_ += values.size();
  zero_count_ += zeros;
  min_ = lo;
  max_ = hi;
}

void QuantileSketch::merge(const QuantileSketch& other) {
  if (other.count_ == 0) return;
  if (&other == this) {
    const QuantileSketch copy = other;  // NOLINT(performance-unnecessary-copy-initialization)
    merge(copy);
    return;
  }
  const double lo = std::min(min_, other.min_), hi = std::max(max_, other.max_);
  if (count_ + other.count_ > kMaxBinCount) {  // only then can a bin overflow
    positive_.check_merge(other.positive_, positive_floor(hi));
    negative_.check_merge(other.negative_, negative_floor(lo));
  }
  positive_.merge(other.positive_, positive_floor(hi));
  negative_.merge(other.negative_, negative_floor(lo));
  zero_count_ += other.zero_count_;
  count_ += other.count_;
  min_ = lo;
  max_ = hi;
}

double QuantileSketch::absolute_error_bound() const {
  double bound = kZeroThreshold;
  const auto consider = [&](const Store& store, std::int32_t floor) {
    std::int32_t lo = 0, hi = -1;
    if (store.occupied(lo, hi) && lo <= floor) bound = std::max(bound, bin_lower_bound(floor + 1));
  };
  if (count_ > 0) {
    consider(positive_, positive_floor(max_));
    consider(negative_, negative_floor(min_));
  }
  return bound;
}

double QuantileSketch::quantile(double q) const {
  double out = 0.0;
  quantiles(std::span<const double>(&q, 1), std::span<double>(&out, 1));
  return out;
}

void QuantileSketch::quantiles(std::span<const double> qs, std::span<double> out) const {
  if (out.size() != qs.size()) {
    throw std::invalid_argument("QuantileSketch::quantiles: qs and out differ in size");
  }
  for (const double q : qs) {
    if (!(q >= 0.0 && q <= 1.0)) {
      throw std::invalid_argument("QuantileSketch::quantile: q must lie in [0, 1], got " +
                                  std::to_string(q));
    }
  }
  if (count_ == 0) {
    std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
    return;
  }
  if (!std::is_sorted(qs.begin(), qs.end())) {
    for (std::size_t j = 0; j < qs.size(); ++j) quantiles(qs.subspan(j, 1), out.subspan(j, 1));
    return;
  }

  const double last_rank = static_cast<double>(count_ - 1);
  const auto rank = [&](double q) {
    return std::min(static_cast<std::uint64_t>(q * last_rank), count_ - 1);  // floor, q >= 0
  };
  std::size_t j = 0;
  std::uint64_t seen = 0;  // values in the bins walked so far
  // Answers every pending q whose rank lies among the values seen so far. Rank 0 and rank n - 1
  // are answered by the exact min and max.
  const auto settle = [&](auto&& value) {
    double v = 0.0;
    bool have_v = false;
    for (; j < qs.size(); ++j) {
      const std::uint64_t k = rank(qs[j]);
      if (k >= seen) break;
      if (k == 0) {
        out[j] = min_;
      } else if (k == count_ - 1) {
        out[j] = max_;
      } else {
        if (!have_v) {
          v = std::clamp(value(), min_, max_);
          have_v = true;
        }
        out[j] = v;
      }
    }
  };

  // Ascending values: negative bins from the largest magnitude down, zero, positive bins up.
  const auto negative = negative_.bins();
  for (std::size_t r = negative.size(); r-- > 0 && j < qs.size();) {
    if (negative[r] == 0) continue;
    seen += negative[r];
    settle([&] { return -bin_value(negative_.offset() + static_cast<std::int32_t>(r)); });
  }
  seen += zero_count_;
  settle([] { return 0.0; });
  const auto positive = positive_.bins();
  for (std::size_t r = 0; r < positive.size() && j < qs.size(); ++r) {
    if (positive[r] == 0) continue;
    seen += positive[r];
    settle([&] { return bin_value(positive_.offset() + static_cast<std::int32_t>(r)); });
  }
}

void QuantileSketch::clear() {
  positive_.clear();
  negative_.clear();
  zero_count_ = 0;
  count_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
}

bool operator==(const QuantileSketch& a, const QuantileSketch& b) {
  return a.count_ == b.count_ && a.zero_count_ == b.zero_count_ && a.min_ == b.min_ &&
         a.max_ == b.max_ && a.positive_.same_counts(b.positive_) &&
         a.negative_.same_counts(b.negative_);
}

}  // namespace carecast::engine
