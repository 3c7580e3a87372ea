#include "engine/config_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

namespace carecast::engine {

namespace {

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return fmt::format("the string \"{}\"", node.as_string()->get());
    case toml::node_type::integer:
      return fmt::format("the integer {}", node.as_integer()->get());
    case toml::node_type::floating_point:
      return fmt::format("the number {}", node.as_floating_point()->get());
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::array:
      return fmt::format("an array of {} values", node.as_array()->size());
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

bool numeric(const toml::node& node) { return node.is_integer() || node.is_floating_point(); }

double as_double(const toml::node& node) {
  return node.is_integer() ? static_cast<double>(node.as_integer()->get())
                           : node.as_floating_point()->get();
}

}  // namespace

void ConfigReader::fail(std::string_view key, std::string_view message) const {
  document_.fail(find(key), key, message);
}

bool ConfigReader::overridden(std::string_view key) const {
  return scenario_ > 0 && !find(key).scenario.empty();
}

double ConfigReader::element(const ConfigValue& value, std::string_view key,
                             const toml::node& node, const Interval& allowed,
                             std::string_view where) const {
  if (!numeric(node)) {
    document_.fail(value, key, fmt::format("expected a number{}, got {}", where, type_name(node)));
  }
  const double x = as_double(node);
  if (!allowed.contains(x)) {
    document_.fail(value, key,
                   fmt::format("expected a number {}{}, got {}", allowed.describe(), where, x));
  }
  return x;
}

double ConfigReader::number(std::string_view key, const Interval& allowed) const {
  const auto value = find(key);
  return element(value, key, *value.node, allowed, "");
}

std::int64_t ConfigReader::integer(std::string_view key, std::int64_t min,
                                   std::int64_t max) const {
  const auto value = find(key);
  const auto* node = value.node->as_integer();
  if (node == nullptr) {
    document_.fail(value, key, fmt::format("expected an integer, got {}", type_name(*value.node)));
  }
  if (node->get() < min || node->get() > max) {
    document_.fail(value, key,
                   fmt::format("expected an integer in [{}, {}], got {}", min, max, node->get()));
  }
  return node->get();
}

std::string ConfigReader::string(std::string_view key) const {
  const auto value = find(key);
  const auto* node = value.node->as_string();
  if (node == nullptr) {
    document_.fail(value, key, fmt::format("expected a string, got {}", type_name(*value.node)));
  }
  return node->get();
}

std::string ConfigReader::choice(std::string_view key,
                                 std::initializer_list<std::string_view> options) const {
  auto text = string(key);
  for (const auto option : options) {
    if (option == text) return text;
  }
  std::string list;
  for (const auto option : options) list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", option);
  document_.fail(find(key), key, fmt::format("expected one of {}, got \"{}\"", list, text));
}

std::vector<std::string> ConfigReader::names(std::string_view key) const {
  const auto value = find(key);
  const auto* array = value.node->as_array();
  if (array == nullptr || array->empty()) {
    document_.fail(value, key,
                   fmt::format("expected a non-empty array of names, got {}", type_name(*value.node)));
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& element : *array) {
    const auto* s = element.as_string();
    if (s == nullptr || s->get().empty()) {
      document_.fail(value, key,
                     fmt::format("expected non-empty strings, got {}", type_name(element)));
    }
    if (!seen.insert(s->get()).second) {
      document_.fail(value, key, fmt::format("expected distinct names, got \"{}\" twice", s->get()));
    }
    out.push_back(s->get());
  }
  return out;
}

std::vector<double> ConfigReader::number_list(std::string_view key,
                                              const Interval& allowed) const {
  const auto value = find(key);
  const auto* array = value.node->as_array();
  if (array == nullptr) {
    document_.fail(value, key,
                   fmt::format("expected an array of numbers, got {}", type_name(*value.node)));
  }
  std::vector<double> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    out.push_back(element(value, key, *array->get(i), allowed, fmt::format(" at [{}]", i)));
  }
  return out;
}

std::vector<double> ConfigReader::numbers(std::string_view key, std::size_t size,
                                          std::string_view per, const Interval& allowed,
                                          bool allow_empty) const {
  const auto value = find(key);
  const auto* array = value.node->as_array();
  const bool size_ok = array != nullptr && (array->size() == size || (allow_empty && array->empty()));
  if (!size_ok) {
    document_.fail(value, key,
                   fmt::format("expected an array of {} numbers (one per {}){}, got {}", size, per,
                               allow_empty ? " or []" : "", type_name(*value.node)));
  }
  return number_list(key, allowed);
}

std::vector<double> ConfigReader::matrix(std::string_view key, std::size_t rows,
                                         std::string_view row_what, std::size_t cols,
                                         std::string_view col_what,
                                         const Interval& allowed) const {
  const auto value = find(key);
  const auto shape = fmt::format("{} rows (one per {}) of {} numbers (one per {})", rows, row_what,
                                 cols, col_what);
  const auto* array = value.node->as_array();
  if (array == nullptr || array->size() != rows) {
    document_.fail(value, key,
                   fmt::format("expected an array of {}, got {}", shape, type_name(*value.node)));
  }
  std::vector<double> out;
  for (std::size_t r = 0; r < rows; ++r) {
    const auto* row = array->get(r)->as_array();
    if (row == nullptr || row->size() != cols) {
      document_.fail(value, key,
                     fmt::format("expected an array of {}; row {} is {}", shape, r,
                                 type_name(*array->get(r))));
    }
    for (std::size_t c = 0; c < cols; ++c) {
      out.push_back(element(value, key, *row->get(c), allowed, fmt::format(" at [{}][{}]", r, c)));
    }
  }
  return out;
}

Distribution ConfigReader::parameter(std::string_view key, const Interval& allowed) const {
  const auto value = find(key);
  if (numeric(*value.node)) return Distribution::fixed(number(key, allowed));
  const auto* table = value.node->as_table();
  if (table == nullptr) {
    document_.fail(value, key,
                   fmt::format("expected a number {} or a distribution table such as {{dist = "
                               "\"normal\", mean = 0.0, sd = 1.0}}, got {}",
                               allowed.describe(), type_name(*value.node)));
  }
  static const std::map<std::string, std::vector<std::string>, std::less<>> kinds = {
      {"normal", {"mean", "sd"}},         {"lognormal", {"mu", "sigma"}},
      {"uniform", {"low", "high"}},       {"triangular", {"low", "mode", "high"}},
      {"beta", {"a", "b"}},               {"truncnormal", {"mean", "sd", "low", "high"}}};
  const auto* dist = table->get_as<std::string>("dist");
  const auto kind = dist == nullptr ? kinds.end() : kinds.find(dist->get());
  if (kind == kinds.end()) {
    document_.fail(value, key,
                   fmt::format("expected dist = one of \"normal\", \"lognormal\", \"uniform\", "
                               "\"triangular\", \"beta\", \"truncnormal\", got {}",
                               dist == nullptr ? "no dist key" : "\"" + dist->get() + "\""));
  }
  const auto& fields = kind->second;
  std::vector<double> p;
  for (const auto& field : fields) {
    const auto* node = table->get(field);
    if (node == nullptr || !numeric(*node)) {
      document_.fail(value, key,
                     fmt::format("expected {} distribution to have a number '{}'", kind->first, field));
    }
    p.push_back(as_double(*node));
  }
  for (const auto& [name, node] : *table) {
    if (name.str() != "dist" &&
        std::find(fields.begin(), fields.end(), name.str()) == fields.end()) {
      document_.fail(value, key,
                     fmt::format("unknown key '{}' in a {} distribution (expected dist, {})",
                                 name.str(), kind->first, fmt::join(fields, ", ")));
    }
  }
  Distribution d;
  try {
    if (kind->first == "normal") d = Distribution::normal(p[0], p[1]);
    if (kind->first == "lognormal") d = Distribution::lognormal(p[0], p[1]);
    if (kind->first == "uniform") d = Distribution::uniform(p[0], p[1]);
    if (kind->first == "triangular") d = Distribution::triangular(p[0], p[1], p[2]);
    if (kind->first == "beta") d = Distribution::beta(p[0], p[1]);
    if (kind->first == "truncnormal") d = Distribution::truncnormal(p[0], p[1], p[2], p[3]);
  } catch (const std::invalid_argument& e) {
    document_.fail(value, key, fmt::format("bad distribution: {}", e.what()));
  }
  if (!allowed.contains(d.support())) {
    document_.fail(value, key,
                   fmt::format("expected every value to be {}, but a {} distribution can take "
                               "values outside it",
                               allowed.describe(), kind->first));
  }
  return d;
}

}  // namespace carecast::engine
