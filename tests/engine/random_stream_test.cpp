// Tests of engine/random_stream.h: known answers, addressing, order independence, and the
// statistical quality of uniform().
//
// The statistical checks reject at significance 1e-6 with fixed seeds, so they are deterministic:
//   * z-tests: |z| > Phi^-1(1 - 1e-6 / 2) = 4.8916.
//   * the chi-square of K - 1 = 501 degrees of freedom: its 1 - 1e-6 quantile by Wilson and
//     Hilferty's cube-root approximation, X = k (1 - 2 / (9k) + z sqrt(2 / (9k)))^3 with
//     z = Phi^-1(1 - 1e-6) = 4.7534. At k = 501 it gives 666.23 against the exact 666.11
//     (mpmath), so the 1% margin added to it covers the approximation with room to spare.
#include "engine/random_stream.h"

#include <Random123/philox.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

namespace carecast::engine {
namespace {

constexpr std::uint64_t kSeed = 0x0123456789abcdefULL;
constexpr double kZTwoSided = 4.891638475698590;  // Phi^-1(1 - 1e-6 / 2), from mpmath
constexpr double kZOneSided = 4.753424308822899;  // Phi^-1(1 - 1e-6), from mpmath

// The first `count` 32-bit words of the stream at `address`.
std::vector<std::uint32_t> words(const StreamAddress& address, int count) {
  RandomStream stream(address);
  std::vector<std::uint32_t> out;
  for (int i = 0; i < count; ++i) out.push_back(stream.bits32());
  return out;
}

TEST(RandomStream, MatchesPhiloxKnownAnswers) {
  // Random123's published known-answer vectors for Philox4x32-10 (its tests/kat_vectors).
  using Philox = r123::Philox4x32;
  const Philox::ctr_type zero_counter = {{0, 0, 0, 0}};
  const Philox::key_type zero_key = {{0, 0}};
  const Philox::ctr_type ones_counter = {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}};
  const Philox::key_type ones_key = {{0xffffffff, 0xffffffff}};
  const Philox::ctr_type pi_counter = {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}};
  const Philox::key_type pi_key = {{0xa4093822, 0x299f31d0}};
  const std::array<std::array<std::uint32_t, 4>, 3> expected = {{
      {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
  }};
  const Philox::ctr_type outputs[] = {Philox()(zero_counter, zero_key),
                                      Philox()(ones_counter, ones_key),
                                      Philox()(pi_counter, pi_key)};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(outputs[i].v[j], expected[i][j]);
  }
  // The stream at the all-zero address is the zero vector's block, word by word.
  EXPECT_EQ(words(StreamAddress{}, 4),
            (std::vector<std::uint32_t>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
}

TEST(RandomStream, AddressIsThePhiloxCounterAndKey) {
  // Freezes the layout: key = (seed low, seed high), counter = (block, month, site, trajectory).
  const StreamAddress addresses[] = {
      {kSeed, 7, 3, 11}, {0xffffffff00000001ULL, 0, 99, 1}, {42, 0xffffffff, 0, 0xffffffff}};
  for (const StreamAddress& address : addresses) {
    const r123::Philox4x32::key_type key = {
        {static_cast<std::uint32_t>(address.seed), static_cast<std::uint32_t>(address.seed >> 32)}};
    std::vector<std::uint32_t> expected;
    for (std::uint32_t block = 0; block < 3; ++block) {
      const r123::Philox4x32::ctr_type counter = {
          {block, address.month, address.site, address.trajectory}};
      const auto out = r123::Philox4x32()(counter, key);
      expected.insert(expected.end(), out.v, out.v + 4);
    }
    EXPECT_EQ(words(address, 12), expected);
  }
}

TEST(RandomStream, SameAddressGivesTheSameSequence) {
  const StreamAddress address{kSeed, 5, 2, 17};
  RandomStream first(address);
  RandomStream second(address);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(first.uniform(), second.uniform()) << i;
    ASSERT_EQ(first.bits32(), second.bits32()) << i;
    ASSERT_EQ(first.bits64(), second.bits64()) << i;
  }
}

TEST(RandomStream, OrderOfOpeningDoesNotMatter) {
  // Trajectories 0..9 drawn one after the other, then 9..0 opened together and drawn round-robin:
  // every stream yields the same uniforms.
  constexpr int kTrajectories = 10;
  constexpr int kDraws = 13;  // not a multiple of the 2 uniforms per Philox block
  std::vector<std::vector<double>> sequential(kTrajectories);
  for (std::uint32_t t = 0; t < kTrajectories; ++t) {
    RandomStream stream({kSeed, t, 4, 6});
    for (int i = 0; i < kDraws; ++i) sequential[t].push_back(stream.uniform());
  }
  std::vector<RandomStream> streams;
  for (std::uint32_t t = kTrajectories; t-- > 0;) {
    streams.emplace_back(StreamAddress{kSeed, t, 4, 6});
  }
  std::vector<std::vector<double>> interleaved(kTrajectories);
  for (int i = 0; i < kDraws; ++i) {
    for (int j = 0; j < kTrajectories; ++j) {
      interleaved[kTrajectories - 1 - j].push_back(streams[j].uniform());
    }
  }
  EXPECT_EQ(sequential, interleaved);
}

TEST(RandomStream, EveryAddressFieldSelectsADifferentSequence) {
  const StreamAddress base{kSeed, 1, 2, 3};
  StreamAddress seed_low = base;
  seed_low.seed ^= 1;
  StreamAddress seed_high = base;
  seed_high.seed ^= std::uint64_t{1} << 40;
  StreamAddress trajectory = base;
  trajectory.trajectory += 1;
  StreamAddress site = base;
  site.site += 1;
  StreamAddress month = base;
  month.month += 1;
  // Fields swapped into each other's places must not collide either.
  const StreamAddress swapped{kSeed, 3, 2, 1};
  std::set<std::vector<std::uint32_t>> sequences;
  for (const StreamAddress& address :
       {base, seed_low, seed_high, trajectory, site, month, swapped}) {
    sequences.insert(words(address, 8));
  }
  EXPECT_EQ(sequences.size(), 7u);
}

TEST(RandomStream, Bits64JoinsTwoWordsAndBlocksAreCounted) {
  RandomStream words_stream({kSeed, 0, 0, 0});
  RandomStream pairs_stream({kSeed, 0, 0, 0});
  EXPECT_EQ(pairs_stream.blocks_used(), 0u);
  for (std::uint32_t i = 1; i <= 8; ++i) {
    const std::uint64_t hi = words_stream.bits32();
    const std::uint64_t lo = words_stream.bits32();
    EXPECT_EQ(pairs_stream.bits64(), (hi << 32) | lo);
    EXPECT_EQ(pairs_stream.blocks_used(), (i + 1) / 2);  // 4 words = 2 pairs per block
  }
}

TEST(RandomStream, UniformIsStrictlyInsideTheUnitInterval) {
  RandomStream stream({kSeed, 0, 7, 0});
  double smallest = 1;
  double largest = 0;
  for (int i = 0; i < 1000000; ++i) {
    const double u = stream.uniform();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    smallest = std::min(smallest, u);
    largest = std::max(largest, u);
  }
  // A million uniforms come within 2e-5 of both ends (each misses with probability < 1e-8).
  EXPECT_LT(smallest, 2e-5);
  EXPECT_GT(largest, 1 - 2e-5);
}

TEST(RandomStream, UnitMapStaysInsideAtTheExtremeBitPatterns) {
  // The extremes a million draws would never reach: all bits clear and all bits set.
  EXPECT_EQ(RandomStream::to_unit(0), 0x1.0p-53);
  EXPECT_EQ(RandomStream::to_unit(~std::uint64_t{0}), 1.0 - 0x1.0p-53);
  EXPECT_LT(RandomStream::to_unit(~std::uint64_t{0}), 1.0);
  // Adjacent top-52-bit patterns stay distinct (the map is exact, not rounded).
  const std::uint64_t top = ~std::uint64_t{0} << 12;
  EXPECT_LT(RandomStream::to_unit(top - (std::uint64_t{1} << 12)), RandomStream::to_unit(top));
}

TEST(RandomStream, UniformPassesChiSquare) {
  // N = 10^6 draws from one long stream into K = 2 N^0.4 = 502 equiprobable bins.
  constexpr int kDraws = 1000000;
  constexpr int kBins = 502;
  std::vector<double> counts(kBins, 0.0);
  RandomStream stream({kSeed, 0, 8, 0});
  for (int i = 0; i < kDraws; ++i) counts[static_cast<std::size_t>(stream.uniform() * kBins)] += 1;
  const double expected = static_cast<double>(kDraws) / kBins;
  double statistic = 0;
  for (const double count : counts) statistic += (count - expected) * (count - expected) / expected;
  const double dof = kBins - 1;
  const double h = 2 / (9 * dof);
  const double critical = dof * std::pow(1 - h + kZOneSided * std::sqrt(h), 3);
  EXPECT_LT(statistic, 1.01 * critical);
}

TEST(RandomStream, UniformsAreUncorrelated) {
  // Pearson correlation of N pairs of independent uniforms is ~ normal(0, 1 / N).
  constexpr int kPairs = 1000000;
  const auto expect_uncorrelated = [](const std::vector<double>& x, const std::vector<double>& y) {
    const double n = static_cast<double>(x.size());
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      sx += x[i];
      sy += y[i];
      sxx += x[i] * x[i];
      syy += y[i] * y[i];
      sxy += x[i] * y[i];
    }
    const double r = (sxy - sx * sy / n) / std::sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
    EXPECT_LT(std::abs(r) * std::sqrt(n), kZTwoSided);
  };
  {
    SCOPED_TRACE("consecutive uniforms within one stream");
    RandomStream stream({kSeed, 0, 9, 0});
    std::vector<double> x, y;
    double previous = stream.uniform();
    for (int i = 0; i < kPairs; ++i) {
      const double next = stream.uniform();
      x.push_back(previous);
      y.push_back(next);
      previous = next;
    }
    expect_uncorrelated(x, y);
  }
  // First uniforms of neighbouring addresses (counters differing in one low bit).
  const auto first_uniform = [](const StreamAddress& address) {
    RandomStream stream(address);
    return stream.uniform();
  };
  for (int field = 0; field < 3; ++field) {
    SCOPED_TRACE(testing::Message() << "neighbouring addresses, field " << field);
    std::vector<double> x, y;
    for (std::uint32_t i = 0; i < kPairs; ++i) {
      StreamAddress a{kSeed, 0, 10, 0};
      StreamAddress b = a;
      std::uint32_t* fields_a[] = {&a.trajectory, &a.site, &a.month};
      std::uint32_t* fields_b[] = {&b.trajectory, &b.site, &b.month};
      *fields_a[field] = 2 * i;
      *fields_b[field] = 2 * i + 1;
      x.push_back(first_uniform(a));
      y.push_back(first_uniform(b));
    }
    expect_uncorrelated(x, y);
  }
}

TEST(RandomStream, EveryBitIsBalanced) {
  // Each of the 32 bit positions is set in about half of N words: z-test per bit.
  constexpr int kDraws = 1000000;
  std::array<int, 32> ones{};
  RandomStream stream({kSeed, 0, 11, 0});
  for (int i = 0; i < kDraws; ++i) {
    const std::uint32_t word = stream.bits32();
    for (int bit = 0; bit < 32; ++bit) ones[bit] += (word >> bit) & 1u;
  }
  const double sd = std::sqrt(kDraws * 0.25);
  for (int bit = 0; bit < 32; ++bit) {
    EXPECT_LT(std::abs(ones[bit] - kDraws / 2) / sd, kZTwoSided) << "bit " << bit;
  }
}

}  // namespace
}  // namespace carecast::engine
