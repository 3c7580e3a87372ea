// An allocator whose containers leave new elements default-initialised: a std::vector<float>
// sized with it holds indeterminate floats instead of zeros. For large arrays every element of
// which is written afterwards (a run's saved trajectories, tens of MB): zeroing them first would
// be a serial pass, page faults and all, before any thread starts, whereas unwritten pages are
// first touched by the threads that fill them.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace carecast::engine {

template <class T>
class DefaultInitAllocator : public std::allocator<T> {
 public:
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };

  DefaultInitAllocator() = default;
  // Converting, as std::allocator's is (containers rebind their allocator).
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>& /*other*/) noexcept {}  // NOLINT

  // Value-less construction (resize, the size constructor) default-initialises.
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// A vector whose resize and size constructor leave the new elements unwritten.
template <class T>
using UninitializedVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace carecast::engine
