// Elementary functions on lanes: engine/math_kernels.h applied to the kLanes values of a
// Lanes<double> with vector instructions, each lane bit for bit what the scalar kernel gives.
// For models that step trajectories in lanes and need exp, log or the normal quantile of every
// lane's value.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/lane_samplers.h"
#include "engine/math_kernels.h"
#include "engine/normal_quantile.h"

namespace carecast::engine {

namespace lane_math_detail {
// Lanes taken together: 8 in one AVX-512 register where there is one, else 4 (one AVX register;
// gcc lowers a 64-byte vector without AVX-512 largely element by element), as in
// lane_samplers.cpp. It matches gcc's own vectorised loops over a Lanes<double> (64-byte with
// -march=native on Zen 4), which write the arrays read here: one 64-byte store read back as two
// 32-byte loads would stall on store forwarding.
#if defined(__AVX512F__)
using DV = double __attribute__((vector_size(64)));
using IV = std::int64_t __attribute__((vector_size(64)));
#else
using DV = double __attribute__((vector_size(32)));
using IV = std::int64_t __attribute__((vector_size(32)));
#endif
constexpr std::size_t kWidth = sizeof(DV) / sizeof(double);
static_assert(kLanes % kWidth == 0);

// x = f(x), kWidth lanes at a time.
template <typename F>
inline void apply(Lanes<double>& x, F f) {
  for (std::size_t i = 0; i < kLanes; i += kWidth) {
    DV v;
    std::memcpy(&v, x.data() + i, sizeof v);
    v = f(v);
    std::memcpy(x.data() + i, &v, sizeof v);
  }
}

inline DV clamp(DV v, double bound) {
  v = v > bound ? DV{} + bound : v;
  return v < -bound ? DV{} - bound : v;
}
}  // namespace lane_math_detail

// x[l] = exp_kernel(x[l]); every x[l] in [-700, 700].
inline void exp_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](DV v) { return exp_kernel<DV, IV>(v); });
}

// x[l] = log_kernel(x[l]); every x[l] positive, finite and normal.
inline void log_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](DV v) { return log_kernel<DV, IV>(v); });
}

// x[l] = log1p_kernel(x[l]); every x[l] > -1.
inline void log1p_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](DV v) { return log1p_kernel<DV, IV>(v); });
}

// x[l] = normal_quantile_kernel(x[l]); every x[l] in [0, 1].
inline void normal_quantile_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](DV v) { return normal_quantile_kernel<DV, IV>(v); });
}

// x[l] = 1 / (1 + exp(-x[l])), the argument clamped into [-700, 700] (beyond, the result is 0
// or 1 to double precision anyway).
inline void logistic_lanes(Lanes<double>& x) {
  using namespace lane_math_detail;
  apply(x, [](DV v) { return 1.0 / (1.0 + exp_kernel<DV, IV>(-clamp(v, 700.0))); });
}

}  // namespace carecast::engine
