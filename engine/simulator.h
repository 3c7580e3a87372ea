// The interface between the engine and a model.
//
// A model turns one trajectory index into that trajectory's outputs for every scenario. It draws
// its random numbers from RandomStreams addressed by (seed, trajectory, site, month), so the
// result depends on nothing but the index: the engine may run trajectories in any order, on any
// thread, in any block. The model never sees threads, blocks or files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace carecast::engine {

// The axes of one trajectory's output: out[scenario][variable][month][region].
struct OutputLayout {
  std::vector<std::string> scenarios;
  std::vector<std::string> variables;
  std::vector<std::string> regions;  // including any aggregate region (e.g. "Total")
  std::vector<std::string> parameters;  // uncertain parameters drawn per trajectory
  int months = 0;

  // Per variable: units ("hours per month"), a name in words, and which direction is better
  // for a scenario compared with the base: +1 higher, -1 lower, 0 neither.
  std::vector<std::string> units;
  std::vector<std::string> long_names;
  std::vector<int> better;

  std::size_t cells_per_scenario() const {
    return variables.size() * static_cast<std::size_t>(months) * regions.size();
  }
  std::size_t cells() const { return scenarios.size() * cells_per_scenario(); }
  std::size_t index(std::size_t scenario, std::size_t variable, std::size_t month,
                    std::size_t region) const {
    return ((scenario * variables.size() + variable) * static_cast<std::size_t>(months) + month) *
               regions.size() +
           region;
  }
};

// Per-thread working memory a model may keep between trajectories.
class SimulatorScratch {
 public:
  virtual ~SimulatorScratch() = default;
};

class Simulator {
 public:
  virtual ~Simulator() = default;

  virtual const OutputLayout& layout() const = 0;
  virtual std::unique_ptr<SimulatorScratch> make_scratch() const = 0;

  // Simulates one trajectory for every scenario. `out` has layout().cells() values laid out as
  // OutputLayout::index; `parameters` has scenarios.size() * parameters.size() values
  // ([scenario][parameter]) and receives the values this trajectory used.
  void simulate(std::uint64_t seed, std::uint32_t trajectory, SimulatorScratch& scratch,
                std::span<double> out, std::span<double> parameters) const {
    simulate_given(seed, trajectory, scratch, out, parameters, {});
  }

  // The same with some parameter values given by the caller (e.g. a sensitivity-analysis
  // design): `given` is empty (draw everything) or has one value per entry of `parameters`, of
  // which those that are not NaN are used instead of drawing.
  virtual void simulate_given(std::uint64_t seed, std::uint32_t trajectory,
                              SimulatorScratch& scratch, std::span<double> out,
                              std::span<double> parameters,
                              std::span<const double> given) const = 0;

  // How many trajectories simulate_batch() steps together at best (a model's lanes); 1 for a
  // model that runs one trajectory at a time.
  virtual std::size_t batch_size() const { return 1; }

  // Simulates trajectories first, first + 1, ..., first + count - 1, 1 <= count <= batch_size().
  // `out`, `parameters` and `given` hold count trajectories one after the other, each laid out
  // as for simulate_given() (`given` may be empty). Every trajectory's outputs and parameters are
  // bit for bit those that simulate_given() gives it alone: batching is only a way to go faster.
  virtual void simulate_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                              SimulatorScratch& scratch, std::span<double> out,
                              std::span<double> parameters, std::span<const double> given) const {
    const std::size_t cells = layout().cells();
    const std::size_t values = parameters.size() / count;
    for (std::size_t j = 0; j < count; ++j) {
      simulate_given(seed, first + static_cast<std::uint32_t>(j), scratch,
                     out.subspan(j * cells, cells), parameters.subspan(j * values, values),
                     given.empty() ? given : given.subspan(j * values, values));
    }
  }
};

}  // namespace carecast::engine
