#include "engine/simulator.h"

#include <stdexcept>

namespace carecast::engine {

namespace {

// The default stepping: the whole batch's outputs, [cell][trajectory in batch].
struct WholeBatch final : BatchState {
  std::vector<double> outputs;
  std::size_t count = 0;
};

}  // namespace

std::unique_ptr<BatchState> Simulator::make_batch_state() const {
  return std::make_unique<WholeBatch>();
}

void Simulator::begin_batch(std::uint64_t seed, std::uint32_t first, std::size_t count,
                            SimulatorScratch& scratch, BatchState& state,
                            std::span<double> parameters, std::span<const double> given) const {
  auto& whole = dynamic_cast<WholeBatch&>(state);
  const std::size_t batch = batch_size();
  whole.outputs.resize(layout().cells() * batch);
  whole.count = count;
  simulate_batch(seed, first, count, scratch, BatchOutput{whole.outputs.data(), batch, 1},
                 parameters, given);
}

void Simulator::step(SimulatorScratch&, BatchState& state, int month,
                     const BatchOutput& out) const {
  const auto& whole = dynamic_cast<const WholeBatch&>(state);
  const OutputLayout& l = layout();
  if (month < 0 || month >= l.months) throw std::out_of_range("Simulator::step: no such month");
  const std::size_t batch = batch_size();
  for (std::size_t s = 0; s < l.scenarios.size(); ++s) {
    for (std::size_t v = 0; v < l.variables.size(); ++v) {
      for (std::size_t r = 0; r < l.regions.size(); ++r) {
        const double* from =
            whole.outputs.data() + l.index(s, v, static_cast<std::size_t>(month), r) * batch;
        const std::size_t cell = l.month_index(s, v, r);
        for (std::size_t j = 0; j < whole.count; ++j) out.at(j, cell) = from[j];
      }
    }
  }
}

}  // namespace carecast::engine
