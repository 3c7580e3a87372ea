// BlockSchedule: the pieces tile the run in order, each one subtree of the moment cascade (so
// summaries pieced together equal the cascade bit for bit), and the tail is cut small.
#include "engine/block_schedule.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <vector>

#include "engine/moments.h"
#include "engine/random_stream.h"

namespace carecast::engine {
namespace {

std::vector<BlockSchedule::Piece> pieces(const BlockSchedule& schedule) {
  std::vector<BlockSchedule::Piece> out;
  for (std::uint64_t i = 0; i < schedule.size(); ++i) out.push_back(schedule[i]);
  return out;
}

TEST(BlockSchedule, PiecesTileTheRunAsAlignedPowersOfTwo) {
  for (const std::uint64_t n : {1u, 7u, 32u, 83u, 1000u, 1024u, 1025u, 10000u, 123457u}) {
    for (const std::uint32_t block : {1u, 4u, 16u, 256u}) {
      for (const int threads : {1, 2, 3, 16}) {
        const auto all = pieces(BlockSchedule(n, block, threads));
        SCOPED_TRACE(testing::Message() << n << " " << block << " " << threads);
        std::uint64_t next = 0;
        std::uint32_t previous = block;
        for (std::size_t i = 0; i < all.size(); ++i) {
          const auto [begin, count] = all[i];
          ASSERT_EQ(begin, next);
          ASSERT_GE(count, 1u);
          ASSERT_LE(count, previous);  // sizes never grow
          const bool last = i + 1 == all.size();
          if (!last) {
            ASSERT_TRUE(std::has_single_bit(count)) << count;
          }
          // One subtree: the begin is a multiple of the piece's largest power of two.
          ASSERT_EQ(begin % std::bit_floor(count), 0u) << begin << " " << count;
          next += count;
          previous = count;
        }
        EXPECT_EQ(next, n);
      }
    }
  }
}

TEST(BlockSchedule, TheTailIsCutSmallerAsTheRunEnds) {
  // 10^4 trajectories, blocks of 256, 2 threads: 35 whole blocks while 4 blocks' worth (1024)
  // remain beyond them, then pieces of the largest power of two within a quarter of what
  // remains, down to 32.
  const auto all = pieces(BlockSchedule(10000, 256, 2));
  const std::vector<std::uint32_t> tail = {256, 128, 128, 128, 64, 64, 64,
                                           32,  32,  32,  32,  32, 32, 16};
  ASSERT_EQ(all.size(), 35 + tail.size());
  for (std::size_t i = 0; i < 35; ++i) EXPECT_EQ(all[i].count, 256u) << i;
  for (std::size_t i = 0; i < tail.size(); ++i) EXPECT_EQ(all[35 + i].count, tail[i]) << i;
  // A run too short for whole blocks starts in the tail; one of fewer trajectories than the
  // smallest piece is a single piece.
  EXPECT_EQ(BlockSchedule(600, 256, 2)[0].count, 128u);
  EXPECT_EQ(BlockSchedule(20, 256, 2).size(), 1u);
}

TEST(BlockSchedule, SummariesPiecedTogetherAreTheCascadeBitForBit) {
  constexpr std::size_t kCells = 2;
  const std::uint64_t n = 1000;
  std::vector<std::vector<double>> values(n);
  for (std::uint32_t j = 0; j < n; ++j) {
    RandomStream stream({5, j, 0, 0});
    values[j] = {1e6 + stream.uniform(), stream.uniform() - 0.5};
  }
  MomentCascade one_by_one(kCells);
  for (const auto& v : values) one_by_one.add(v);
  const Moments expected = one_by_one.finish();

  const BlockSchedule schedule(n, 64, 3);
  MomentCascade pieced(kCells);
  for (std::uint64_t i = 0; i < schedule.size(); ++i) {
    const auto [begin, count] = schedule[i];
    std::vector<double> block(kCells * count);  // [cell][trajectory in piece]
    for (std::size_t j = 0; j < count; ++j) {
      for (std::size_t c = 0; c < kCells; ++c) block[c * count + j] = values[begin + j][c];
    }
    for (auto& node : summarise_block(block, kCells, count, count)) pieced.push(std::move(node));
  }
  const Moments got = pieced.finish();
  ASSERT_EQ(got.count, n);
  for (std::size_t c = 0; c < kCells; ++c) {
    EXPECT_EQ(got.mean[c], expected.mean[c]) << c;
    EXPECT_EQ(got.m2[c], expected.m2[c]) << c;
  }
}

TEST(BlockSchedule, RejectsABlockNotAPowerOfTwoAndNoThreads) {
  EXPECT_THROW(BlockSchedule(10, 12, 1), std::invalid_argument);
  EXPECT_THROW(BlockSchedule(10, 16, 0), std::invalid_argument);
}

}  // namespace
}  // namespace carecast::engine
