// Builds the model a configuration names (run.model).
#pragma once

#include <memory>

#include "engine/config_document.h"
#include "engine/run_settings.h"
#include "engine/simulator.h"

namespace carecast::models {

// Reads every scenario of `document` for the model `settings.model` and builds it.
// Throws engine::ConfigError for an unknown model or a bad configuration.
std::unique_ptr<engine::Simulator> make_model(const engine::ConfigDocument& document,
                                              const engine::RunSettings& settings);

}  // namespace carecast::models
