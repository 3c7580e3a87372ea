// The result file does not depend on how the work was cut: thread count and block size.
#include <gtest/gtest.h>

#include "engine/result_writer.h"
#include "tests/support/command.h"

namespace carecast {
namespace {

engine::RunResult run_and_read(const std::filesystem::path& dir, const std::string& name,
                               const std::string& arguments) {
  const auto out = dir / (name + ".h5");
  const auto run = testing::run_carecast("run " + std::string(CARECAST_SOURCE_DIR) +
                                         "/tests/data/tiny.toml -q -o " + out.string() + " " +
                                         arguments);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  return engine::read_result(out);
}

void expect_identical(const engine::RunResult& a, const engine::RunResult& b) {
  ASSERT_EQ(a.scenarios, b.scenarios);
  EXPECT_EQ(a.mean, b.mean);  // exact: bit-identical doubles
  EXPECT_EQ(a.sd, b.sd);
  EXPECT_EQ(a.quantile, b.quantile);
  EXPECT_EQ(a.trajectory, b.trajectory);
  EXPECT_EQ(a.parameter_values, b.parameter_values);
}

TEST(Determinism, ThreadsAndBlockSizesGiveBitIdenticalFiles) {
  const auto dir = testing::temp_dir("determinism");
  // 83 trajectories: not a multiple of any block size, so the last block is partial.
  const std::string common = "-n 83 --seed 12 ";
  const auto one_thread = run_and_read(dir, "t1", common + "--threads 1 --block-size 16");
  const auto two_threads = run_and_read(dir, "t2", common + "--threads 2 --block-size 16");
  const auto small_blocks = run_and_read(dir, "t2b4", common + "--threads 2 --block-size 4");
  const auto large_blocks = run_and_read(dir, "t1b64", common + "--threads 1 --block-size 64");
  // More threads than this machine's cores, on blocks of 4: threads meet on the run's shared
  // sketches (engine/shared_sketches.h) and add the groups they found busy later.
  const auto many_threads = run_and_read(dir, "t4b4", common + "--threads 4 --block-size 4");
  expect_identical(one_thread, two_threads);
  expect_identical(one_thread, small_blocks);
  expect_identical(one_thread, large_blocks);
  expect_identical(one_thread, many_threads);
  // And a different seed does change the numbers.
  const auto other_seed = run_and_read(dir, "s13", "-n 83 --seed 13 --threads 2");
  EXPECT_NE(one_thread.mean, other_seed.mean);
  std::filesystem::remove_all(dir);
}

TEST(Determinism, SaveTrajectoriesOnTheCommandLineOverridesTheFile) {
  // tiny.toml saves none; --save-trajectories 5 keeps the first 5 of every scenario, the same
  // values with 1 or 2 threads, and the summaries are those of the run that saved none.
  const auto dir = testing::temp_dir("save_trajectories");
  const std::string common = "-n 40 --seed 3 ";
  const auto none = run_and_read(dir, "none", common + "--threads 2");
  const auto five = run_and_read(dir, "five", common + "--threads 2 --save-trajectories 5");
  const auto five_one = run_and_read(dir, "five1", common + "--threads 1 --save-trajectories 5");
  EXPECT_EQ(none.saved_trajectories, 0u);
  EXPECT_TRUE(none.trajectory.empty());
  EXPECT_EQ(five.saved_trajectories, 5u);
  ASSERT_EQ(five.trajectory.size(), five.scenarios.size());
  EXPECT_EQ(five.trajectory[0][0].size(), 5 * five.plane());
  EXPECT_EQ(five.mean, none.mean);
  expect_identical(five, five_one);
  const auto bad = testing::run_carecast("run " + std::string(CARECAST_SOURCE_DIR) +
                                         "/tests/data/tiny.toml -q -n 4 --save-trajectories -1 -o " +
                                         (dir / "x.h5").string());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
  std::filesystem::remove_all(dir);
}

TEST(Determinism, BlockSizeMustBeAPowerOfTwo) {
  const auto dir = testing::temp_dir("block_size");
  const auto run = testing::run_carecast("run " + std::string(CARECAST_SOURCE_DIR) +
                                         "/tests/data/tiny.toml -q -n 4 --block-size 12 -o " +
                                         (dir / "x.h5").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("power of two"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
  // Blocks are at most one subtree of the moments' fold level (engine/moments.h).
  const auto big = testing::run_carecast("run " + std::string(CARECAST_SOURCE_DIR) +
                                         "/tests/data/tiny.toml -q -n 4 --block-size 32768 -o " +
                                         (dir / "x.h5").string());
  EXPECT_EQ(big.exit_code, 2);
  EXPECT_NE(big.output.find("block size must be at most 16384"), std::string::npos)
      << big.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carecast
