// Short human-readable numbers for terminal tables: 3 significant digits with k / m / bn.
#pragma once

#include <string>

namespace carecast::cli {

std::string short_number(double x);

}  // namespace carecast::cli
