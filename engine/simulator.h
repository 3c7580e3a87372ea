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
  // The cells of one month, numbered month_index(scenario, variable, region): what
  // Simulator::step() writes.
  std::size_t cells_per_month() const {
    return scenarios.size() * variables.size() * regions.size();
  }
  std::size_t month_index(std::size_t scenario, std::size_t variable, std::size_t region) const {
    return (scenario * variables.size() + variable) * regions.size() + region;
  }
  std::size_t index(std::size_t scenario, std::size_t variable, std::size_t month,
                    std::size_t region) const {
    return ((scenario * variables.size() + variable) * static_cast<std::size_t>(months) + month) *
               regions.size() +
           region;
  }
};

// Where simulate_batch() writes: cell c (in OutputLayout::index order) of the batch's j-th
// trajectory is data[j * trajectory_stride + c * cell_stride]. Trajectories one after the other
// (as simulate_given() writes one) is contiguous(); the runner asks for the transpose, each
// cell's values of a block side by side, so that it can summarise a cell from one row.
struct BatchOutput {
  double* data = nullptr;
  std::size_t cell_stride = 1;
  std::size_t trajectory_stride = 0;

  double& at(std::size_t trajectory, std::size_t cell) const {
    return data[trajectory * trajectory_stride + cell * cell_stride];
  }
  // `out` holds the batch's trajectories one after the other, `cells` values each.
  static BatchOutput contiguous(std::span<double> out, std::size_t cells) {
    return {out.data(), 1, cells};
  }
};

// Per-thread working memory a model may keep between trajectories.
class SimulatorScratch {
 public:
  virtual ~SimulatorScratch() = default;
};

// Where a batch stepped month by month stands (see Simulator::begin_batch).
class BatchState {
 public:
  virtual ~BatchState() = default;
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

  // Simulates trajectories first, first + 1, ..., first + count - 1, 1 <= count <= batch_size(),
  // writing the j-th one's outputs through `out` (see BatchOutput). `parameters` and `given` hold
  // count trajectories one after the other, each laid out as for simulate_given() (`given` may
  // be empty). Every trajectory's outputs and parameters are bit for bit those that
  // simulate_given() gives it alone: batching is only a way to go faster.
  virtual void simulate_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                              SimulatorScratch& scratch, const BatchOutput& out,
                              std::span<double> parameters, std::span<const double> given) const {
    const std::size_t cells = layout().cells();
    const std::size_t values = parameters.size() / count;
    std::vector<double> one(cells);
    for (std::size_t j = 0; j < count; ++j) {
      simulate_given(seed, first + static_cast<std::uint32_t>(j), scratch, one,
                     parameters.subspan(j * values, values),
                     given.empty() ? given : given.subspan(j * values, values));
      for (std::size_t c = 0; c < cells; ++c) out.at(j, c) = one[c];
    }
  }

  // The same batch a month at a time, so that a caller can summarise each month while its
  // outputs are still in the cache: begin_batch() takes simulate_batch()'s arguments but the
  // output, draws the parameters into `parameters` and sets `state` at the start of month 0; then
  // step() for t = 0, 1, ..., months - 1 in turn runs month t of every scenario and writes cell
  // month_index(scenario, variable, region) of month t of the j-th trajectory to out.at(j, cell).
  // The outputs are bit for bit simulate_batch()'s. A `state` comes from make_batch_state() and
  // may be reused for any number of batches, one at a time; `scratch` may be shared by batches
  // stepped in turn. These defaults run the whole batch in begin_batch() and hand out its months
  // from there; a model that keeps its state between months overrides all three.
  virtual std::unique_ptr<BatchState> make_batch_state() const;
  virtual void begin_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                           SimulatorScratch& scratch, BatchState& state,
                           std::span<double> parameters, std::span<const double> given) const;
  virtual void step(SimulatorScratch& scratch, BatchState& state, int month,
                    const BatchOutput& out) const;
};

}  // namespace carecast::engine
