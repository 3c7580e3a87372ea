#include "engine/shared_sketches.h"

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace carecast::engine {
namespace {

constexpr int kSpinsBeforeYield = 256;

inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Releases a group's lock however its additions end (add_all throws for a value that is not
// finite, leaving the sketches it had not reached unchanged).
class Unlock {
 public:
  explicit Unlock(std::atomic<bool>& lock) : lock_(lock) {}
  Unlock(const Unlock&) = delete;
  Unlock& operator=(const Unlock&) = delete;
  ~Unlock() { lock_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool>& lock_;
};

}  // namespace

SharedSketches::SharedSketches(std::size_t cells, std::size_t group) : group_(group) {
  if (group == 0 || cells % group != 0) {
    throw std::invalid_argument(fmt::format(
        "SharedSketches: {} cells do not divide into groups of {}", cells, group));
  }
  sketches_.resize(cells);
  locks_ = std::make_unique<std::atomic<bool>[]>(cells / group);
  for (std::size_t g = 0; g < cells / group; ++g) locks_[g].store(false);
}

std::atomic<bool>& SharedSketches::lock_of(std::size_t first_cell) {
  if (first_cell % group_ != 0 || first_cell >= sketches_.size()) {
    throw std::invalid_argument(fmt::format(
        "SharedSketches: cell {} does not begin one of the groups of {} of {} cells", first_cell,
        group_, sketches_.size()));
  }
  return locks_[first_cell / group_];
}

void SharedSketches::add_locked(std::size_t first_cell, const double* rows, std::size_t stride,
                                std::size_t count) {
  for (std::size_t r = 0; r < group_; ++r) {
    sketches_[first_cell + r].add_all(std::span(rows + r * stride, count));
  }
}

bool SharedSketches::try_add(std::size_t first_cell, const double* rows, std::size_t stride,
                             std::size_t count) {
  std::atomic<bool>& lock = lock_of(first_cell);
  if (lock.load(std::memory_order_relaxed) || lock.exchange(true, std::memory_order_acquire)) {
    return false;
  }
  const Unlock unlock(lock);
  add_locked(first_cell, rows, stride, count);
  return true;
}

void SharedSketches::add(std::size_t first_cell, const double* rows, std::size_t stride,
                         std::size_t count) {
  std::atomic<bool>& lock = lock_of(first_cell);
  // Spins a little (a group's additions take microseconds), then yields: with more threads
  // than cores the holder may be waiting for this thread's core.
  while (lock.exchange(true, std::memory_order_acquire)) {
    for (int spins = 0; lock.load(std::memory_order_relaxed); ++spins) {
      if (spins < kSpinsBeforeYield) {
        pause();
      } else {
        std::this_thread::yield();
      }
    }
  }
  const Unlock unlock(lock);
  add_locked(first_cell, rows, stride, count);
}

}  // namespace carecast::engine
