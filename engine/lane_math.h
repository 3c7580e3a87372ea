// Elementary functions on lanes: engine/math_kernels.h applied to the kLanes values of a
// Lanes<double> with vector instructions, each lane bit for bit what the scalar kernel gives.
// For models that step trajectories in lanes and need exp or log of every lane's value.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/lane_samplers.h"
#include "engine/math_kernels.h"

namespace carecast::engine {

namespace lane_math_detail {
using D4 = double __attribute__((vector_size(32)));
using I4 = std::int64_t __attribute__((vector_size(32)));
static_assert(kLanes % 4 == 0);

// x = f(x), four lanes at a time.
template <typename F>
inline void apply(Lanes<double>& x, F f) {
  for (std::size_t i = 0; i < kLanes; i += 4) {
    D4 v;
    std::memcpy(&v, x.data() + i, sizeof v);
    v = f(v);
    std::memcpy(x.data() + i, &v, sizeof v);
  }
}

inline D4 clamp(D4 v, double bound) {
  v = v > bound ? D4{} + bound : v;
  return v < -bound ? D4{} - bound : v;
}
}  // namespace lane_math_detail

// x[l] = exp_kernel(x[l]); every x[l] in [-700, 700].
inline void exp_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](D4 v) { return exp_kernel<D4, I4>(v); });
}

// x[l] = log_kernel(x[l]); every x[l] positive, finite and normal.
inline void log_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](D4 v) { return log_kernel<D4, I4>(v); });
}

// x[l] = log1p_kernel(x[l]); every x[l] > -1.
inline void log1p_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](D4 v) { return log1p_kernel<D4, I4>(v); });
}

// x[l] = 1 / (1 + exp(-x[l])), the argument clamped into [-700, 700] (beyond, the result is 0
// or 1 to double precision anyway).
inline void logistic_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](D4 v) { return 1.0 / (1.0 + exp_kernel<D4, I4>(-clamp(v, 700.0))); });
}

}  // namespace carecast::engine
