#include "engine/quantile_sketch.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace carecast::engine {

static_assert(sizeof(QuantileSketch) == 64, "one sketch, one cache line");

namespace {

// Solves P(t) = c for t in [0, 1], c in [0, 1), P(t) = A t^3 + B t^2 + C t (increasing, concave
// on [0, 1]). Newton's method from t = c: P(t) >= t on [0, 1], so the first step lands left of
// the root and the iterates then climb to it monotonically (quadratically).
double inverse_cubic(double c, double a, double b, double cc) {
  double t = c;
  for (int iteration = 0; iteration < 60; ++iteration) {
    const double p = ((a * t + b) * t + cc) * t;
    const double slope = (3.0 * a * t + 2.0 * b) * t + cc;
    const double next = t - (p - c) / slope;
    if (next == t) break;
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

double QuantileSketch::bin_value(std::int32_t index) {
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

void QuantileSketch::Store::grow_and_add(std::int32_t index) {
  if (size_ == 0) {
    reshape(index - 8, index + 7);
  } else {
    std::int32_t lo = offset_;
    std::int32_t hi = offset_ + static_cast<std::int32_t>(size_) - 1;
    const auto extra = 8 + static_cast<std::int32_t>(size_ / 8);
    if (index < lo) {
      lo = index - extra;
    } else {
      hi = index + extra;
    }
    reshape(lo, hi);
  }
  ++block_[1 + static_cast<std::uint32_t>(index - offset_)];
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

void QuantileSketch::Store::check_merge(const Store& other) const {
  std::int32_t lo = 0, hi = -1;
  if (!other.occupied(lo, hi)) return;
  for (std::int32_t i = lo; i <= hi; ++i) {
    if (other.at(i) > kMaxBinCount - at(i)) throw_overflow();
  }
}

void QuantileSketch::Store::merge(const Store& other) {
  std::int32_t lo = 0, hi = -1;
  if (!other.occupied(lo, hi)) return;
  if (size_ == 0) {
    reshape(lo, hi);
  } else {
    const std::int32_t end = offset_ + static_cast<std::int32_t>(size_) - 1;
    if (lo < offset_ || hi > end) reshape(std::min(lo, offset_), std::max(hi, end));
  }
  for (std::int32_t i = lo; i <= hi; ++i) {
    block_[1 + static_cast<std::uint32_t>(i - offset_)] += other.at(i);
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

void QuantileSketch::add_all(std::span<const double> values) {
  for (const double x : values) {
    if (!(std::fabs(x) <= std::numeric_limits<double>::max())) throw_not_finite(x);
  }
  // The bins first, then count, zero count, min and max in a second pass over the (cached)
  // values, with nothing but locals in the loops: no loop-carried trip through memory.
  // No bin can fill up while the total stays within kMaxBinCount; past that, check every bin.
  const bool checked = values.size() > kMaxBinCount - std::min<std::uint64_t>(count_, kMaxBinCount);
  std::size_t done = 0;
  try {
    for (; done < values.size(); ++done) {
      const double x = values[done];
      const double magnitude = std::fabs(x);
      if (magnitude >= kZeroThreshold) [[likely]] {
        Store& store = x > 0.0 ? positive_ : negative_;
        if (!checked) [[likely]] {
          store.add(bin_index(magnitude));
        } else {
          store.add_checked(bin_index(magnitude));
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
  if (count_ + other.count_ > kMaxBinCount) {  // only then can a bin overflow
    positive_.check_merge(other.positive_);
    negative_.check_merge(other.negative_);
  }
  positive_.merge(other.positive_);
  negative_.merge(other.negative_);
  zero_count_ += other.zero_count_;
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
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
