// The benchmarks' configuration: data/scenarios/wm_baseline.toml over the built-in defaults (the
// built-in defaults alone, which its baseline is, if the source tree is not where it was
// compiled). Baseline only unless `all_scenarios`.
#pragma once

#include <filesystem>

#include "engine/config_document.h"
#include "tests/support/model_run.h"

namespace carecast::bench {

inline engine::ConfigDocument default_document(bool all_scenarios = false) {
  const auto file = std::filesystem::path(__FILE__).parent_path().parent_path() / "data" /
                    "scenarios" / "wm_baseline.toml";
  auto d = std::filesystem::exists(file) ? carecast::testing::load_file(file.string())
                                         : carecast::testing::parse_text("");
  if (!all_scenarios) d.select_scenarios({});
  return d;
}

}  // namespace carecast::bench
