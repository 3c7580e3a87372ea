#include "cli/number_format.h"

#include <fmt/format.h>

#include <cmath>

namespace carecast::cli {

std::string short_number(double x) {
  if (!std::isfinite(x)) return fmt::format("{}", x);
  const double a = std::abs(x);
  if (a >= 1e9) return fmt::format("{:.3g}bn", x / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g}m", x / 1e6);
  if (a >= 1e4) return fmt::format("{:.3g}k", x / 1e3);
  if (a >= 100) return fmt::format("{:.0f}", x);
  return fmt::format("{:.3g}", x);
}

}  // namespace carecast::cli
