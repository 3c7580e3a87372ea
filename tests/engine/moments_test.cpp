// Moments: the block summary equals the cascade bit for bit, and both are accurate.
#include "engine/moments.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include "engine/random_stream.h"

namespace carecast::engine {
namespace {

constexpr std::size_t kCells = 3;

// values[c * stride + j]: cell 0 large with small spread, cell 1 mixed sign, cell 2 constant.
std::vector<double> make_values(std::size_t count, std::size_t stride) {
  std::vector<double> v(kCells * stride);
  for (std::uint32_t j = 0; j < count; ++j) {
    RandomStream stream({9, j, 0, 0});
    v[0 * stride + j] = 1e9 + stream.uniform();
    v[1 * stride + j] = stream.uniform() - 0.5;
    v[2 * stride + j] = 42.0;
  }
  return v;
}

TEST(Moments, BlockSummaryIsTheCascadeBitForBit) {
  for (std::size_t count : {1u, 2u, 3u, 16u, 37u, 64u, 100u, 200u}) {
    const std::size_t stride = 256;
    const auto values = make_values(count, stride);
    MomentCascade cascade(kCells);
    for (std::size_t j = 0; j < count; ++j) {
      const double row[kCells] = {values[j], values[stride + j], values[2 * stride + j]};
      cascade.add(row);
    }
    const auto expected = cascade.take();
    const auto nodes = summarise_block(values, kCells, count, stride);
    ASSERT_EQ(nodes.size(), expected.size()) << count;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      EXPECT_EQ(nodes[k].count, expected[k].count);
      EXPECT_EQ(nodes[k].level, expected[k].level);
      EXPECT_EQ(nodes[k].mean, expected[k].mean) << count;
      EXPECT_EQ(nodes[k].m2, expected[k].m2) << count;
    }
  }
}

// The tree's arithmetic written plainly, a cell and a node at a time, as the scalar code had it
// before summarise_cells() ran it on vectors: Moments::merge_later of two halves of equal count.
struct Plain {
  double mean, m2;
};
Plain plain_tree(const double* x, std::size_t n) {
  if (n == 1) return {x[0], 0.0};
  const Plain a = plain_tree(x, n / 2), b = plain_tree(x + n / 2, n / 2);
  const double half = static_cast<double>(n / 2);
  const double delta = b.mean - a.mean;
  return {a.mean + delta * 0.5, a.m2 + b.m2 + delta * delta * (half * half / (2.0 * half))};
}

// Values of mixed signs and magnitudes (1e-12 to 1e12), a few exact repeats and zeros among them.
std::vector<double> mixed_values(std::size_t n, std::uint32_t seed) {
  RandomStream stream({seed, 0, 0, 0});
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double kind = stream.uniform();
    const double magnitude = std::pow(10.0, std::floor(24.0 * stream.uniform()) - 12.0);
    if (kind < 0.05) {
      v[i] = 0.0;
    } else if (kind < 0.1 && i > 0) {
      v[i] = v[i - 1];
    } else {
      v[i] = (stream.uniform() - 0.5) * magnitude;
    }
  }
  return v;
}

// summarise_block() and summarise_cells() in groups against plain_tree(), bit for bit, for every
// count up to 130 and a few larger ones (trees deeper than the vector code holds at once), cell
// counts that are and are not multiples of the vector width (8, 4 or 2), and rows that are not
// aligned.
TEST(Moments, VectorSummaryIsThePlainTreeBitForBit) {
  std::vector<std::size_t> counts(130);
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = i + 1;
  for (std::size_t count : {255u, 256u, 1000u, 2053u}) counts.push_back(count);
  const auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
  for (std::size_t cells : {1u, 2u, 3u, 4u, 7u, 8u, 9u, 16u, 21u, 35u}) {
    for (std::size_t count : counts) {
      const std::size_t stride = count + 3;
      const auto values = mixed_values(cells * stride, static_cast<std::uint32_t>(count));
      const auto whole = summarise_block(values, cells, count, stride);
      // Groups of 3 then 8 cells: first_cell off the vector width, and groups of every size.
      auto grouped = block_nodes(cells, count);
      for (std::size_t c = 0, group = 3; c < cells; c += group, group = 8) {
        summarise_cells(values.data() + c * stride, stride, std::min(group, cells - c), count,
                        grouped, c);
      }
      ASSERT_EQ(whole.size(), static_cast<std::size_t>(std::popcount(count)));
      ASSERT_EQ(grouped.size(), whole.size());
      for (std::size_t c = 0; c < cells; ++c) {
        std::size_t offset = 0;
        for (std::size_t k = 0; k < whole.size(); ++k) {
          const auto size = static_cast<std::size_t>(whole[k].count);
          const Plain expected = plain_tree(values.data() + c * stride + offset, size);
          offset += size;
          const auto where = testing::Message() << cells << " cells, count " << count << ", cell "
                                                << c << ", node " << k;
          EXPECT_EQ(bits(whole[k].mean[c]), bits(expected.mean)) << where;
          EXPECT_EQ(bits(whole[k].m2[c]), bits(expected.m2)) << where;
          EXPECT_EQ(bits(grouped[k].mean[c]), bits(expected.mean)) << where;
          EXPECT_EQ(bits(grouped[k].m2[c]), bits(expected.m2)) << where;
        }
      }
    }
  }
}

// A fold level no test run reaches: the cascade pairs all the way up.
constexpr int kUnbounded = 62;

// Trajectories [begin, begin + count) of `values` (values[c * n + j]) as a block buffer whose
// cells are `stride` apart (stride >= count).
std::vector<double> slice(const std::vector<double>& values, std::size_t n, std::size_t begin,
                          std::size_t count, std::size_t stride) {
  std::vector<double> part(kCells * stride);
  for (std::size_t c = 0; c < kCells; ++c) {
    for (std::size_t j = 0; j < count; ++j) part[c * stride + j] = values[c * n + begin + j];
  }
  return part;
}

// The moments of the n trajectories of `values` pushed into a cascade of fold level `fold` as
// aligned pieces of `block` trajectories, each summarised on its own.
Moments in_pieces(const std::vector<double>& values, std::size_t n, std::size_t block,
                  int fold = kFoldLevel) {
  MomentCascade pieces(kCells, fold);
  for (std::size_t begin = 0; begin < n; begin += block) {
    const std::size_t count = std::min(block, n - begin);
    for (auto& node : summarise_block(slice(values, n, begin, count, block), kCells, count,
                                      block)) {
      pieces.push(std::move(node));
    }
  }
  return pieces.finish();
}

TEST(Moments, SplittingIntoAlignedBlocksChangesNothing) {
  const std::size_t n = 83;
  const auto values = make_values(n, n);
  MomentCascade whole(kCells);
  for (auto& node : summarise_block(values, kCells, n, n)) whole.push(std::move(node));
  const Moments a = whole.finish();
  for (std::size_t block : {1u, 4u, 16u, 64u}) {
    const Moments b = in_pieces(values, n, block);
    EXPECT_EQ(a.mean, b.mean) << block;
    EXPECT_EQ(a.m2, b.m2) << block;
  }
}

// With fold level 2, subtrees of 4 trajectories are summed one after another in trajectory
// order, and what is left below 4 is paired as before and merged last; the cascade never holds
// more than 3 nodes. Built here from its definition: subtree nodes of 4, folded by hand.
TEST(Moments, SubtreesAtTheFoldLevelAreSummedInOrder) {
  constexpr int kFold = 2;
  constexpr std::size_t kSubtree = std::size_t{1} << kFold;
  for (std::size_t n : {1u, 3u, 4u, 7u, 8u, 11u, 12u, 16u, 37u, 83u}) {
    const auto values = make_values(n, n);
    MomentCascade cascade(kCells, kFold);
    std::size_t most = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double row[kCells] = {values[j], values[n + j], values[2 * n + j]};
      cascade.add(row);
      MomentCascade copy = cascade;
      most = std::max(most, copy.take().size());
    }
    EXPECT_LE(most, 3u) << n;
    const Moments got = cascade.finish();

    // Expected: the subtrees of kSubtree, folded left to right, then the rest's own nodes.
    std::optional<Moments> expected;
    const auto fold_in = [&](std::size_t begin, std::size_t count) {
      MomentCascade unbounded(kCells, kUnbounded);
      for (auto& node : summarise_block(slice(values, n, begin, count, count), kCells, count,
                                        count)) {
        unbounded.push(std::move(node));
      }
      Moments next = unbounded.finish();
      if (!expected) {
        expected = std::move(next);
      } else {
        expected->merge_later(next);
      }
    };
    const std::size_t whole = n / kSubtree * kSubtree;
    for (std::size_t begin = 0; begin < whole; begin += kSubtree) fold_in(begin, kSubtree);
    if (whole < n) fold_in(whole, n - whole);
    EXPECT_EQ(got.count, n);
    EXPECT_EQ(got.mean, expected->mean) << n;
    EXPECT_EQ(got.m2, expected->m2) << n;
  }
}

// Below 3 subtrees of the fold level the sum is the unbounded pairwise tree's, bit for bit
// (what keeps results of runs of fewer than 3 * 2^kFoldLevel trajectories as they were); aligned
// pieces of any size up to the fold level give the same result; a larger piece is refused.
TEST(Moments, FoldingKeepsSmallRunsAndAnyPiecesAlike) {
  constexpr int kFold = 3;
  const std::size_t below = 3 * (std::size_t{1} << kFold) - 1;
  const auto small = make_values(below, below);
  MomentCascade folded(kCells, kFold), unbounded(kCells, kUnbounded);
  for (std::size_t j = 0; j < below; ++j) {
    const double row[kCells] = {small[j], small[below + j], small[2 * below + j]};
    folded.add(row);
    unbounded.add(row);
  }
  const Moments a = folded.finish(), b = unbounded.finish();
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.m2, b.m2);

  const std::size_t n = 83;
  const auto values = make_values(n, n);
  std::optional<Moments> first;
  for (std::size_t block : {1u, 2u, 4u, 8u}) {
    const Moments m = in_pieces(values, n, block, kFold);
    if (!first) first = m;
    EXPECT_EQ(m.mean, first->mean) << block;
    EXPECT_EQ(m.m2, first->m2) << block;
  }
  MomentCascade cascade(kCells, kFold);
  auto too_big = summarise_block(values, kCells, 16, n);  // one node of 2^4 trajectories
  EXPECT_THROW(cascade.push(std::move(too_big.front())), std::invalid_argument);
}

TEST(Moments, AgreeWithTwoPassMeanAndVariance) {
  const std::size_t n = 1000;
  const auto values = make_values(n, n);
  MomentCascade cascade(kCells);
  for (auto& node : summarise_block(values, kCells, n, n)) cascade.push(std::move(node));
  const Moments m = cascade.finish();
  for (std::size_t c = 0; c < kCells; ++c) {
    long double mean = 0, ss = 0;
    for (std::size_t j = 0; j < n; ++j) mean += values[c * n + j];
    mean /= n;
    for (std::size_t j = 0; j < n; ++j) ss += (values[c * n + j] - mean) * (values[c * n + j] - mean);
    const double sd = std::sqrt(static_cast<double>(ss / (n - 1)));
    EXPECT_NEAR(m.mean[c], static_cast<double>(mean), 1e-15 * std::abs(static_cast<double>(mean)) + 1e-15);
    // Pairwise Chan updates keep the sd of 1e9 + U(0,1) to ~1e-7 relative (naive sums of squares
    // would lose it entirely: 1e18 against a variance of 1/12).
    EXPECT_NEAR(m.sd(c), sd, 1e-6 * sd + 1e-12) << c;
  }
  EXPECT_EQ(m.sd(2), 0.0);
}

}  // namespace
}  // namespace carecast::engine
