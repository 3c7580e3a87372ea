#include "models/model_factory.h"

#include <fmt/format.h>

#include "engine/config_reader.h"
#include "models/care_wf.h"

namespace carecast::models {

std::unique_ptr<engine::Simulator> make_model(const engine::ConfigDocument& document,
                                              const engine::RunSettings& settings) {
  if (settings.model != "care_wf") {
    engine::ConfigReader(document, 0)
        .fail("run.model", fmt::format("expected \"care_wf\", got \"{}\"", settings.model));
  }
  std::vector<std::string> names;
  std::vector<CareWfConfig> configs;
  for (std::size_t s = 0; s < document.scenario_count(); ++s) {
    names.push_back(document.scenario_name(s));
    configs.push_back(read_care_wf_config(document, s));
  }
  return std::make_unique<CareWf>(std::move(names), std::move(configs), settings.mode,
                                  settings.start, settings.months);
}

}  // namespace carecast::models
