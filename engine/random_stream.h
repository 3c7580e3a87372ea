// Counter-based random streams: a variate is addressed, not passed along.
//
// Every uniform the engine hands out is a pure function of (seed, trajectory, draw site, month,
// index within the variate). A RandomStream is opened at one address and yields the uniforms of
// that variate in order; opening it again at the same address yields the same numbers, whatever
// thread, block or scenario asks. The generator is Random123's Philox4x32-10.
#pragma once

#include <Random123/philox.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace carecast::engine {

// Where a variate lives in the random-number space of a run.
struct StreamAddress {
  std::uint64_t seed = 0;
  std::uint32_t trajectory = 0;
  std::uint32_t site = 0;   // a draw site, numbered by the model
  std::uint32_t month = 0;  // or any second index the site needs
};

class RandomStream {
 public:
  explicit RandomStream(const StreamAddress& address)
      : key_{{static_cast<std::uint32_t>(address.seed),
              static_cast<std::uint32_t>(address.seed >> 32)}},
        counter_{{0u, address.month, address.site, address.trajectory}} {}

  // The stream at `address` as it stands after the first `used` words (0 to 4) of its block
  // number `index`: `block` must be the Philox block of counter {index, month, site, trajectory}
  // under the seed's key, as computed elsewhere (engine/philox_lanes.h computes it for several
  // streams at once). The lane samplers take the first words of each lane themselves and hand
  // the rest of a draw, when it needs more, to the scalar code through this.
  static RandomStream resume(const StreamAddress& address, std::uint32_t index,
                             const std::array<std::uint32_t, 4>& block, int used) {
    RandomStream stream(address);
    for (int i = 0; i < 4; ++i) stream.block_[i] = block[static_cast<std::size_t>(i)];
    stream.used_ = used;
    stream.counter_.v[0] = index + 1;
    return stream;
  }

  // 32 random bits.
  std::uint32_t bits32() {
    if (used_ == 4) refill();
    return block_[used_++];
  }

  // 64 random bits (two consecutive 32-bit words).
  std::uint64_t bits64() {
    const std::uint64_t hi = bits32();
    const std::uint64_t lo = bits32();
    return (hi << 32) | lo;
  }

  // A uniform double strictly inside (0, 1), on the grid (k + 0.5) / 2^52.
  double uniform() { return to_unit(bits64()); }

  // The map behind uniform(): the top 52 bits k give (k + 0.5) / 2^52, which needs at most 53
  // significant bits and so is exact: the smallest value is 2^-53 and the largest 1 - 2^-53.
  static double to_unit(std::uint64_t bits) {
    return (static_cast<double>(bits >> 12) + 0.5) * 0x1.0p-52;
  }

  // How many Philox blocks this stream has consumed (for tests and benchmarks).
  std::uint32_t blocks_used() const { return counter_.v[0]; }

 private:
  void refill() {
    const auto out = r123::Philox4x32()(counter_, key_);
    for (int i = 0; i < 4; ++i) block_[i] = out.v[i];
    ++counter_.v[0];
    used_ = 0;
  }

  r123::Philox4x32::key_type key_;
  r123::Philox4x32::ctr_type counter_;
  std::uint32_t block_[4] = {0, 0, 0, 0};
  int used_ = 4;
};

}  // namespace carecast::engine
