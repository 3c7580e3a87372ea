// A record of the draws a model made through the lane samplers, with their inputs, and their
// replay: the sampling that a model's trajectories need, made again without the model.
//
// A model that logs its draws (care_wf: CareWf::simulate_logging) calls the hooks below as it
// draws: every per-trajectory parameter draw, every making of binomial probabilities for the
// lanes, every binomial and every normal shock, each with its stream address and its inputs
// (the counts n, the probabilities p). replay() then makes the same calls in the same order,
// with the same inputs at the same addresses, so it draws the same variates and does the same
// sampling work, and nothing else: timed, it is the sampling floor of those trajectories
// (bench/model_bench.cpp, CareWf/baseline/draws). Its only extra work is reading the log (80
// bytes a call, in order). One log holds the draws of one batch of lanes: every call has the
// same seed and the same trajectory in each lane.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/distribution.h"
#include "engine/lane_samplers.h"
#include "engine/random_stream.h"

namespace carecast::engine {

class DrawLog {
 public:
  // A parameter drawn as d.draw(RandomStream(address)) (any address).
  void parameter(const Distribution& d, const StreamAddress& address);
  // make_binomial_probability_lanes(p, *target).
  void probabilities(const Lanes<double>& p, const BinomialProbabilityLanes* target);
  // sample_binomial_lanes(address, n, probability, out). A probability object not made through
  // probabilities() since the log began is taken as it is now, as made beforehand.
  void binomial(const LaneAddresses& address, const Lanes<double>& n,
                const BinomialProbabilityLanes& probability);
  // sample_standard_normal_lanes(address, out).
  void normal(const LaneAddresses& address);
  // binomial() and normal() throw std::invalid_argument for an address whose seed or
  // trajectories differ from those of the log's first such call.

  std::size_t parameters() const { return parameters_.size(); }
  std::size_t binomials() const { return count(Kind::binomial); }
  std::size_t normals() const { return count(Kind::normal); }
  std::size_t probability_makings() const { return count(Kind::probabilities); }

  // Makes every call again, in order, and returns the sum of every variate drawn (which the
  // recording run drew too).
  double replay() const;
  // The same, returning each lane's variate of every binomial and normal call, in order.
  std::vector<double> replay_variates() const;

 private:
  enum class Kind : std::uint8_t { parameter, probabilities, binomial, normal };
  struct Call {
    Kind kind;
    std::uint32_t index;  // parameter: into parameters_; otherwise a probability slot
    std::uint32_t site, month;
    Lanes<double> lanes;  // n, or p
  };
  std::size_t count(Kind kind) const;
  // Replays every call, passing use() each parameter (a double) and each binomial or normal
  // call's variates (a Lanes<double>).
  template <typename Use>
  void run(Use&& use) const;
  std::uint32_t slot_of(const BinomialProbabilityLanes* target);
  void check_batch(const LaneAddresses& address);

  std::vector<Call> calls_;
  bool batch_known_ = false;
  LaneAddresses batch_;  // the seed and trajectories of every lane call
  std::vector<std::pair<Distribution, StreamAddress>> parameters_;
  // Probability slots: where the recording run kept each, and what it held when first seen.
  std::vector<const BinomialProbabilityLanes*> targets_;
  std::vector<BinomialProbabilityLanes> initial_;
};

}  // namespace carecast::engine
