// Loading a scenario file over the built-in West Midlands defaults.
#pragma once

#include <string>

#include "engine/config_document.h"
#include "models/defaults.h"

namespace carecast::cli {

inline engine::ConfigDocument load_config(const std::string& path) {
  return engine::ConfigDocument::load(path, models::default_config_text(),
                                      std::string(models::default_config_name()));
}

}  // namespace carecast::cli
