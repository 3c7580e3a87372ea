#include "engine/config_document.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace carecast::engine {

namespace {

constexpr std::string_view kScenarioArray = "scenario";

std::pair<std::string_view, std::string_view> split_key(std::string_view key) {
  const auto dot = key.find('.');
  if (dot == std::string_view::npos) return {key, {}};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

const toml::node* lookup(const toml::table* root, std::string_view key) {
  if (root == nullptr) return nullptr;
  const auto [section, name] = split_key(key);
  const auto* table = root->get_as<toml::table>(section);
  if (table == nullptr) return nullptr;
  return table->get(name);
}

std::shared_ptr<toml::table> parse_text(std::string_view text, const std::string& name) {
  try {
    return std::make_shared<toml::table>(toml::parse(text, name));
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: not valid TOML: {}", name, where.line, where.column,
                                  e.description()));
  }
}

}  // namespace

bool is_fixed_across_scenarios(std::string_view key) {
  const auto [section, name] = split_key(key);
  return section == "run" || section == "output" || key == "regions.names" ||
         key == "population.age_bands" || key == "providers.names";
}

ConfigDocument ConfigDocument::load(const std::filesystem::path& path,
                                    std::string_view defaults_text, std::string defaults_name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open the configuration file", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string(), defaults_text, std::move(defaults_name));
}

ConfigDocument ConfigDocument::parse(std::string_view text, std::string source_name,
                                     std::string_view defaults_text, std::string defaults_name) {
  ConfigDocument doc;
  doc.source_name_ = std::move(source_name);
  doc.defaults_name_ = std::move(defaults_name);
  doc.defaults_ = parse_text(defaults_text, doc.defaults_name_);
  doc.user_ = parse_text(text, doc.source_name_);
  doc.command_line_ = std::make_shared<toml::table>();
  doc.check_user_keys();
  doc.read_scenarios();
  return doc;
}

std::string ConfigDocument::origin_of(const toml::node& node) const {
  const auto& src = node.source();
  const std::string file = src.path ? *src.path : source_name_;
  if (src.begin.line == 0) return file;
  return fmt::format("{}:{}:{}", file, src.begin.line, src.begin.column);
}

void ConfigDocument::fail(const ConfigValue& value, std::string_view key,
                          std::string_view message) const {
  const std::string scenario =
      value.scenario.empty() ? std::string() : fmt::format("scenario '{}': ", value.scenario);
  const std::string hint =
      value.from_defaults
          ? fmt::format(" (the built-in default applies because {} does not set {}; set it there)",
                        source_name_, key)
          : std::string();
  throw ConfigError(fmt::format("{}: {}{}: {}{}", value.origin, scenario, key, message, hint));
}

void ConfigDocument::check_user_keys() const {
  for (const auto& [section, node] : *user_) {
    if (section.str() == kScenarioArray) continue;
    const auto* table = node.as_table();
    const auto* known = defaults_->get_as<toml::table>(section.str());
    if (known == nullptr) {
      throw ConfigError(fmt::format(
          "{}: unknown section [{}]: expected one of the schema's sections (see data/README.md)",
          origin_of(node), section.str()));
    }
    if (table == nullptr) {
      throw ConfigError(fmt::format("{}: {}: expected a table [{}]", origin_of(node),
                                    section.str(), section.str()));
    }
    for (const auto& [name, value] : *table) {
      if (known->get(name.str()) == nullptr) {
        throw ConfigError(fmt::format("{}: {}.{}: unknown key in [{}]", origin_of(value),
                                      section.str(), name.str(), section.str()));
      }
    }
  }
}

void ConfigDocument::read_scenarios() {
  const auto* node = user_->get(kScenarioArray);
  if (node == nullptr) return;
  const auto* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    throw ConfigError(fmt::format("{}: scenario: expected [[scenario]] tables", origin_of(*node)));
  }
  std::set<std::string, std::less<>> names = {std::string(kBaseScenario)};
  for (const auto& element : *array) {
    const auto& table = *element.as_table();
    Scenario scenario;
    scenario.origin = origin_of(table);
    for (const auto& [key, value] : table) {
      if (key.str() != "name" && key.str() != "set") {
        throw ConfigError(fmt::format("{}: scenario.{}: unknown key in [[scenario]] (expected "
                                      "'name' and 'set')",
                                      origin_of(value), key.str()));
      }
    }
    const auto* name = table.get_as<std::string>("name");
    if (name == nullptr || name->get().empty()) {
      throw ConfigError(
          fmt::format("{}: scenario.name: expected a non-empty string", scenario.origin));
    }
    scenario.name = name->get();
    if (!names.insert(scenario.name).second) {
      throw ConfigError(fmt::format("{}: scenario.name: '{}' is used twice (and 'baseline' is the "
                                    "base configuration's name)",
                                    origin_of(*name), scenario.name));
    }
    const auto* set = table.get("set");
    if (set != nullptr) {
      const auto* overrides = set->as_table();
      if (overrides == nullptr) {
        throw ConfigError(fmt::format("{}: scenario '{}': set: expected a table of \"section.key\" "
                                      "= value overrides",
                                      origin_of(*set), scenario.name));
      }
      for (const auto& [key, value] : *overrides) {
        const std::string k(key.str());
        if (lookup(defaults_.get(), k) == nullptr) {
          throw ConfigError(fmt::format("{}: scenario '{}': unknown key '{}': expected "
                                        "\"section.key\" of the schema",
                                        origin_of(value), scenario.name, k));
        }
        if (is_fixed_across_scenarios(k)) {
          throw ConfigError(fmt::format("{}: scenario '{}': {}: cannot be overridden by a "
                                        "scenario (run.*, output.* and the axes' names are shared)",
                                        origin_of(value), scenario.name, k));
        }
        scenario.overrides.emplace(k, &value);
      }
    }
    scenarios_.push_back(std::move(scenario));
  }
}

std::string ConfigDocument::scenario_name(std::size_t scenario) const {
  return scenario == 0 ? std::string(kBaseScenario) : scenarios_.at(scenario - 1).name;
}

void ConfigDocument::select_scenarios(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    const bool known = name == kBaseScenario ||
                       std::any_of(scenarios_.begin(), scenarios_.end(),
                                   [&](const Scenario& s) { return s.name == name; });
    if (!known) {
      std::string available(kBaseScenario);
      for (const auto& s : scenarios_) available += ", " + s.name;
      throw ConfigError(fmt::format("{}: no scenario named '{}' (available: {})", source_name_,
                                    name, available));
    }
  }
  std::erase_if(scenarios_, [&](const Scenario& s) {
    return std::find(names.begin(), names.end(), s.name) == names.end();
  });
}

ConfigValue ConfigDocument::find(std::string_view key, std::size_t scenario) const {
  if (scenario > 0) {
    const auto& s = scenarios_.at(scenario - 1);
    if (const auto it = s.overrides.find(key); it != s.overrides.end()) {
      return {it->second, origin_of(*it->second), s.name};
    }
  }
  if (const auto* node = lookup(command_line_.get(), key)) return {node, "command line", {}};
  if (const auto* node = lookup(user_.get(), key)) return {node, origin_of(*node), {}};
  if (const auto* node = lookup(defaults_.get(), key)) return {node, origin_of(*node), {}, true};
  throw ConfigError(fmt::format("{}: {}: not a key of the schema", source_name_, key));
}

void ConfigDocument::set(std::string_view key, toml::node&& value) {
  const auto [section, name] = split_key(key);
  if (lookup(defaults_.get(), key) == nullptr) {
    throw ConfigError(fmt::format("command line: {}: not a key of the schema", key));
  }
  auto [it, inserted] = command_line_->insert(section, toml::table{});
  auto* table = it->second.as_table();
  value.visit([&](auto&& v) { table->insert_or_assign(name, std::move(v)); });
}

std::vector<std::string> ConfigDocument::keys() const {
  std::vector<std::string> out;
  for (const auto& [section, node] : *defaults_) {
    if (const auto* table = node.as_table()) {
      for (const auto& [name, value] : *table) {
        out.push_back(fmt::format("{}.{}", section.str(), name.str()));
      }
    }
  }
  return out;
}

std::string ConfigDocument::resolved_toml() const {
  toml::table out;
  for (const auto& key : keys()) {
    const auto [section, name] = split_key(key);
    auto [it, inserted] = out.insert(section, toml::table{});
    auto* table = it->second.as_table();
    find(key).node->visit([&](const auto& v) { table->insert_or_assign(name, v); });
  }
  toml::array scenarios;
  for (const auto& s : scenarios_) {
    toml::table set;
    set.is_inline(true);
    for (const auto& [key, node] : s.overrides) {
      node->visit([&](const auto& v) { set.insert_or_assign(key, v); });
    }
    scenarios.push_back(toml::table{{"name", s.name}, {"set", std::move(set)}});
  }
  if (!scenarios.empty()) out.insert(kScenarioArray, std::move(scenarios));
  std::ostringstream text;
  text << toml::toml_formatter(out, toml::toml_formatter::default_flags &
                                        ~toml::format_flags::indentation);
  return text.str() + "\n";
}

}  // namespace carecast::engine
