// The built-in default configuration: data/west_midlands.toml, compiled in. It is also the
// schema: a key it does not have is unknown.
#pragma once

#include <string_view>

namespace carecast::models {

std::string_view default_config_text();
std::string_view default_config_name();

}  // namespace carecast::models
