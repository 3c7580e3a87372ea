// CareWf::simulate_logging: the log of a batch's draws replays exactly the draws the model made
// (the shocks and flows a DrawTape records for the same batch), and holds every draw the model
// makes: the sampling floor of bench/model_bench.cpp times that replay.
#include <gtest/gtest.h>

#include <vector>

#include "engine/draw_log.h"
#include "engine/lane_samplers.h"
#include "models/care_wf.h"
#include "tests/support/model_run.h"

namespace carecast {
namespace {

struct Batch {
  explicit Batch(const std::string& file)
      : document(testing::load_file(std::string(CARECAST_SOURCE_DIR) + file)),
        settings(engine::read_run_settings(document)),
        model(models::make_model(document, settings)),
        care_wf(dynamic_cast<const models::CareWf*>(model.get())),
        scratch(model->make_scratch()),
        out(model->layout().cells() * model->batch_size()),
        parameters(model->layout().scenarios.size() * model->layout().parameters.size() *
                   model->batch_size()) {}

  engine::BatchOutput output() { return engine::BatchOutput::contiguous(out, model->layout().cells()); }

  engine::ConfigDocument document;
  engine::RunSettings settings;
  std::unique_ptr<engine::Simulator> model;
  const models::CareWf* care_wf;
  std::unique_ptr<engine::SimulatorScratch> scratch;
  std::vector<double> out, parameters;
};

TEST(CareWfDrawLog, ReplaysTheDrawsOfTheBatch) {
  Batch b("/tests/data/tiny.toml");
  ASSERT_NE(b.care_wf, nullptr);
  ASSERT_EQ(b.settings.mode, engine::Mode::stochastic);
  const std::size_t lanes = b.model->batch_size();
  for (const std::uint32_t first : {0u, 8u, 1000u}) {
    models::DrawTape tape;
    b.care_wf->simulate_recording(b.settings.seed, first, lanes, *b.scratch, b.output(),
                                  b.parameters, tape);
    const std::vector<double> recorded = b.out;
    engine::DrawLog log;
    b.care_wf->simulate_logging(b.settings.seed, first, lanes, *b.scratch, b.output(),
                                b.parameters, log);
    EXPECT_EQ(b.out, recorded) << "logging changes nothing in the outputs";
    // The tape holds the shocks and flows as drawn; with every lane a trajectory, the replay
    // draws the very same values, in the same order.
    EXPECT_EQ(log.replay_variates(), tape.values) << "batch from " << first;
    EXPECT_EQ(log.binomials() + log.normals(), tape.values.size() / engine::kLanes);
  }
}

TEST(CareWfDrawLog, HoldsEveryDrawOfTheModel) {
  Batch b("/tests/data/tiny.toml");
  const auto& c = b.care_wf->config(0);
  const auto& layout = b.model->layout();
  engine::DrawLog log;
  b.care_wf->simulate_logging(b.settings.seed, 0, b.model->batch_size(), *b.scratch, b.output(),
                              b.parameters, log);
  const std::size_t months = static_cast<std::size_t>(layout.months);
  const std::size_t scenarios = layout.scenarios.size();
  // Four flows per region and provider a month, in every scenario.
  EXPECT_EQ(log.binomials(), scenarios * months * c.R() * c.P() * 4);
  // Each scenario's leaving and fill probabilities, per provider, every month.
  EXPECT_EQ(log.probability_makings(), scenarios * months * c.P() * 3);
  // Every uncertain parameter of every lane is drawn at least once.
  EXPECT_GE(log.parameters(), layout.parameters.size() * b.model->batch_size());
  EXPECT_GT(log.normals(), 0u);
}

TEST(CareWfDrawLog, RefusesASecondBatch) {
  Batch b("/tests/data/tiny.toml");
  engine::DrawLog log;
  b.care_wf->simulate_logging(b.settings.seed, 0, b.model->batch_size(), *b.scratch, b.output(),
                              b.parameters, log);
  EXPECT_THROW(b.care_wf->simulate_logging(b.settings.seed, 8, b.model->batch_size(), *b.scratch,
                                           b.output(), b.parameters, log),
               std::invalid_argument);
}

}  // namespace
}  // namespace carecast
