// A run's configuration as a model reads it: the user's TOML file laid over built-in defaults,
// with each scenario's overrides on top and command-line settings above all.
//
// The defaults are the schema: a key the defaults do not have is unknown, and an error. Every
// lookup keeps where its value came from, so any error can name the file, line and key.
#pragma once

#include <toml++/toml.h>

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace carecast::engine {

// Bad input: the message names the file (and line), the key, and what was expected.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A value found in the configuration, with where it was written.
struct ConfigValue {
  const toml::node* node = nullptr;  // never null once found
  std::string origin;                // "file:line:col", "command line", ...
  std::string scenario;              // non-empty when it came from a scenario's overrides
  bool from_defaults = false;        // the file does not set it: the built-in default applies
};

class ConfigDocument {
 public:
  // The name the base configuration has among the scenarios.
  static constexpr std::string_view kBaseScenario = "baseline";

  // Parses `path` over `defaults_text` (called `defaults_name` in messages). Throws ConfigError.
  static ConfigDocument load(const std::filesystem::path& path, std::string_view defaults_text,
                             std::string defaults_name);
  static ConfigDocument parse(std::string_view text, std::string source_name,
                              std::string_view defaults_text, std::string defaults_name);

  const std::string& source_name() const { return source_name_; }

  // Scenario 0 is the base ("baseline"); the rest are the file's [[scenario]] tables in order.
  std::size_t scenario_count() const { return scenarios_.size() + 1; }
  std::string scenario_name(std::size_t scenario) const;
  // Keeps the base and the named scenarios, in file order. Throws ConfigError on an unknown name.
  void select_scenarios(const std::vector<std::string>& names);

  // The value of "section.key" for a scenario: its override, else the command line, else the
  // user's file, else the defaults. Throws ConfigError if the defaults have no such key.
  ConfigValue find(std::string_view key, std::size_t scenario = 0) const;

  // Sets a key from the command line (e.g. "run.trajectories"); it cannot be overridden by
  // scenarios since run.* never can.
  void set(std::string_view key, toml::node&& value);

  // Every key that can be set, "section.key", in the defaults' order.
  std::vector<std::string> keys() const;

  // The resolved configuration as TOML in the schema, every key written out, scenarios as
  // [[scenario]] tables: running it alone reproduces the run.
  std::string resolved_toml() const;

  // "origin: [scenario 'x': ]key: message" — the one shape of every configuration error.
  [[noreturn]] void fail(const ConfigValue& value, std::string_view key,
                         std::string_view message) const;

 private:
  struct Scenario {
    std::string name;
    std::string origin;
    std::map<std::string, const toml::node*, std::less<>> overrides;
  };

  ConfigDocument() = default;
  void check_user_keys() const;
  void read_scenarios();
  std::string origin_of(const toml::node& node) const;

  std::string source_name_;
  std::string defaults_name_;
  std::shared_ptr<toml::table> defaults_;
  std::shared_ptr<toml::table> user_;
  std::shared_ptr<toml::table> command_line_;
  std::vector<Scenario> scenarios_;
};

// Keys a scenario may not override: the run's settings, its outputs and its axes.
bool is_fixed_across_scenarios(std::string_view key);

}  // namespace carecast::engine
