// Tests of engine/lane_samplers.h and engine/philox_lanes.h: every lane equals, bit for bit, the
// scalar sampler (engine/samplers.h) at that lane's stream address, and the vectorised Philox
// equals Random123's.
#include "engine/lane_samplers.h"

#include <Random123/philox.h>
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "engine/philox_lanes.h"
#include "engine/random_stream.h"
#include "engine/samplers.h"

namespace carecast::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

StreamAddress lane_address(const LaneAddresses& address, std::size_t lane) {
  return {address.seed, address.trajectory[lane], address.site, address.month};
}

LaneAddresses random_address(std::mt19937_64& rng) {
  LaneAddresses address;
  address.seed = rng();
  for (auto& t : address.trajectory) t = static_cast<std::uint32_t>(rng());
  address.site = static_cast<std::uint32_t>(rng());
  address.month = static_cast<std::uint32_t>(rng() % 240);
  return address;
}

TEST(PhiloxLanes, EqualsRandom123) {
  std::mt19937_64 rng(1);
  for (int trial = 0; trial < 20000; ++trial) {
    PhiloxLaneWords counter;
    for (auto& word : counter) {
      for (auto& lane : word) lane = static_cast<std::uint32_t>(rng());
    }
    // Now and then the edge words.
    if (trial % 7 == 0) counter[trial % 4][trial % 8] = 0xffffffffu;
    if (trial % 11 == 0) counter[(trial + 1) % 4][(trial + 3) % 8] = 0;
    const auto key0 = static_cast<std::uint32_t>(rng());
    const auto key1 = trial % 13 == 0 ? 0xffffffffu : static_cast<std::uint32_t>(rng());
    PhiloxLaneWords out;
    philox4x32_lanes(counter, key0, key1, out);
    for (std::size_t l = 0; l < kPhiloxLanes; ++l) {
      const r123::Philox4x32::ctr_type c = {
          {counter[0][l], counter[1][l], counter[2][l], counter[3][l]}};
      const r123::Philox4x32::key_type k = {{key0, key1}};
      const auto expected = r123::Philox4x32()(c, k);
      for (std::size_t w = 0; w < 4; ++w) {
        ASSERT_EQ(out[w][l], expected.v[w]) << "trial " << trial << " lane " << l << " word " << w;
      }
    }
  }
}

// The lane samplers' form: counter words 0-2 shared by the lanes, word 3 per lane, the result in
// the low halves of 64-bit slots.
TEST(PhiloxLanes, WideEqualsRandom123) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 20000; ++trial) {
    std::array<std::uint32_t, 3> shared{};
    for (auto& word : shared) word = static_cast<std::uint32_t>(rng());
    std::array<std::uint32_t, kPhiloxLanes> c3{};
    for (auto& lane : c3) lane = static_cast<std::uint32_t>(rng());
    if (trial % 7 == 0) shared[trial % 3] = 0xffffffffu;
    if (trial % 11 == 0) shared[(trial + 1) % 3] = 0;
    if (trial % 5 == 0) c3[trial % 8] = trial % 10 == 0 ? 0 : 0xffffffffu;
    const auto key0 = trial % 17 == 0 ? 0u : static_cast<std::uint32_t>(rng());
    const auto key1 = trial % 13 == 0 ? 0xffffffffu : static_cast<std::uint32_t>(rng());
    const PhiloxWideBlock block =
        philox4x32_lanes_wide(shared[0], shared[1], shared[2], c3, key0, key1);
    for (std::size_t l = 0; l < kPhiloxLanes; ++l) {
      const r123::Philox4x32::ctr_type c = {{shared[0], shared[1], shared[2], c3[l]}};
      const r123::Philox4x32::key_type k = {{key0, key1}};
      const auto expected = r123::Philox4x32()(c, k);
      for (std::size_t w = 0; w < 4; ++w) {
        const auto slots = std::bit_cast<std::array<std::uint64_t, kPhiloxLanes>>(block[w]);
        ASSERT_EQ(static_cast<std::uint32_t>(slots[l]), expected.v[w])
            << "trial " << trial << " lane " << l << " word " << w;
      }
    }
  }
}

TEST(RandomStream, ResumeContinuesTheStream) {
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 1000; ++trial) {
    const StreamAddress address{rng(), static_cast<std::uint32_t>(rng()),
                                static_cast<std::uint32_t>(rng()),
                                static_cast<std::uint32_t>(rng())};
    const auto index = static_cast<std::uint32_t>(trial % 6);
    const int used = trial % 5;
    RandomStream stream(address);
    for (std::uint32_t i = 0; i < 4 * index; ++i) stream.bits32();
    std::array<std::uint32_t, 4> block{};
    for (auto& w : block) w = stream.bits32();
    RandomStream fresh(address);
    for (std::uint32_t i = 0; i < 4 * index + static_cast<std::uint32_t>(used); ++i) fresh.bits32();
    RandomStream resumed = RandomStream::resume(address, index, block, used);
    if (used > 0) {
      EXPECT_EQ(resumed.blocks_used(), fresh.blocks_used());
    }
    for (int i = 0; i < 20; ++i) ASSERT_EQ(resumed.bits32(), fresh.bits32());
  }
}

TEST(LaneSamplers, StandardNormalEqualsScalar) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 20000; ++trial) {
    const LaneAddresses address = random_address(rng);
    Lanes<double> out;
    sample_standard_normal_lanes(address, out);
    for (std::size_t l = 0; l < kLanes; ++l) {
      RandomStream stream(lane_address(address, l));
      ASSERT_EQ(out[l], sample_normal(stream, 0.0, 1.0)) << "trial " << trial << " lane " << l;
    }
  }
}

// What the scalar sampler gives at every lane's address.
Lanes<double> scalar_binomials(const LaneAddresses& address, const Lanes<double>& n,
                               const Lanes<const BinomialProbability*>& probability) {
  Lanes<double> out;
  for (std::size_t l = 0; l < kLanes; ++l) {
    if (n[l] == 0) {
      out[l] = 0;
      continue;
    }
    RandomStream stream(lane_address(address, l));
    out[l] = static_cast<double>(
        sample_binomial(stream, static_cast<std::int64_t>(n[l]), *probability[l]));
  }
  return out;
}

// Which of the sampler's paths a draw takes, to check that the grids reach all of them.
enum Path { kConstant, kInversionPower, kInversionExp, kBtrsFast, kBtrsSlow, kPaths };

Path path_of(const StreamAddress& address, double n, const BinomialProbability& probability) {
  const BinomialSetup setup =
      make_binomial_setup(static_cast<std::int64_t>(n), probability);
  switch (setup.method) {
    case BinomialSetup::Method::kConstant: return kConstant;
    case BinomialSetup::Method::kInversion: return n < 64 ? kInversionPower : kInversionExp;
    case BinomialSetup::Method::kBtrs: break;
  }
  RandomStream stream(address);
  return stream.uniform() <= setup.u_rv_r ? kBtrsFast : kBtrsSlow;
}

struct Tally {
  std::array<std::int64_t, kPaths> paths{};
  std::int64_t draws = 0;
};

// Every path of the sampler was taken more than 1000 times.
void expect_every_path_often(const Tally& tally) {
  for (int path = 0; path < kPaths; ++path) {
    EXPECT_GT(tally.paths[static_cast<std::size_t>(path)], 1000) << "path " << path;
  }
}

void expect_lanes_equal_scalar(const LaneAddresses& address, const Lanes<double>& n,
                               const Lanes<const BinomialProbability*>& probability,
                               Tally& tally) {
  Lanes<double> out;
  sample_binomial_lanes(address, n, probability, out);
  const Lanes<double> expected = scalar_binomials(address, n, probability);
  for (std::size_t l = 0; l < kLanes; ++l) {
    ASSERT_EQ(out[l], expected[l]) << "lane " << l << " n = " << n[l]
                                   << " p = " << (probability[l] ? probability[l]->p : kNaN) << " seed " << address.seed
                                   << " trajectory " << address.trajectory[l] << " site "
                                   << address.site << " month " << address.month;
    ++tally.paths[n[l] == 0 ? kConstant
                            : path_of(lane_address(address, l), n[l], *probability[l])];
    ++tally.draws;
  }
}

const std::vector<double>& grid_p() {
  static const std::vector<double> p = {0,    1e-12, 1e-6,  0.002, 0.02,   1.0 / 12, 0.1,
                                        0.2,  0.25,  0.3,   0.45,  0.4999, 0.5,      0.5001,
                                        0.55, 0.7,   0.9,   0.98,  0.998,  0.999,    1 - 1e-6,
                                        1};
  return p;
}

std::vector<BinomialProbability> grid_probabilities() {
  std::vector<BinomialProbability> probabilities;
  for (const double p : grid_p()) probabilities.push_back(make_binomial_probability(p));
  return probabilities;
}

// n for a given p: the small counts, both sides of the switch to BTRS (n p' = 40) and of the
// switch from products of powers to exp (n = 64), the inversion cap, and large counts.
std::vector<double> grid_n(double p) {
  std::vector<double> n = {0,   1,   2,    3,    5,     7,     10,    19,  20,  21,  39,
                           40,  41,  63,   64,   65,    99,    100,   101, 150, 159, 160,
                           161, 255, 319,  320,  321,   479,   480,   481, 1000, 4321, 20000,
                           100000};
  const double p_small = std::min(p, 1 - p);
  if (p_small > 0) {
    const double edge = std::floor(kBinomialBtrsThreshold / p_small);
    for (double d = -2; d <= 2; ++d) {
      if (edge + d >= 0 && edge + d <= 1e7) n.push_back(edge + d);
    }
  }
  return n;
}

TEST(LaneSamplers, BinomialEqualsScalarOnGrid) {
  std::mt19937_64 rng(4);
  std::vector<BinomialProbability> probabilities = grid_probabilities();
  Tally tally;
  for (std::size_t i = 0; i < probabilities.size(); ++i) {
    for (const double n : grid_n(probabilities[i].p)) {
      Lanes<double> counts;
      counts.fill(n);
      Lanes<const BinomialProbability*> shared;
      shared.fill(&probabilities[i]);
      for (int call = 0; call < 120; ++call) {
        expect_lanes_equal_scalar(random_address(rng), counts, shared, tally);
        if (HasFatalFailure()) return;
      }
    }
  }
  expect_every_path_often(tally);
}

// Every lane its own (n, p): methods mixed within one call, p shared by some lanes, n = 0 lanes
// with a null probability.
TEST(LaneSamplers, BinomialEqualsScalarWithMixedLanes) {
  std::mt19937_64 rng(5);
  std::vector<BinomialProbability> probabilities = grid_probabilities();
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int k = 0; k < 200; ++k) {
    // Random p, log-uniform over [1e-7, 1/2], half of them mirrored.
    const double p = std::exp(std::log(1e-7) * unit(rng)) * 0.5;
    probabilities.push_back(make_binomial_probability(k % 2 ? 1 - p : p));
  }
  Tally tally;
  for (int call = 0; call < 120000; ++call) {
    Lanes<double> n;
    Lanes<const BinomialProbability*> probability;
    for (std::size_t l = 0; l < kLanes; ++l) {
      const BinomialProbability& chosen = l > 0 && probability[l - 1] && rng() % 4 == 0
                                              ? *probability[l - 1]
                                              : probabilities[rng() % probabilities.size()];
      probability[l] = &chosen;
      const double p_small = std::min(chosen.p, 1 - chosen.p);
      switch (rng() % 6) {
        case 0: n[l] = static_cast<double>(rng() % 70); break;
        case 1: n[l] = static_cast<double>(rng() % 100001); break;
        case 2:  // near the switch to BTRS
          n[l] = p_small > 0 ? std::max(0.0, std::floor(kBinomialBtrsThreshold / p_small) +
                                                 static_cast<double>(rng() % 5) - 2)
                             : 50;
          n[l] = std::min(n[l], 0x1.0p53);
          break;
        case 3:  // n p' spread over [0, 100]
          n[l] = p_small > 0 ? std::min(0x1.0p53, std::floor(100 * unit(rng) / p_small)) : 7;
          break;
        case 4: n[l] = l > 0 ? n[l - 1] : 12; break;
        default: n[l] = 0; break;
      }
      if (n[l] == 0 && rng() % 2) probability[l] = nullptr;
    }
    expect_lanes_equal_scalar(random_address(rng), n, probability, tally);
    if (HasFatalFailure()) return;
  }
  expect_every_path_often(tally);
}

// Counts up to 2^53: inversion by exp with tiny p, BTRS with huge n p'.
TEST(LaneSamplers, BinomialEqualsScalarForHugeCounts) {
  std::mt19937_64 rng(6);
  const std::vector<double> ns = {0x1.0p53, 0x1.0p53 - 1, 0x1.0p52 + 1, 1e15, 123456789012.0,
                                  1e9};
  const std::vector<double> ps = {1e-16, 3e-15, 1e-12, 1e-6, 0.3, 0.5, 0.9, 1 - 1e-12};
  std::vector<BinomialProbability> probabilities;
  for (const double p : ps) probabilities.push_back(make_binomial_probability(p));
  Tally tally;
  for (int call = 0; call < 2000; ++call) {
    Lanes<double> n;
    Lanes<const BinomialProbability*> probability;
    for (std::size_t l = 0; l < kLanes; ++l) {
      n[l] = ns[rng() % ns.size()];
      probability[l] = &probabilities[rng() % probabilities.size()];
    }
    expect_lanes_equal_scalar(random_address(rng), n, probability, tally);
    if (HasFatalFailure()) return;
  }
}

// Same fields, bit for bit (operator== of doubles would equate 0.0 and -0.0).
bool same_probability(const BinomialProbability& a, const BinomialProbability& b) {
  const auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
  bool same = bits(a.p) == bits(b.p) && a.mirrored == b.mirrored &&
              bits(a.p_small) == bits(b.p_small) && bits(a.q) == bits(b.q) &&
              bits(a.r) == bits(b.r) && bits(a.log_q) == bits(b.log_q);
  for (std::size_t i = 0; i < a.q_powers.size(); ++i) {
    same = same && bits(a.q_powers[i]) == bits(b.q_powers[i]);
  }
  return same;
}

TEST(LaneSamplers, ProbabilitiesEqualScalar) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0), exponent(-50.0, -1.0);
  const double special[] = {0.0, 1.0, 0.5, 1e-300, 1.0 - 0x1p-53, 0x1p-53, 1.0 / 12.0};
  for (int i = 0; i < 20000; ++i) {
    Lanes<double> p;
    for (std::size_t l = 0; l < kLanes; ++l) {
      const auto kind = rng() % 4;
      p[l] = kind == 0   ? special[rng() % std::size(special)]
             : kind == 1 ? std::exp2(exponent(rng))
             : kind == 2 ? 1.0 - std::exp2(exponent(rng))
                         : unit(rng);
    }
    BinomialProbabilityLanes made;
    make_binomial_probability_lanes(p, made);
    for (std::size_t l = 0; l < kLanes; ++l) {
      ASSERT_TRUE(same_probability(made.lane(l), make_binomial_probability(p[l]))) << p[l];
    }
  }
}

TEST(LaneSamplers, ProbabilitiesRejectAnOutOfRangeP) {
  Lanes<double> p{};
  p.fill(0.25);
  BinomialProbabilityLanes made;
  for (const double bad : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    p[6] = bad;
    EXPECT_THROW(make_binomial_probability_lanes(p, made), std::invalid_argument) << bad;
  }
}

TEST(LaneSamplers, BinomialRejectsBadCounts) {
  const BinomialProbability probability = make_binomial_probability(0.3);
  Lanes<const BinomialProbability*> shared;
  shared.fill(&probability);
  for (const double bad : {-1.0, -0.0 - 1e-300, 0.5, 2.5, 0x1.0p53 + 2, 1e300, kInf, -kInf, kNaN}) {
    for (const std::size_t lane : {std::size_t{0}, std::size_t{5}}) {
      Lanes<double> n;
      n.fill(10);
      n[lane] = bad;
      Lanes<double> out;
      EXPECT_THROW(sample_binomial_lanes(LaneAddresses{}, n, shared, out), std::invalid_argument)
          << bad;
    }
  }
  // -0 is a count of 0.
  Lanes<double> n;
  n.fill(-0.0);
  Lanes<double> out;
  sample_binomial_lanes(LaneAddresses{}, n, shared, out);
  for (const double x : out) EXPECT_EQ(x, 0.0);
}

}  // namespace
}  // namespace carecast::engine
