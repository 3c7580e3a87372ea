// Test helpers: load a configuration (over the built-in defaults) and run it in memory.
#pragma once

#include <string>
#include <vector>

#include "engine/config_document.h"
#include "engine/run_result.h"
#include "engine/run_settings.h"
#include "engine/runner.h"
#include "models/defaults.h"
#include "models/model_factory.h"

namespace carecast::testing {

inline engine::ConfigDocument load_file(const std::string& path) {
  return engine::ConfigDocument::load(path, models::default_config_text(),
                                      std::string(models::default_config_name()));
}

inline engine::ConfigDocument parse_text(const std::string& text) {
  return engine::ConfigDocument::parse(text, "test.toml", models::default_config_text(),
                                       std::string(models::default_config_name()));
}

// Runs every scenario of `document` with the runner; options other than the ones given come
// from the document.
inline engine::RunResult run_document(const engine::ConfigDocument& document, int threads = 1,
                                      std::uint32_t block_size = 16) {
  const auto settings = engine::read_run_settings(document);
  const auto model = models::make_model(document, settings);
  engine::RunnerOptions options;
  options.seed = settings.seed;
  options.trajectories = settings.mode == engine::Mode::expected ? 1 : settings.trajectories;
  options.threads = threads;
  options.block_size = block_size;
  options.quantiles = settings.quantiles;
  options.save_trajectories = settings.save_trajectories;
  return engine::run(*model, options);
}

inline std::size_t index_of(const std::vector<std::string>& names, const std::string& name) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i;
  }
  return names.size();
}

}  // namespace carecast::testing
