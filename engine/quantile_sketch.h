// A mergeable quantile sketch with a relative-accuracy guarantee, in the style of DDSketch
// (Masson, Rim & Lee, "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error
// Guarantees", VLDB 2019). One sketch summarises the values of one (scenario, variable, month,
// region) cell over all trajectories of a run.
//
// Guarantee. Let n = count() values have been added (directly or through merges) and let x_(k)
// be the k-th smallest of them (0-based). For q in [0, 1], quantile(q) returns x~ for the rank
//     k = floor(q * (n - 1))            (evaluated in double arithmetic, exactly as written)
// with
//     |x~ - x_(k)| <= kRelativeAccuracy * |x_(k)|          when |x_(k)| >= T,
//     |x~ - x_(k)| <  T                                     otherwise,
// where T = absolute_error_bound() >= kZeroThreshold is small next to the largest magnitude M the
// sketch has seen: T <= max(kZeroThreshold, M * gamma^(-0.96 (kMaxBins - 2))) = max(1e-9,
// 6.4e-4 M) (see "Memory"). min() and max() are exact; quantile(q) returns min() for k = 0 and
// max() for k = n - 1 and is otherwise clamped into [min(), max()], so a single value or a
// constant stream is returned exactly. This holds for any number of values and any sequence of
// add() and merge().
//
// Bins. A value x != 0 with |x| >= kZeroThreshold goes to the positive or the negative store (by
// sign), into the bin i = floor(kMultiplier * l(|x|)), where l is a cheap, continuous, strictly
// increasing approximation of log2 (see "Index mapping" below). Values with |x| < kZeroThreshold
// (including +-0) are counted in a single zero bin. NaN and +-inf are rejected.
//
// Memory. Each store is a dense array of uint32 counts over a window of bin indices, grown on
// demand. Values spanning a ratio R = max|x| / min|x| occupy about ln(R) / ln(gamma) bins,
// gamma = (1 + a) / (1 - a), a = kRelativeAccuracy: with a = 0.005, about 70 bins per factor 2,
// 232 per factor 10 (exactly: at most 1.04 * ln(R) / ln(gamma) + 1, and 1.01 * ln(R) / ln(gamma)
// on average over whole octaves). A store keeps at most kMaxBins bins, as DDSketch's
// "collapsing lowest" store does: with top = the bin of its largest magnitude, every count of a
// bin below floor = top - kMaxBins + 1 is added into bin floor. kMaxBins = 768 bins span at
// least 10.6 octaves (each bin spans a ratio of at least gamma^0.96, see IndexMappingBinWidths in
// the tests), so only magnitudes below 6.4e-4 of the largest are collapsed: in a run, the
// smallest magnitudes of a cell whose values cross or approach zero (a difference, a funding gap,
// unmet hours), where more trajectories would otherwise keep adding bins ever nearer zero (about
// 230 per factor 10 of trajectories). 768 is small enough that the default forecast's funding
// gap cells reach it by 10^4 trajectories, so that a run's memory stays flat from there
// (docs/performance.md); the price is an absolute error of at most 0.064% of a cell's largest
// magnitude for its values nearer zero than that. Collapsed values are reported as bin floor's
// value, below T = bin_lower_bound(floor + 1), hence the absolute part of the guarantee. Growth
// adds slack of 8 + size/8 bins on the side that grew (never below floor), so the allocated
// window of a store is at most 4/3 * (occupied span + 16) bins, and at most
// 9/8 * kMaxBins + 16. Memory depends on the spread of the values, never on how many were added,
// and is at most 2 * (9/8 * 768 + 16) * 4 bytes = 7 KB of counts per sketch. The object itself
// is 64 bytes, aligned to a cache line (one add() touches that line and one line of counts).
//
// Mergeability. merge() adds counts bin-wise (and takes min of mins, max of maxes), then collapses
// below the floors of the merged maxima. Collapsing leaves every count at or above the final floor
// where it was and puts everything below it into the floor's bin, whatever the order in which
// values arrived (floors only rise), so merging is exactly associative and commutative: the same
// sketches merged in any order or grouping give bit-identical state (operator==) and
// bit-identical quantiles. Counts are uint32 per bin (checked only once the total count reaches
// 2^32 - 1); a bin that would pass 2^32 - 1 makes add() or merge() throw std::overflow_error and
// leave the sketch unchanged (add_all() keeps the values before the one that overflowed).
//
// Index mapping (no std::log per insert). Write |x| = s * 2^e with s in [1, 2), read straight
// from the exponent and mantissa bits, and t = s - 1 in [0, 1). Approximate log2(s) by the cubic
//     P(t) = A t^3 + B t^2 + C t,   A = 6/35, B = -3/5, C = 10/7
// (DDSketch's CubicallyInterpolatedMapping): P(0) = 0 and P(1) = 1, so l(x) = e + P(t) is
// continuous across powers of two, and P'(t) = 3A t^2 + 2B t + C > 0 (its discriminant
// 4B^2 - 12AC < 0), so l is strictly increasing. Bin i holds [L_i, U_i) with l(L_i) = i / m and
// l(U_i) = (i + 1) / m, m = kMultiplier.
//   Width of a bin: dl / d(ln x) = s * P'(s - 1) =: f(s). On [1, 2], f'(s) = (54 t^2 - 48 t + 8)/35
// vanishes at t = 2/9 (a maximum, f = 1.451) and t = 2/3 (a minimum); f(1) = f(5/3) = 10/7 and
// f(2) = 52/35, so 10/7 <= f <= 52/35. Hence ln(U_i / L_i) = integral of dl / f <= (1/m) / (10/7).
//   Accuracy of a bin: the bin is reported by the harmonic mean v = 2 L U / (L + U), which for
// every x in [L, U] gives |v - x| / x <= (U - L) / (U + L) = tanh(ln(U / L) / 2). This is <= a iff
// ln(U / L) <= 2 atanh(a) = ln(gamma). So the guarantee needs 7 / (10 m) <= ln(gamma), i.e.
//     m = 7 / (10 ln(gamma)) * (1 + 1e-6)   (= 69.99949 bins per unit of l, i.e. per octave).
// The factor (1 + 1e-6) buys 5e-9 of relative slack in the bound, which absorbs the rounding of
// evaluating m * l(x) in double (< 1e-10 in index units, < 1e-12 relative in x) and of v.
// Compared with an exact log mapping (ln(2) / ln(gamma) = 69.31 bins per octave) this costs 1%
// more bins, for an insert that is a few integer operations and three multiply-adds.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>

namespace carecast::engine {

namespace quantile_sketch_detail {
// ln(gamma) = ln((1 + a) / (1 - a)) = 2 atanh(a) = 2 (a + a^3/3 + a^5/5 + ...), summed at compile
// time (std::log is not constexpr); 8 terms are exact in double for a <= 0.05.
constexpr double log_gamma(double a) {
  double term = a, sum = 0.0;
  for (int k = 0; k < 8; ++k) {
    sum += term / (2 * k + 1);
    term *= a * a;
  }
  return 2.0 * sum;
}
}  // namespace quantile_sketch_detail

// alignas(64): one sketch is exactly one cache line.
class alignas(64) QuantileSketch {
 public:
  // The relative accuracy a of quantile() (see the guarantee above).
  static constexpr double kRelativeAccuracy = 0.005;
  // |x| below this is counted in the zero bin and read back as 0 (then clamped to [min, max]).
  static constexpr double kZeroThreshold = 1e-9;
  // The most bins a store keeps (see "Memory" above).
  static constexpr std::int32_t kMaxBins = 768;

  static constexpr double kLogGamma = quantile_sketch_detail::log_gamma(kRelativeAccuracy);
  // Bins per unit of l (per octave); derived above.
  static constexpr double kMultiplier = 7.0 / (10.0 * kLogGamma) * (1.0 + 1e-6);

  QuantileSketch() = default;
  QuantileSketch(const QuantileSketch&) = default;
  QuantileSketch& operator=(const QuantileSketch&) = default;
  // A moved-from sketch is empty.
  QuantileSketch(QuantileSketch&& other) noexcept;
  QuantileSketch& operator=(QuantileSketch&& other) noexcept;
  ~QuantileSketch() = default;

  // Adds one value. Throws std::invalid_argument for NaN or +-inf (the sketch is unchanged).
  void add(double x);

  // Adds every value of `values`, leaving exactly the state add() one by one would leave, but
  // much faster (the bin indices of a block are computed vectorised, each store grows at most
  // once per 256 values, and the counting needs no bounds checks): use it when a block of values
  // for the same sketch is at hand. Throws std::invalid_argument, adding nothing, if any value
  // is NaN or +-inf.
  void add_all(std::span<const double> values);

  // Adds every count of `other` to this sketch (self-merge doubles every count).
  void merge(const QuantileSketch& other);

  // The q-quantile as defined above; q must lie in [0, 1] (else std::invalid_argument).
  // NaN for an empty sketch.
  double quantile(double q) const;

  // out[j] = quantile(qs[j]) for every j; out.size() must equal qs.size(). For qs sorted
  // increasingly the bins are walked once; otherwise each q is answered on its own.
  void quantiles(std::span<const double> qs, std::span<double> out) const;

  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Exact smallest and largest value added (NaN for an empty sketch).
  double min() const { return count_ ? min_ : std::numeric_limits<double>::quiet_NaN(); }
  double max() const { return count_ ? max_ : std::numeric_limits<double>::quiet_NaN(); }

  // Forgets every value; keeps the allocated bins for reuse.
  void clear();

  // Bins in the current windows (both stores); a measure of memory: 4 bytes each.
  std::size_t bin_count() const { return positive_.size() + negative_.size(); }

  // T of the guarantee: below this magnitude answers are within T, above it within
  // kRelativeAccuracy relative. kZeroThreshold while no store has a count in its floor bin (so
  // nothing can have been collapsed), else the upper end of the highest such floor bin.
  double absolute_error_bound() const;

  // Same contents: count, zero count, min, max and every bin count. The allocated windows (which
  // depend on the order of growth) are not compared.
  friend bool operator==(const QuantileSketch& a, const QuantileSketch& b);

  // The index mapping, exposed for tests. bin_index(|x|) for kZeroThreshold <= |x| <= DBL_MAX;
  // bin_lower_bound(i) = L_i, the smallest magnitude of bin i (up to rounding);
  // bin_value(i) = the value reported for bin i, 2 L_i U_i / (L_i + U_i).
  static std::int32_t bin_index(double magnitude) {
    const auto bits = std::bit_cast<std::uint64_t>(magnitude);
    const auto exponent = static_cast<std::int32_t>(bits >> 52) - 1023;
    const double t = std::bit_cast<double>((bits & kMantissaMask) | kOneBits) - 1.0;
    const double l = static_cast<double>(exponent) + ((kCubicA * t + kCubicB) * t + kCubicC) * t;
    // floor(m * l) as truncation of m * l + kIndexBias > 0 (a short dependency chain).
    return static_cast<std::int32_t>(kMultiplier * l + kIndexBias) - kIndexBias;
  }
  static double bin_lower_bound(std::int32_t index);
  static double bin_value(std::int32_t index);

 private:
  static constexpr double kCubicA = 6.0 / 35.0;
  static constexpr double kCubicB = -3.0 / 5.0;
  static constexpr double kCubicC = 10.0 / 7.0;
  static constexpr std::uint64_t kMantissaMask = (std::uint64_t{1} << 52) - 1;
  static constexpr std::uint64_t kOneBits = std::uint64_t{1023} << 52;
  // m * l >= -1023 * m > -2^17 for every double |x| (l >= -1023), so m * l + 2^17 > 0. Adding it
  // costs < 2e-11 of an index unit in rounding, well inside the slack of kMultiplier, and keeps
  // the mapping monotone.
  static constexpr std::int32_t kIndexBias = 1 << 17;
  static constexpr std::uint32_t kMaxBinCount = std::numeric_limits<std::uint32_t>::max();

  // bin_value() without its table of the common bins.
  static double compute_bin_value(std::int32_t index);

  // Dense counts for bin indices [offset_, offset_ + size_), in one heap block whose first word
  // is its capacity (so that a Store is 16 bytes and a whole sketch fits one cache line).
  class Store {
   public:
    Store() = default;
    Store(const Store& other);
    Store(Store&& other) noexcept;
    Store& operator=(const Store& other);
    Store& operator=(Store&& other) noexcept;
    ~Store() { delete[] block_; }

    // Every store operation takes the store's floor (the lowest bin it keeps, see "Memory"),
    // which callers derive from the largest magnitude; floors only rise. The window never
    // reaches below the floor.

    // Adds one to bin max(index, floor), whose count must be below kMaxBinCount (e.g. because
    // fewer than kMaxBinCount values were added in all).
    void add(std::int32_t index, std::int32_t floor) {
      collapse(floor);
      index = index > floor ? index : floor;
      const auto rel = static_cast<std::uint32_t>(index - offset_);
      if (rel < size_) [[likely]] {
        ++block_[1 + rel];
      } else {
        grow_and_add(index, floor);
      }
    }
    // Same, but throws std::overflow_error (changing nothing) if the bin is full.
    void add_checked(std::int32_t index, std::int32_t floor);
    // Moves the counts of every bin below `floor` into bin `floor` and starts the window there
    // (nothing to do, the common case, while the window starts at or above it).
    void collapse(std::int32_t floor) {
      if (offset_ < floor && size_ > 0) [[unlikely]] collapse_below(floor);
    }
    // Makes the window contain [lo, hi] (floor <= lo <= hi), reshaping at most once, with slack
    // on each side that grows (8 + size/8 bins; a first window gets 8 below and 7 above), never
    // below floor.
    void cover(std::int32_t lo, std::int32_t hi, std::int32_t floor);
    // Asks for the cache lines of a window of up to 1024 bins (a hint; changes nothing).
    void prefetch() const {
      if (size_ > 1024) return;
      for (std::uint32_t i = 0; i <= size_; i += 16) __builtin_prefetch(block_ + i, 1);
      __builtin_prefetch(block_ + size_, 1);
    }
    // counts()[i] is the count of bin offset() + i, for i < size() (nullptr while empty).
    std::uint32_t* counts() { return block_ ? block_ + 1 : nullptr; }
    // Throws std::overflow_error if merge(other, floor) would overflow a bin; changes nothing.
    void check_merge(const Store& other, std::int32_t floor) const;
    void merge(const Store& other, std::int32_t floor);  // call check_merge first
    void clear() { size_ = 0; }      // keeps the block
    std::size_t size() const { return size_; }
    std::int32_t offset() const { return offset_; }
    std::span<const std::uint32_t> bins() const {
      return size_ ? std::span<const std::uint32_t>(block_ + 1, size_)
                   : std::span<const std::uint32_t>();
    }
    std::uint32_t at(std::int32_t index) const {
      const auto rel = static_cast<std::uint32_t>(index - offset_);
      return rel < size_ ? block_[1 + rel] : 0;
    }
    // The smallest and largest index with a nonzero count; false if there is none.
    bool occupied(std::int32_t& lo, std::int32_t& hi) const;
    // The sum of the counts of every bin up to and including `index`.
    std::uint64_t count_through(std::int32_t index) const;
    // Same nonzero counts at the same indices (the windows may differ).
    bool same_counts(const Store& other) const;

   private:
    std::uint32_t capacity() const { return block_ ? block_[0] : 0; }
    void grow_and_add(std::int32_t index, std::int32_t floor);
    void collapse_below(std::int32_t floor);
    // Makes the window [lo, hi] (which must contain the current window), keeping the counts.
    void reshape(std::int32_t lo, std::int32_t hi);
    [[noreturn]] static void throw_overflow();

    std::uint32_t* block_ = nullptr;  // block_[0] = capacity, block_[1 + i] = count of offset_ + i
    std::int32_t offset_ = 0;
    std::uint32_t size_ = 0;
  };

  // The floor of a store whose largest magnitude is `largest` (>= kZeroThreshold), and of the
  // positive and the negative store once values from lo to hi are added (no store of a sign
  // without values: any floor then, since it has no counts).
  static std::int32_t floor_below(double largest) { return bin_index(largest) - (kMaxBins - 1); }
  static std::int32_t positive_floor(double hi) {
    return hi >= kZeroThreshold ? floor_below(hi) : std::numeric_limits<std::int32_t>::min();
  }
  static std::int32_t negative_floor(double lo) {
    return lo <= -kZeroThreshold ? floor_below(-lo) : std::numeric_limits<std::int32_t>::min();
  }

  [[noreturn]] static void throw_not_finite(double x);
  // Adds finite `values` to count, zero count, min and max (not to the bins).
  void account(std::span<const double> values);
  // add_all() one value at a time, checking every bin for overflow (total count near 2^32).
  void add_all_checked(std::span<const double> values);
  // add_all() of at most kChunk values (see the .cpp), for a total count that stays within
  // kMaxBinCount (so that no bin can overflow).
  void add_chunk(const double* values, std::size_t n);
  // add_chunk()'s counting when not every value goes to the same store; returns the number of
  // zero-bin values.
  // The stores' floors are given.
  std::size_t add_mixed(const double* values, std::size_t n, const std::int32_t* index,
                        std::int32_t positive_floor, std::int32_t negative_floor);
  static constexpr std::size_t kChunk = 256;

  // Laid out so that add() of a positive value touches the first 40 bytes only.
  Store positive_;
  std::uint64_t count_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  Store negative_;
  std::uint64_t zero_count_ = 0;
};

inline QuantileSketch::QuantileSketch(QuantileSketch&& other) noexcept
    : positive_(std::move(other.positive_)),
      count_(std::exchange(other.count_, 0)),
      min_(std::exchange(other.min_, std::numeric_limits<double>::infinity())),
      max_(std::exchange(other.max_, -std::numeric_limits<double>::infinity())),
      negative_(std::move(other.negative_)),
      zero_count_(std::exchange(other.zero_count_, 0)) {}

inline QuantileSketch& QuantileSketch::operator=(QuantileSketch&& other) noexcept {
  if (this != &other) {
    positive_ = std::move(other.positive_);
    negative_ = std::move(other.negative_);
    count_ = std::exchange(other.count_, 0);
    zero_count_ = std::exchange(other.zero_count_, 0);
    min_ = std::exchange(other.min_, std::numeric_limits<double>::infinity());
    max_ = std::exchange(other.max_, -std::numeric_limits<double>::infinity());
  }
  return *this;
}

inline void QuantileSketch::add(double x) {
  const double magnitude = std::fabs(x);
  if (!(magnitude <= std::numeric_limits<double>::max())) [[unlikely]]
    throw_not_finite(x);
  if (magnitude >= kZeroThreshold) [[likely]] {
    Store& store = x > 0.0 ? positive_ : negative_;
    const std::int32_t floor = x > 0.0 ? positive_floor(x > max_ ? x : max_)
                                       : negative_floor(x < min_ ? x : min_);
    // A bin can only fill up once kMaxBinCount values have been added in all.
    if (count_ < kMaxBinCount) [[likely]] {
      store.add(bin_index(magnitude), floor);
    } else {
      store.add_checked(bin_index(magnitude), floor);
    }
  } else {
    ++zero_count_;
    x += 0.0;  // -0.0 becomes +0.0, so that min/max never depend on which zero came first
  }
  ++count_;
  min_ = x < min_ ? x : min_;
  max_ = x > max_ ? x : max_;
}

}  // namespace carecast::engine
