// Moments: the block summary equals the cascade bit for bit, and both are accurate.
#include "engine/moments.h"

#include <gtest/gtest.h>

#include <cmath>

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

TEST(Moments, SplittingIntoAlignedBlocksChangesNothing) {
  const std::size_t n = 83;
  const auto values = make_values(n, n);
  MomentCascade whole(kCells);
  for (auto& node : summarise_block(values, kCells, n, n)) whole.push(std::move(node));
  const Moments a = whole.finish();
  for (std::size_t block : {1u, 4u, 16u, 64u}) {
    MomentCascade pieces(kCells);
    for (std::size_t begin = 0; begin < n; begin += block) {
      const std::size_t count = std::min(block, n - begin);
      std::vector<double> part(kCells * block);
      for (std::size_t c = 0; c < kCells; ++c) {
        for (std::size_t j = 0; j < count; ++j) part[c * block + j] = values[c * n + begin + j];
      }
      for (auto& node : summarise_block(part, kCells, count, block)) pieces.push(std::move(node));
    }
    const Moments b = pieces.finish();
    EXPECT_EQ(a.mean, b.mean) << block;
    EXPECT_EQ(a.m2, b.m2) << block;
  }
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
