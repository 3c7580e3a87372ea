// write_result / read_result round trips, the file layout, atomicity, and the h5 layer's errors.
#include "engine/result_writer.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/hdf5_file.h"

namespace carecast::engine {
namespace {

namespace fs = std::filesystem;

// 2 scenarios, 3 variables, 4 months (2024-01 .. 2024-04), 3 regions incl. Total, 3 quantiles;
// `saved` raw trajectories with `parameters` uncertain parameters. The values are distinct and
// mostly inexact in binary (thirds, tenths), so that an exact comparison means something.
RunResult make_result(std::uint64_t saved,
                      std::vector<std::string> parameters = {"growth", "attrition"}) {
  RunResult result;
  result.attributes.carecast_version = "0.1.0";
  result.attributes.model = "tiny";
  result.attributes.mode = "stochastic";
  result.attributes.seed = 42;
  result.attributes.trajectories = 1000;
  result.attributes.config = "[run]\nstart = \"2024-01\"\nmonths = 4\n";
  result.scenarios = {"baseline", "expansion"};
  result.variables = {"headcount", "admissions", "cost"};
  result.regions = {"North", "Zürich", "Total"};
  result.time_days = {19723, 19754, 19783, 19814};
  result.quantiles = {0.05, 0.5, 0.95};
  result.parameters = std::move(parameters);
  result.saved_trajectories = saved;
  const std::size_t plane = result.plane();
  const std::size_t quantiles = result.quantiles.size();
  double x = 0.0;
  for (std::size_t s = 0; s < result.scenarios.size(); ++s) {
    auto& mean = result.mean.emplace_back();
    auto& sd = result.sd.emplace_back();
    auto& quantile = result.quantile.emplace_back();
    for (std::size_t v = 0; v < result.variables.size(); ++v) {
      auto& m = mean.emplace_back();
      auto& d = sd.emplace_back();
      for (std::size_t c = 0; c < plane; ++c) {
        m.push_back(100.0 + (x += 1.0 / 3.0));
        d.push_back(x / 7.0);
      }
      auto& q = quantile.emplace_back();
      for (std::size_t k = 0; k < quantiles; ++k) {
        for (std::size_t c = 0; c < plane; ++c)
          q.push_back(m[c] + (static_cast<double>(k) - 1.0) * d[c]);
      }
    }
    if (saved == 0) continue;
    auto& trajectory = result.trajectory.emplace_back();
    for (std::size_t v = 0; v < result.variables.size(); ++v) {
      auto& t = trajectory.emplace_back();
      for (std::size_t c = 0; c < saved * plane; ++c) t.push_back(static_cast<float>(x += 0.1));
    }
    auto& p = result.parameter_values.emplace_back();
    for (std::size_t i = 0; i < saved * result.parameters.size(); ++i) p.push_back(x / 11.0 + 0.5);
  }
  return result;
}

void expect_same(const RunResult& actual, const RunResult& expected) {
  EXPECT_EQ(actual.attributes.carecast_version, expected.attributes.carecast_version);
  EXPECT_EQ(actual.attributes.model, expected.attributes.model);
  EXPECT_EQ(actual.attributes.mode, expected.attributes.mode);
  EXPECT_EQ(actual.attributes.seed, expected.attributes.seed);
  EXPECT_EQ(actual.attributes.trajectories, expected.attributes.trajectories);
  EXPECT_EQ(actual.attributes.config, expected.attributes.config);
  EXPECT_EQ(actual.scenarios, expected.scenarios);
  EXPECT_EQ(actual.variables, expected.variables);
  EXPECT_EQ(actual.regions, expected.regions);
  EXPECT_EQ(actual.time_days, expected.time_days);
  EXPECT_EQ(actual.quantiles, expected.quantiles);
  EXPECT_EQ(actual.parameters, expected.parameters);
  EXPECT_EQ(actual.mean, expected.mean);
  EXPECT_EQ(actual.sd, expected.sd);
  EXPECT_EQ(actual.quantile, expected.quantile);
  EXPECT_EQ(actual.saved_trajectories, expected.saved_trajectories);
  EXPECT_EQ(actual.trajectory, expected.trajectory);
  EXPECT_EQ(actual.parameter_values, expected.parameter_values);
}

// Asserts that `statement` throws `Exception` whose message contains `text`.
#define EXPECT_THROW_WITH(statement, Exception, text)                                     \
  do {                                                                                    \
    try {                                                                                 \
      statement;                                                                          \
      ADD_FAILURE() << "no exception from " #statement;                                   \
    } catch (const Exception& error) {                                                    \
      EXPECT_NE(std::string(error.what()).find(text), std::string::npos) << error.what(); \
    }                                                                                     \
  } while (false)

class ResultWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("carecast_result_writer_test_" + std::to_string(::getpid()) + "_" + test->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The names of the entries of the test directory.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  fs::path dir_;
};

TEST_F(ResultWriterTest, RoundTripWithoutTrajectories) {
  const RunResult result = make_result(0);
  const fs::path path = dir_ / "out.h5";
  write_result(path, result);
  expect_same(read_result(path), result);
  EXPECT_EQ(entries(), std::vector<std::string>{"out.h5"});  // no temporary left behind
}

TEST_F(ResultWriterTest, RoundTripWithTrajectories) {
  const RunResult result = make_result(2);
  const fs::path path = dir_ / "out.h5";
  write_result(path, result);
  expect_same(read_result(path), result);
}

TEST_F(ResultWriterTest, RoundTripWithTrajectoriesWithoutParameters) {
  const RunResult result = make_result(3, {});
  const fs::path path = dir_ / "out.h5";
  write_result(path, result);
  expect_same(read_result(path), result);
}

TEST_F(ResultWriterTest, OverwritesAnExistingResult) {
  const fs::path path = dir_ / "out.h5";
  write_result(path, make_result(2));
  const RunResult second = make_result(0);
  write_result(path, second);
  expect_same(read_result(path), second);
}

TEST_F(ResultWriterTest, WritesTheDocumentedLayoutAndAttributes) {
  const RunResult result = make_result(2);
  const fs::path path = dir_ / "out.h5";
  write_result(path, result);

  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  EXPECT_EQ(root.attribute<std::int64_t>("complete"), 1);
  EXPECT_EQ(root.string_attribute("carecast_version"), "0.1.0");
  EXPECT_EQ(root.string_attribute("model"), "tiny");
  EXPECT_EQ(root.string_attribute("mode"), "stochastic");
  EXPECT_EQ(root.attribute<std::uint64_t>("seed"), 42u);
  EXPECT_EQ(root.attribute<std::uint64_t>("trajectories"), 1000u);
  EXPECT_EQ(root.string_attribute("config"), result.attributes.config);

  EXPECT_EQ(root.children(), (std::vector<std::string>{"time", "region", "quantile", "parameter",
                                                       "trajectory", "scenarios"}));
  const h5::Dataset time = root.open_dataset("time");
  EXPECT_EQ(time.string_attribute("units"), "days since 1970-01-01");
  EXPECT_EQ(time.string_attribute("calendar"), "proleptic_gregorian");
  EXPECT_EQ(time.string_attribute("CLASS"), "DIMENSION_SCALE");  // set by H5DSset_scale
  EXPECT_EQ(root.open_dataset("trajectory").read<std::int64_t>(),
            (std::vector<std::int64_t>{0, 1}));

  const h5::Group summary = root.open_group("scenarios/baseline/summary");
  EXPECT_EQ(summary.children(), (std::vector<std::string>{
                                    "time", "region", "quantile", "headcount_mean", "headcount_sd",
                                    "headcount_q", "admissions_mean", "admissions_sd",
                                    "admissions_q", "cost_mean", "cost_sd", "cost_q"}));
  EXPECT_EQ(summary.open_dataset("cost_mean").dims(), (std::vector<hsize_t>{4, 3}));
  EXPECT_EQ(summary.open_dataset("cost_q").dims(), (std::vector<hsize_t>{3, 4, 3}));
  EXPECT_TRUE(summary.open_dataset("cost_q").has_attribute("DIMENSION_LIST"));
  EXPECT_EQ(summary.open_dataset("region").read_strings(), result.regions);

  const h5::Group trajectories = root.open_group("scenarios/expansion/trajectories");
  EXPECT_EQ(trajectories.open_dataset("admissions").dims(), (std::vector<hsize_t>{2, 4, 3}));
  EXPECT_EQ(trajectories.open_dataset("parameters").dims(), (std::vector<hsize_t>{2, 2}));
  const std::vector<float> admissions = trajectories.open_dataset("admissions").read<float>();
  EXPECT_TRUE(std::ranges::equal(admissions, result.trajectory[1][1]));
}

TEST_F(ResultWriterTest, NoTrajectoryGroupsWhenNoneAreSaved) {
  const fs::path path = dir_ / "out.h5";
  write_result(path, make_result(0));
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  EXPECT_TRUE(root.contains("parameter"));
  EXPECT_FALSE(root.contains("trajectory"));
  EXPECT_TRUE(root.contains("scenarios/baseline/summary"));
  EXPECT_FALSE(root.contains("scenarios/baseline/trajectories"));
  EXPECT_FALSE(root.contains("scenarios/nowhere/trajectories"));
}

TEST_F(ResultWriterTest, NonexistentDirectoryThrowsAndLeavesNothing) {
  const fs::path path = dir_ / "missing" / "out.h5";
  EXPECT_THROW_WITH(write_result(path, make_result(2)), h5::Error, "cannot create file");
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
  EXPECT_TRUE(entries().empty());
}

TEST_F(ResultWriterTest, InconsistentSizesThrowBeforeWriting) {
  const fs::path path = dir_ / "out.h5";
  RunResult result = make_result(2);
  result.mean[1][2].pop_back();
  EXPECT_THROW_WITH(write_result(path, result), std::invalid_argument,
                    "mean[expansion][cost] has 11 values, expected 12");
  EXPECT_TRUE(entries().empty());

  result = make_result(2);
  result.parameter_values[0].push_back(1.0);
  EXPECT_THROW_WITH(write_result(path, result), std::invalid_argument,
                    "parameter_values[baseline] has 5 values, expected 4");
  result = make_result(0);
  result.trajectory.resize(2);
  EXPECT_THROW_WITH(write_result(path, result), std::invalid_argument,
                    "must be empty when saved_trajectories is 0");
  EXPECT_TRUE(entries().empty());
}

TEST_F(ResultWriterTest, FailedWriteKeepsThePreviousFile) {
  const fs::path path = dir_ / "out.h5";
  const RunResult previous = make_result(0);
  write_result(path, previous);
  RunResult broken = make_result(2);
  broken.quantile[0].pop_back();
  EXPECT_THROW(write_result(path, broken), std::invalid_argument);
  expect_same(read_result(path), previous);
  EXPECT_EQ(entries(), std::vector<std::string>{"out.h5"});
}

TEST_F(ResultWriterTest, FailedRenameRemovesTheTemporaryFile) {
  // A directory at `path`: the temporary file is written in full, then the rename fails.
  const fs::path path = dir_ / "out.h5";
  fs::create_directory(path);
  fs::create_directory(path / "keep");
  EXPECT_THROW(write_result(path, make_result(2)), fs::filesystem_error);
  EXPECT_EQ(entries(), std::vector<std::string>{"out.h5"});
  EXPECT_TRUE(fs::is_directory(path / "keep"));
}

TEST_F(ResultWriterTest, RejectsNamesThatCannotBeLinks) {
  const fs::path path = dir_ / "out.h5";
  RunResult result = make_result(0);
  result.scenarios[1] = "baseline";
  EXPECT_THROW_WITH(write_result(path, result), std::invalid_argument,
                    "duplicate scenario name 'baseline'");
  result = make_result(0);
  result.variables[0] = "a/b";
  EXPECT_THROW_WITH(write_result(path, result), std::invalid_argument,
                    "invalid variable name 'a/b'");
  result = make_result(0);
  result.variables[0] = "time";
  EXPECT_THROW_WITH(write_result(path, result), std::invalid_argument,
                    "variable name 'time' is reserved");
  EXPECT_TRUE(entries().empty());
}

TEST_F(ResultWriterTest, ReadRejectsFilesThatAreNotCompleteResults) {
  const fs::path missing = dir_ / "missing.h5";
  EXPECT_THROW_WITH(read_result(missing), h5::Error, "cannot open file '" + missing.string());

  const fs::path text = dir_ / "text.h5";
  std::ofstream(text) << "not HDF5\n";
  EXPECT_THROW_WITH(read_result(text), h5::Error, "cannot open file '" + text.string());

  const fs::path foreign = dir_ / "foreign.h5";
  {
    h5::File file = h5::File::create(foreign);
    file.root().set_attribute("model", "other");
  }
  EXPECT_THROW_WITH(read_result(foreign), h5::Error,
                    foreign.string() + ": not a carecast result (no root attribute 'complete')");

  const fs::path incomplete = dir_ / "incomplete.h5";
  {
    h5::File file = h5::File::create(incomplete);
    file.root().set_attribute("complete", std::int64_t{0});
  }
  EXPECT_THROW_WITH(read_result(incomplete), h5::Error,
                    incomplete.string() + ": file is incomplete (attribute complete != 1)");
}

// ---- the h5 layer ---------------------------------------------------------------------------

TEST_F(ResultWriterTest, H5ErrorsNameTheOperationTheObjectAndTheFile) {
  const fs::path path = dir_ / "layer.h5";
  h5::File file = h5::File::create(path);
  {
    h5::Group root = file.root();
    h5::Group group = root.require_group("a/b");
    const std::vector<double> values = {1.0, 2.0};
    group.write_dataset("x", {2}, values);
    EXPECT_THROW_WITH(group.write_dataset("x", {2}, values), h5::Error,
                      "HDF5: cannot create dataset 'a/b/x' in " + path.string() + ": ");
    EXPECT_THROW_WITH(
        group.write_dataset("y", {3}, values), h5::Error,
        "cannot write dataset 'a/b/y' in " + path.string() + ": 2 values for shape [3]");
    EXPECT_THROW_WITH(root.open_dataset("a/nothing"), h5::Error,
                      "HDF5: cannot open dataset 'a/nothing' in " + path.string());
    EXPECT_THROW_WITH(root.string_attribute("nothing"), h5::Error,
                      "HDF5: cannot open attribute 'nothing' of '/' in " + path.string());
    // The "semi" close degree: a file does not close while objects in it are open.
    EXPECT_THROW_WITH(file.close(), h5::Error, "HDF5: cannot close file '" + path.string());
  }
  file.close();
}

// Chunks filtered away from HDF5 are what HDF5 itself would have stored: the same values read
// back, the same filters on the dataset, and the same bytes on disk as the same array written
// through HDF5's filters (a last chunk padded, values spread over every byte).
TEST_F(ResultWriterTest, H5FilteredChunksAreStoredAsHdf5WouldStoreThem) {
  const fs::path path = dir_ / "chunks.h5";
  const std::vector<hsize_t> dims = {7, 5, 3};  // chunks of 3 rows: 3, 3 and a padded 1
  std::vector<float> values(7 * 5 * 3);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(1e4 / (static_cast<double>(i) + 3.0)) - 100.0f;
  }
  const h5::FilteredChunks chunks(values, dims, 3);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks.chunk(), (std::vector<hsize_t>{3, 5, 3}));
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    root.write_dataset("ours", chunks);
    root.write_dataset("hdf5s", dims, values, {3, 5, 3});
  }
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  const h5::Dataset ours = root.open_dataset("ours");
  const h5::Dataset theirs = root.open_dataset("hdf5s");
  EXPECT_EQ(ours.dims(), dims);
  EXPECT_EQ(ours.read<float>(), values);
  const auto filters = [](const h5::Dataset& d) {
    const hid_t plist = H5Dget_create_plist(d.id());
    const int n = H5Pget_nfilters(plist);
    H5Pclose(plist);
    return n;
  };
  EXPECT_EQ(filters(ours), 2);  // shuffle and deflate
  EXPECT_EQ(filters(theirs), 2);
  EXPECT_EQ(H5Dget_storage_size(ours.id()), H5Dget_storage_size(theirs.id()));
  for (hsize_t row = 0; row < 7; row += 3) {
    const std::vector<hsize_t> offset = {row, 0, 0};
    hsize_t our_size = 0, their_size = 0;
    ASSERT_GE(H5Dget_chunk_storage_size(ours.id(), offset.data(), &our_size), 0);
    ASSERT_GE(H5Dget_chunk_storage_size(theirs.id(), offset.data(), &their_size), 0);
    std::vector<unsigned char> ours_bytes(our_size), theirs_bytes(their_size);
    std::uint32_t mask = 1;
    ASSERT_GE(H5Dread_chunk(ours.id(), H5P_DEFAULT, offset.data(), &mask, ours_bytes.data()), 0);
    EXPECT_EQ(mask, 0u);
    ASSERT_GE(H5Dread_chunk(theirs.id(), H5P_DEFAULT, offset.data(), &mask, theirs_bytes.data()),
              0);
    EXPECT_EQ(ours_bytes, theirs_bytes) << "chunk at row " << row;
  }
  EXPECT_THROW_WITH(h5::FilteredChunks(values, {7, 5, 2}, 3), h5::Error,
                    "HDF5: 105 values cannot be cut into chunks of 3 rows of shape [7, 5, 2]");
}

TEST_F(ResultWriterTest, H5GroupsAttributesAndStrings) {
  const fs::path path = dir_ / "layer.h5";
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    h5::Group c = root.require_group("a/b/c");
    EXPECT_EQ(c.path(), "a/b/c");
    root.require_group("a/b/d");  // reuses a and b
    root.require_group("a/b/c");  // exists already: opened
    c.set_attribute("n", std::int64_t{-7});
    c.set_attribute("n", std::int64_t{8});  // replaced
    c.set_attribute("u", std::uint64_t{18446744073709551615u});
    c.set_attribute("x", 0.1);
    c.set_attribute("s", "héllo");
    const std::vector<std::string> words = {"", "Zürich", "a longer string"};
    c.write_strings("words", words);
    const std::vector<float> values = {1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f};
    c.write_dataset("chunked", {2, 3}, values, {1, 3});
  }
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  EXPECT_EQ(root.open_group("a/b").children(), (std::vector<std::string>{"c", "d"}));
  const h5::Group c = root.open_group("a/b/c");
  EXPECT_EQ(c.attribute<std::int64_t>("n"), 8);
  EXPECT_EQ(c.attribute<std::uint64_t>("u"), 18446744073709551615u);
  EXPECT_EQ(c.attribute<double>("x"), 0.1);
  EXPECT_EQ(c.string_attribute("s"), "héllo");
  EXPECT_THROW_WITH(c.string_attribute("x"), h5::Error,
                    "HDF5: cannot read attribute 'x' of 'a/b/c' in " + path.string() +
                        " as a string: it is not one");
  EXPECT_EQ(c.open_dataset("words").read_strings(),
            (std::vector<std::string>{"", "Zürich", "a longer string"}));
  EXPECT_EQ(c.open_dataset("chunked").read<float>(),
            (std::vector<float>{1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f}));
  EXPECT_EQ(c.open_dataset("chunked").read<double>(),
            (std::vector<double>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}));
}

}  // namespace
}  // namespace carecast::engine
