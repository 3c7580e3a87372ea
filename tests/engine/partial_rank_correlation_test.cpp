// Partial rank correlation on data whose structure is known.
#include "engine/partial_rank_correlation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/random_stream.h"
#include "engine/samplers.h"

namespace carecast::engine {
namespace {

constexpr std::size_t kN = 500;
constexpr std::size_t kK = 3;

// x1, x2, x3 uniform; y = 3 x1 - x2 + small noise; x3 has no effect.
struct Data {
  std::vector<double> x, y;
};
Data make_data(std::uint64_t seed) {
  Data d;
  for (std::uint32_t i = 0; i < kN; ++i) {
    RandomStream stream({seed, i, 0, 0});
    const double x1 = stream.uniform(), x2 = stream.uniform(), x3 = stream.uniform();
    d.x.insert(d.x.end(), {x1, x2, x3});
    d.y.push_back(3.0 * x1 - x2 + 0.1 * sample_normal(stream, 0.0, 1.0));
  }
  return d;
}

TEST(PartialRankCorrelation, FindsTheInputsThatMatter) {
  const Data d = make_data(1);
  const auto r = partial_rank_correlation(d.x, kK, d.y, 200, 0.9, 7);
  EXPECT_GT(r.prcc[0], 0.9);
  EXPECT_LT(r.prcc[1], -0.5);
  // Under no effect, PRCC is approximately normal with sd 1/sqrt(n - k - 1) = 0.045; five sd
  // (0.22) is crossed by chance with probability 6e-7.
  EXPECT_LT(std::abs(r.prcc[2]), 5.0 / std::sqrt(static_cast<double>(kN - kK - 1)));
  for (std::size_t j = 0; j < kK; ++j) {
    EXPECT_LE(r.low[j], r.prcc[j] + 0.05) << j;
    EXPECT_GE(r.high[j], r.prcc[j] - 0.05) << j;
    EXPECT_LT(r.low[j], r.high[j]) << j;
  }
  // The interval of the irrelevant input straddles zero; the others exclude it.
  EXPECT_LT(r.low[2], 0.0);
  EXPECT_GT(r.high[2], 0.0);
  EXPECT_GT(r.low[0], 0.0);
  EXPECT_LT(r.high[1], 0.0);
}

TEST(PartialRankCorrelation, IsRankBasedAndDeterministic) {
  const Data d = make_data(2);
  const auto a = partial_rank_correlation(d.x, kK, d.y, 50, 0.9, 7);
  std::vector<double> transformed;
  for (double y : d.y) transformed.push_back(std::exp(2.0 * y));  // monotone
  const auto b = partial_rank_correlation(d.x, kK, transformed, 50, 0.9, 7);
  EXPECT_EQ(a.prcc, b.prcc);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
}

TEST(PartialRankCorrelation, ConstantInputIsNaNAndBadShapesThrow) {
  Data d = make_data(3);
  for (std::size_t i = 0; i < kN; ++i) d.x[i * kK + 2] = 1.0;
  const auto r = partial_rank_correlation(d.x, kK, d.y, 10, 0.9, 7);
  EXPECT_TRUE(std::isnan(r.prcc[2]));
  EXPECT_GT(r.prcc[0], 0.9);
  EXPECT_THROW(partial_rank_correlation(std::span(d.x).first(15), kK, std::span(d.y).first(5), 10,
                                        0.9, 7),
               std::invalid_argument);
  const std::vector<double> flat(kN, 2.0);
  EXPECT_THROW(partial_rank_correlation(d.x, kK, flat, 10, 0.9, 7), std::invalid_argument);
}

}  // namespace
}  // namespace carecast::engine
