// Buffers started on a cache line: the runner's month buffer (and the benchmark that stands in
// for it), where a full batch of lanes writes one line per cell.
#pragma once

#include <cstddef>
#include <cstdint>

namespace carecast::engine {

inline constexpr std::size_t kCacheLineBytes = 64;
// Doubles to allocate beyond a buffer's size so that it can start on the next line boundary.
inline constexpr std::size_t kCacheLineDoubles = kCacheLineBytes / sizeof(double);

// The first cache-line boundary at or after p.
template <typename T>
T* align_to_line(T* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  return reinterpret_cast<T*>((address + kCacheLineBytes - 1) / kCacheLineBytes *
                              kCacheLineBytes);
}

}  // namespace carecast::engine
