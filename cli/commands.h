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
  std::vector<std::string> scenarios;       // empty: all
  int threads = 0;                          // 0: all cores
  std::uint32_t block_size = 16;
  bool quiet = false;
};

int run_command(const RunArguments& args);
int validate_command(const std::string& config);
int info_command(const std::string& result_file);

}  // namespace carecast::cli
