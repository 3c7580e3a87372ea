#include <fmt/format.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "cli/commands.h"
#include "cli/config_loading.h"
#include "engine/progress.h"
#include "engine/result_writer.h"
#include "engine/runner.h"
#include "models/model_factory.h"

namespace carecast::cli {

namespace {

// Applies the command line's settings to the document, which then records them.
void apply_arguments(const RunArguments& args, engine::ConfigDocument& document) {
  if (args.trajectories) {
    document.set("run.trajectories",
                 toml::value<std::int64_t>(static_cast<std::int64_t>(*args.trajectories)));
  }
  if (args.seed) {
    document.set("run.seed", toml::value<std::int64_t>(static_cast<std::int64_t>(*args.seed)));
  }
  if (args.mode) document.set("run.mode", toml::value<std::string>(*args.mode));
  if (args.save_trajectories) {
    document.set("output.save_trajectories",
                 toml::value<std::int64_t>(static_cast<std::int64_t>(*args.save_trajectories)));
  }
  if (!args.scenarios.empty()) document.select_scenarios(args.scenarios);
}

std::filesystem::path output_path(const RunArguments& args, const engine::RunSettings& settings) {
  std::filesystem::path path = args.output.empty()
                                   ? std::filesystem::path("out") / (settings.name + ".h5")
                                   : std::filesystem::path(args.output);
  const auto dir = path.parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  return path;
}

}  // namespace

int run_command(const RunArguments& args) {
  engine::RunSettings settings;
  std::unique_ptr<engine::Simulator> model;
  std::string resolved;
  try {
    auto document = load_config(args.config);
    apply_arguments(args, document);
    settings = engine::read_run_settings(document);
    if (settings.mode == engine::Mode::expected && settings.trajectories != 1) {
      // Expected mode is one deterministic trajectory; record that in the resolved config.
      document.set("run.trajectories", toml::value<std::int64_t>(1));
      settings.trajectories = 1;
    }
    model = models::make_model(document, settings);
    resolved = document.resolved_toml();
  } catch (const engine::ConfigError& e) {
    fmt::print(stderr, "carecast: error: {}\n", e.what());
    return kBadInput;
  }

  try {
    const auto path = output_path(args, settings);
    engine::Progress progress(settings.trajectories, "",
                              args.quiet ? nullptr : stderr);
    engine::RunnerOptions options;
    options.seed = settings.seed;
    options.trajectories = settings.trajectories;
    options.threads = args.threads;
    options.block_size = args.block_size;
    options.quantiles = settings.quantiles;
    options.save_trajectories = settings.save_trajectories;
    const auto& scenarios = model->layout().scenarios;
    const auto base = std::find(scenarios.begin(), scenarios.end(), args.base);
    if (base == scenarios.end()) {
      throw std::invalid_argument(fmt::format("--base {}: no such scenario (available: {})",
                                              args.base, fmt::join(scenarios, ", ")));
    }
    options.base_scenario = static_cast<std::size_t>(base - scenarios.begin());
    options.on_block = [&](std::uint64_t done) { progress.advance(done); };
    auto result = engine::run(*model, options);
    progress.finish();
    const double seconds = progress.elapsed_seconds();

    result.attributes = {CARECAST_VERSION, settings.model, engine::to_string(settings.mode),
                         settings.seed, settings.trajectories, resolved};
    for (int t = 0; t < settings.months; ++t) {
      result.time_days.push_back(settings.start.plus(t).days_since_epoch());
    }
    // The write compresses the saved trajectories on as many threads as the run had.
    tbb::task_arena arena(args.threads > 0 ? args.threads : tbb::task_arena::automatic);
    arena.execute([&] { engine::write_result(path, result); });
    if (!args.quiet) {
      const double months = static_cast<double>(settings.trajectories) * settings.months *
                            static_cast<double>(result.scenarios.size());
      fmt::print(stderr,
                 "timing: {} trajectories x {} scenarios x {} months in {:.3f} s: {:.0f} "
                 "trajectories/s, {:.3g} trajectory-months/s ({} threads, block {})\n",
                 settings.trajectories, result.scenarios.size(), settings.months, seconds,
                 static_cast<double>(settings.trajectories) / seconds, months / seconds,
                 args.threads > 0 ? fmt::format("{}", args.threads) : std::string("all"),
                 args.block_size != 0 ? args.block_size : engine::block_size_for(model->layout()));
    }
    fmt::print("wrote {}\n", path.string());
    return kOk;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "carecast: error: {}\n", e.what());
    return kBadInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "carecast: error: {}\n", e.what());
    return kFailure;
  }
}

}  // namespace carecast::cli
