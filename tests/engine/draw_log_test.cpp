// engine::DrawLog: a replay makes the logged calls again, with their inputs at their addresses,
// so it draws what the calls drew; probabilities are remade where they were, and a probability
// object the log never saw made is replayed as it was when first used.
#include "engine/draw_log.h"

#include <gtest/gtest.h>

#include <vector>

namespace carecast::engine {
namespace {

LaneAddresses batch(std::uint64_t seed) {
  LaneAddresses address;
  address.seed = seed;
  for (std::size_t l = 0; l < kLanes; ++l) address.trajectory[l] = 40 + static_cast<std::uint32_t>(l);
  return address;
}

TEST(DrawLog, ReplayDrawsWhatTheCallsDrew) {
  LaneAddresses address = batch(2026);
  Lanes<double> p0{}, p1{}, n{}, out{};
  for (std::size_t l = 0; l < kLanes; ++l) {
    p0[l] = 0.01 * static_cast<double>(l + 1);
    p1[l] = 0.9 - 0.05 * static_cast<double>(l);
    n[l] = static_cast<double>(100 * l);
  }
  BinomialProbabilityLanes made, before;
  make_binomial_probability_lanes(p1, before);  // made before the log begins
  DrawLog log;
  std::vector<double> drawn;
  const auto keep = [&] { drawn.insert(drawn.end(), out.begin(), out.end()); };

  const Distribution d = Distribution::normal(3.0, 0.5);
  const StreamAddress parameter_address{2026, 41, 7, 0};
  log.parameter(d, parameter_address);
  RandomStream parameter_stream(parameter_address);
  const double parameter = d.draw(parameter_stream);

  for (std::uint32_t month = 0; month < 3; ++month) {
    address.month = month;
    make_binomial_probability_lanes(month == 1 ? p1 : p0, made);
    log.probabilities(month == 1 ? p1 : p0, &made);
    for (std::uint32_t site = 0; site < 4; ++site) {
      address.site = 100 + site;
      const BinomialProbabilityLanes& probability = site % 2 == 0 ? made : before;
      sample_binomial_lanes(address, n, probability, out);
      log.binomial(address, n, probability);
      keep();
    }
    address.site = 5;
    sample_standard_normal_lanes(address, out);
    log.normal(address);
    keep();
  }
  EXPECT_EQ(log.parameters(), 1u);
  EXPECT_EQ(log.probability_makings(), 3u);
  EXPECT_EQ(log.binomials(), 12u);
  EXPECT_EQ(log.normals(), 3u);
  EXPECT_EQ(log.replay_variates(), drawn);
  double sum = parameter;
  for (const double x : drawn) sum += x;
  EXPECT_EQ(log.replay(), sum);
  EXPECT_EQ(log.replay(), sum) << "a replay leaves the log as it was";
}

TEST(DrawLog, HoldsOneBatch) {
  DrawLog log;
  log.normal(batch(1));
  EXPECT_THROW(log.normal(batch(2)), std::invalid_argument);
  LaneAddresses other = batch(1);
  other.trajectory[3] += 1;
  EXPECT_THROW(log.normal(other), std::invalid_argument);
  LaneAddresses elsewhere = batch(1);
  elsewhere.site = 9;
  elsewhere.month = 4;
  EXPECT_NO_THROW(log.normal(elsewhere));
  EXPECT_EQ(log.normals(), 2u);
}

}  // namespace
}  // namespace carecast::engine
