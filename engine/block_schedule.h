// The pieces a run cuts its trajectories into, in the order threads take them.
//
// Most pieces are whole blocks. The last few blocks' worth are cut smaller, so that the threads
// finish together: with whole blocks to the end, a thread may start the last block just as the
// others run out of work, and the run waits for one block on one thread (at 10^4 trajectories
// and blocks of 256 on 2 threads, about 4% of the run). Piece i covers trajectories
// [begin, begin + count); the pieces tile [0, n) in order. Every piece's size (its count, but
// for the last piece of the run, which may be shorter) is a power of two no larger than the
// block, and its begin is a multiple of that size, so that it is one subtree of MomentCascade's
// fixed binary tree: the run's summaries do not depend on how the trajectories were cut.
//
// The rule: piece sizes never grow; a piece is a whole block while at least 2 * threads blocks
// remain after it starts, then the largest power of two not above remaining / (2 * threads),
// but at least min(kMinPiece, block). So about half the remaining work is always in pieces
// that no single thread can hold up for long.
#pragma once

#include <cstdint>
#include <vector>

namespace carecast::engine {

class BlockSchedule {
 public:
  struct Piece {
    std::uint64_t begin = 0;
    std::uint32_t count = 0;
  };

  // The smallest piece the tail is cut to (unless the block is smaller): a few model batches,
  // large enough that summarising its values per cell costs little more than a block's.
  static constexpr std::uint32_t kMinPiece = 32;

  // `block` must be a power of two, `threads` at least 1.
  BlockSchedule(std::uint64_t trajectories, std::uint32_t block, int threads);

  std::uint64_t size() const { return whole_ + tail_.size(); }
  Piece operator[](std::uint64_t i) const {
    return i < whole_ ? Piece{i * block_, block_} : tail_[i - whole_];
  }

 private:
  std::uint32_t block_;
  std::uint64_t whole_;      // pieces 0 .. whole_ - 1: whole blocks
  std::vector<Piece> tail_;  // then these
};

}  // namespace carecast::engine
