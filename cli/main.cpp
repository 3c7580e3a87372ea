// carecast: Monte Carlo forecasts of adult social care demand, workforce and funding.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace carecast::cli;
  CLI::App app{"carecast: Monte Carlo forecasts of adult social care demand, workforce and funding"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CARECAST_VERSION);

  RunArguments run;
  auto* run_cmd = app.add_subcommand("run", "Run a forecast and write its HDF5 result file");
  run_cmd->add_option("file", run.config, "Scenario file (TOML)")->required();
  run_cmd->add_option("-o,--output", run.output, "Result file (default: out/<run.name>.h5)");
  run_cmd->add_option("-n,--trajectories", run.trajectories, "Number of trajectories")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--seed", run.seed, "Random seed");
  run_cmd->add_option("--mode", run.mode, "expected | stochastic")
      ->check(CLI::IsMember({"expected", "stochastic"}));
  run_cmd->add_option("--save-trajectories", run.save_trajectories,
                      "Raw trajectories kept per scenario, 0 for none (default: the file's "
                      "output.save_trajectories)");
  run_cmd->add_option("--scenario", run.scenarios, "Scenarios to run besides the base (default: all)");
  run_cmd->add_option("--threads", run.threads, "Worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--block-size", run.block_size,
                      "Trajectories per block, a power of two (default: automatic; results do not depend on it)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--base", run.base, "Scenario the others are compared with (default: baseline)");
  run_cmd->add_flag("-q,--quiet", run.quiet, "No progress output");

  std::string validate_file;
  auto* validate_cmd = app.add_subcommand("validate", "Check a scenario file without running it");
  validate_cmd->add_option("file", validate_file, "Scenario file (TOML)")->required();

  std::string info_file;
  auto* info_cmd = app.add_subcommand("info", "Print a year-by-year table of a result file");
  info_cmd->add_option("file", info_file, "Result file (HDF5)")->required();

  CompareArguments compare;
  auto* compare_cmd =
      app.add_subcommand("compare", "Paired differences of each scenario from the base");
  compare_cmd->add_option("file", compare.file, "Result file (HDF5)")->required();
  compare_cmd->add_option("--base", compare.base, "Base scenario (default: the file's)");
  compare_cmd->add_option("--year", compare.year, "Model year, 1-based (default: the last)");

  AttributeArguments attribute;
  auto* attribute_cmd = app.add_subcommand(
      "attribute", "Rank uncertain parameters by their influence (needs saved trajectories)");
  attribute_cmd->add_option("file", attribute.file, "Result file (HDF5)")->required();
  attribute_cmd->add_option("--variable", attribute.variable, "Output variable")->required();
  attribute_cmd->add_option("--year", attribute.year, "Model year, 1-based (default: the last)");
  attribute_cmd->add_option("--scenario", attribute.scenario, "Scenario (default: the base)");
  attribute_cmd->add_option("--region", attribute.region, "Region (default: Total)");
  attribute_cmd->add_option("--bootstrap", attribute.bootstrap, "Bootstrap resamples")
      ->check(CLI::NonNegativeNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kOk : kBadInput;
  }
  if (*run_cmd) return run_command(run);
  if (*validate_cmd) return validate_command(validate_file);
  if (*compare_cmd) return compare_command(compare);
  if (*attribute_cmd) return attribute_command(attribute);
  return info_command(info_file);
}
