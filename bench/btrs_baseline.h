// The BASELINE binomial sampler that the engine's sampler is measured against: a plain, scalar,
// textbook implementation, the one a careful programmer would write from the paper.
//
//   * n p' < 10 (p' = min(p, 1 - p)): sequential inversion from 0 (Kachitvichyanukul & Schmeiser
//     1988, BINV), one uniform, restarted if the search runs past its bound.
//   * n p' >= 10: Hörmann (1993), algorithm BTRS ("The generation of binomial random variates",
//     J. Statist. Comput. Simul. 46), exactly as published: two uniforms per attempt, the squeeze
//     us >= 0.07 && v <= v_r, otherwise the log-density test with log-factorials from std::lgamma.
//   * The whole setup (sqrt, log, lgamma, pow) is redone on every call, as a per-draw call
//     `binomial(n, p)` does when n and p change from draw to draw (as they do in care_wf).
//
// It takes its uniforms from any callable returning doubles in (0, 1); the benchmarks pass it the
// engine's own Philox streams, so that the comparison is between samplers, not generators.
// Header-only; used by bench/sampling_bench.cpp and checked by tests/engine/btrs_baseline_test.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace carecast::bench {

namespace btrs_detail {

// Sequential inversion for p <= 1/2 and n p < 10.
template <typename Uniform>
std::int64_t inversion(Uniform& uniform, std::int64_t n, double p) {
  const double q = 1.0 - p;
  const double s = p / q;
  const double a = static_cast<double>(n + 1) * s;
  const double r0 = std::pow(q, static_cast<double>(n));
  // n p < 10, so P(X > 110) is far below the resolution of a double uniform.
  const std::int64_t bound = std::min<std::int64_t>(n, 110);
  for (;;) {
    double u = uniform();
    double r = r0;
    std::int64_t x = 0;
    while (u > r) {
      u -= r;
      ++x;
      if (x > bound) break;
      r *= a / static_cast<double>(x) - s;
    }
    if (x <= bound) return x;
  }
}

// Hörmann's BTRS for p <= 1/2 and n p >= 10.
template <typename Uniform>
std::int64_t btrs(Uniform& uniform, std::int64_t n, double p) {
  const double nd = static_cast<double>(n);
  const double q = 1.0 - p;
  const double spq = std::sqrt(nd * p * q);
  const double b = 1.15 + 2.53 * spq;
  const double a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = nd * p + 0.5;
  const double alpha = (2.83 + 5.1 / b) * spq;
  const double v_r = 0.92 - 4.2 / b;
  const double lpq = std::log(p / q);
  const double m = std::floor((nd + 1.0) * p);
  const double h = std::lgamma(m + 1.0) + std::lgamma(nd - m + 1.0);
  for (;;) {
    const double u = uniform() - 0.5;
    double v = uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2.0 * a / us + b) * u + c);
    if (us >= 0.07 && v <= v_r) return static_cast<std::int64_t>(k);
    if (k < 0.0 || k > nd) continue;
    v = std::log(v * alpha / (a / (us * us) + b));
    if (v <= h - std::lgamma(k + 1.0) - std::lgamma(nd - k + 1.0) + (k - m) * lpq) {
      return static_cast<std::int64_t>(k);
    }
  }
}

}  // namespace btrs_detail

// One binomial(n, p) variate, n >= 0, p in [0, 1] (not checked: a baseline, not a library).
template <typename Uniform>
std::int64_t btrs_binomial(Uniform& uniform, std::int64_t n, double p) {
  if (n <= 0 || p <= 0.0) return 0;
  if (p >= 1.0) return n;
  const bool mirrored = p > 0.5;
  const double p_small = mirrored ? 1.0 - p : p;
  const std::int64_t x = static_cast<double>(n) * p_small < 10.0
                             ? btrs_detail::inversion(uniform, n, p_small)
                             : btrs_detail::btrs(uniform, n, p_small);
  return mirrored ? n - x : x;
}

}  // namespace carecast::bench
