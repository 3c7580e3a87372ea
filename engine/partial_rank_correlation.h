// Partial rank correlation coefficients (PRCC) of inputs with an output, with bootstrap
// intervals: how strongly each uncertain input drives the output once the others are held
// fixed, robust to monotone non-linearity (Marino et al. 2008, "A methodology for performing
// global uncertainty and sensitivity analysis in systems biology").
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace carecast::engine {

struct PrccResult {
  std::vector<double> prcc;  // per input; NaN for an input that does not vary
  std::vector<double> low;   // bootstrap percentile interval
  std::vector<double> high;
};

// inputs is row-major [n][k]; output has n values. Ranks use the average for ties. PRCC_j is
// -P(j, y) / sqrt(P(j, j) P(y, y)), P the inverse of the rank correlation matrix of the varying
// inputs and the output. The interval holds `interval` (e.g. 0.9) of `bootstrap` resamples of the
// rows, drawn from RandomStream addresses (seed, resample, 0, 0): deterministic.
// Throws std::invalid_argument when n < k + 3 or the output does not vary.
PrccResult partial_rank_correlation(std::span<const double> inputs, std::size_t k,
                                    std::span<const double> output, int bootstrap,
                                    double interval, std::uint64_t seed);

}  // namespace carecast::engine
