// Samplers for lanes: the same variate drawn for kLanes trajectories at once.
//
// A model that steps kLanes trajectories together draws, at each of its draw sites, one variate
// per trajectory at the addresses {seed, trajectory[l], site, month}. The functions here return,
// lane by lane, exactly what the scalar samplers of engine/samplers.h return for a RandomStream
// opened at that address, bit for bit: batching trajectories into lanes never changes a result,
// so a run stays bit-identical whatever its lanes, blocks or threads. What they gain is speed:
// the Philox blocks of all lanes are generated together and the common paths of the samplers
// run on every lane at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/samplers.h"

namespace carecast::engine {

// Trajectories stepped together by a model that uses lanes.
inline constexpr std::size_t kLanes = 8;

template <typename T>
using Lanes = std::array<T, kLanes>;

// Where the variates of one draw site live, for every lane: lane l is the stream
// {seed, trajectory[l], site, month}.
struct LaneAddresses {
  std::uint64_t seed = 0;
  Lanes<std::uint32_t> trajectory{};
  std::uint32_t site = 0;
  std::uint32_t month = 0;
};

// out[l] = sample_normal(stream_l, 0, 1), stream_l opened at lane l's address.
void sample_standard_normal_lanes(const LaneAddresses& address, Lanes<double>& out);

// The p-dependent constants of a binomial (BinomialProbability) for every lane, field by field:
// lane l holds what make_binomial_probability(p[l]) makes. (mirrored is p > 1/2 and not kept.)
struct BinomialProbabilityLanes {
  Lanes<double> p{}, p_small{}, q{}, r{}, log_q{};
  std::array<Lanes<double>, 6> q_powers{};

  BinomialProbability lane(std::size_t l) const;
  void set(std::size_t l, const BinomialProbability& probability);
};

// out.lane(l) = make_binomial_probability(p[l]) for every lane l, bit for bit, made for all
// lanes at once. Throws as make_binomial_probability does for a p outside [0, 1].
void make_binomial_probability_lanes(const Lanes<double>& p, BinomialProbabilityLanes& out);

// out[l] = sample_binomial(stream_l, n[l], probability.lane(l)) for every lane l, with n[l] a
// whole number held in a double (care_wf keeps its counts in doubles). A lane with n[l] = 0
// consumes nothing and gives 0, so unused lanes cost little. Throws std::invalid_argument, as the
// scalar sampler would, for an n that is negative, fractional or above 2^53.
void sample_binomial_lanes(const LaneAddresses& address, const Lanes<double>& n,
                           const BinomialProbabilityLanes& probability, Lanes<double>& out);

// The same with each lane's probability given by pointer (null allowed where n[l] = 0).
void sample_binomial_lanes(const LaneAddresses& address, const Lanes<double>& n,
                           const Lanes<const BinomialProbability*>& probability,
                           Lanes<double>& out);

}  // namespace carecast::engine
