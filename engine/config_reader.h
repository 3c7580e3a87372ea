// Typed, checked reads from a ConfigDocument for one scenario.
//
// Each getter checks type, shape and range once, at load, and throws ConfigError in the one
// message shape "file:line:col: [scenario 'x': ]section.key: expected ..., got ...".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config_document.h"
#include "engine/distribution.h"

namespace carecast::engine {

class ConfigReader {
 public:
  ConfigReader(const ConfigDocument& document, std::size_t scenario)
      : document_(document), scenario_(scenario) {}

  double number(std::string_view key, const Interval& allowed) const;
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  std::string string(std::string_view key) const;
  // One of `options`.
  std::string choice(std::string_view key, std::initializer_list<std::string_view> options) const;
  // A non-empty list of distinct, non-empty names.
  std::vector<std::string> names(std::string_view key) const;
  // `size` numbers (one per `per`); with allow_empty, [] is accepted too.
  std::vector<double> numbers(std::string_view key, std::size_t size, std::string_view per,
                              const Interval& allowed, bool allow_empty = false) const;
  // A list of numbers of any length (possibly empty).
  std::vector<double> number_list(std::string_view key, const Interval& allowed) const;
  // rows x cols numbers, row-major, as [[...], ...].
  std::vector<double> matrix(std::string_view key, std::size_t rows, std::string_view row_what,
                             std::size_t cols, std::string_view col_what,
                             const Interval& allowed) const;
  // A number or a distribution table whose whole support lies in `allowed`.
  Distribution parameter(std::string_view key, const Interval& allowed) const;

  // Whether the scenario overrides `key` (false for the base).
  bool overridden(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, std::string_view message) const;

 private:
  ConfigValue find(std::string_view key) const { return document_.find(key, scenario_); }
  double element(const ConfigValue& value, std::string_view key, const toml::node& node,
                 const Interval& allowed, std::string_view where) const;

  const ConfigDocument& document_;
  std::size_t scenario_;
};

}  // namespace carecast::engine
