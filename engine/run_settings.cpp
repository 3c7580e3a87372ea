#include "engine/run_settings.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>

#include "engine/config_reader.h"

namespace carecast::engine {

namespace {

// Days from 1970-01-01 to year-month-day in the proleptic Gregorian calendar (H. Hinnant).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool parse_year_month(const std::string& text, YearMonth& out) {
  if (text.size() != 7 || text[4] != '-') return false;
  int year = 0, month = 0;
  const auto y = std::from_chars(text.data(), text.data() + 4, year);
  const auto m = std::from_chars(text.data() + 5, text.data() + 7, month);
  if (y.ec != std::errc() || y.ptr != text.data() + 4 || m.ec != std::errc() ||
      m.ptr != text.data() + 7 || month < 1 || month > 12 || year < 1900) {
    return false;
  }
  out = {year, month};
  return true;
}

}  // namespace

YearMonth YearMonth::plus(int months) const {
  const int index = year * 12 + (month - 1) + months;
  return {index / 12, index % 12 + 1};
}

std::int64_t YearMonth::days_since_epoch() const { return days_from_civil(year, month, 1); }

YearMonth YearMonth::from_days_since_epoch(std::int64_t days) {
  // The inverse of days_from_civil (H. Hinnant).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<int>(yoe + era * 400 + (month <= 2)), month};
}

std::string YearMonth::to_string() const { return fmt::format("{:04}-{:02}", year, month); }

const char* to_string(Mode mode) { return mode == Mode::expected ? "expected" : "stochastic"; }

RunSettings read_run_settings(const ConfigDocument& document) {
  const ConfigReader reader(document, 0);
  RunSettings s;
  s.name = reader.string("run.name");
  if (s.name.empty()) reader.fail("run.name", "expected a non-empty name");
  s.model = reader.string("run.model");
  const auto start = reader.string("run.start");
  if (!parse_year_month(start, s.start)) {
    reader.fail("run.start", fmt::format("expected a month \"YYYY-MM\", got \"{}\"", start));
  }
  s.months = static_cast<int>(reader.integer("run.months", 1, 12 * 100));
  s.trajectories = static_cast<std::uint64_t>(
      reader.integer("run.trajectories", 1, std::numeric_limits<std::uint32_t>::max()));
  s.seed = static_cast<std::uint64_t>(
      reader.integer("run.seed", 0, std::numeric_limits<std::int64_t>::max()));
  s.mode = reader.choice("run.mode", {"stochastic", "expected"}) == "expected" ? Mode::expected
                                                                              : Mode::stochastic;
  s.quantiles = reader.number_list("output.quantiles", Interval::open_unit());
  if (s.quantiles.empty()) reader.fail("output.quantiles", "expected at least one quantile");
  for (std::size_t i = 1; i < s.quantiles.size(); ++i) {
    if (!(s.quantiles[i] > s.quantiles[i - 1])) {
      reader.fail("output.quantiles", "expected strictly increasing probabilities");
    }
  }
  s.save_trajectories = static_cast<std::uint64_t>(
      reader.integer("output.save_trajectories", 0, std::numeric_limits<std::uint32_t>::max()));
  return s;
}

}  // namespace carecast::engine
