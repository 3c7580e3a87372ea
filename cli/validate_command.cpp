#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/config_loading.h"
#include "models/model_factory.h"

namespace carecast::cli {

int validate_command(const std::string& config) {
  try {
    const auto document = load_config(config);
    const auto settings = engine::read_run_settings(document);
    const auto model = models::make_model(document, settings);
    const auto& layout = model->layout();
    fmt::print("{}: ok (model {}, {} regions, {} scenarios, {} months from {}, {} trajectories, "
               "{} mode)\n",
               config, settings.model, layout.regions.size() - 1, layout.scenarios.size(),
               settings.months, settings.start.to_string(), settings.trajectories,
               engine::to_string(settings.mode));
    return kOk;
  } catch (const engine::ConfigError& e) {
    fmt::print(stderr, "carecast: error: {}\n", e.what());
    return kBadInput;
  }
}

}  // namespace carecast::cli
