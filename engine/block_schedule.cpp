#include "engine/block_schedule.h"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace carecast::engine {

BlockSchedule::BlockSchedule(std::uint64_t trajectories, std::uint32_t block, int threads)
    : block_(block) {
  if (!std::has_single_bit(block)) {
    throw std::invalid_argument("BlockSchedule: the block must be a power of two");
  }
  if (threads < 1) throw std::invalid_argument("BlockSchedule: at least one thread");
  const std::uint64_t split = 2 * static_cast<std::uint64_t>(threads);
  // Whole blocks while at least `split` blocks remain after the piece starts.
  const std::uint64_t reserve = split * block;
  whole_ = trajectories > reserve ? (trajectories - reserve) / block : 0;
  const std::uint64_t smallest = std::min(kMinPiece, block);
  for (std::uint64_t begin = whole_ * block; begin < trajectories;) {
    const std::uint64_t remaining = trajectories - begin;
    // Non-increasing powers of two, starting from a multiple of the block: each begin is a
    // multiple of its piece's size.
    const std::uint64_t size =
        std::clamp<std::uint64_t>(std::bit_floor(remaining / split), smallest, block);
    const auto count = static_cast<std::uint32_t>(std::min(size, remaining));
    tail_.push_back({begin, count});
    begin += count;
  }
}

}  // namespace carecast::engine
