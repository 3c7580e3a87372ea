// The carecast subcommands. Each returns the process exit code and reports errors on stderr
// ("carecast: error: ...") without writing a partial output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carecast::cli {

// Exit codes.
inline constexpr int kOk = 0;
inline constexpr int kFailure = 1;    // the run failed (I/O, a model invariant, ...)
inline constexpr int kBadInput = 2;   // the configuration or the arguments are wrong

struct RunArguments {
  std::string config;
  std::string output;                       // empty: out/<run.name>.h5
  std::optional<std::uint64_t> trajectories;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> mode;
  std::optional<std::uint64_t> save_trajectories;
  std::vector<std::string> scenarios;       // empty: all
  int threads = 0;                          // 0: all cores
  std::uint32_t block_size = 0;             // 0: automatic
  std::string base = "baseline";            // the scenario the others are compared with
  bool quiet = false;
};

struct CompareArguments {
  std::string file;
  std::string base;  // empty: the file's base
  int year = 0;      // model year, 1-based; 0: the last
};

struct AttributeArguments {
  std::string file;
  std::string variable;
  int year = 0;          // model year, 1-based; 0: the last
  std::string scenario;  // empty: the base
  std::string region = "Total";
  int bootstrap = 200;
};

int run_command(const RunArguments& args);
int validate_command(const std::string& config);
int info_command(const std::string& result_file);
int compare_command(const CompareArguments& args);
int attribute_command(const AttributeArguments& args);

}  // namespace carecast::cli
