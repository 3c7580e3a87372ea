#include "engine/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace carecast::engine {
namespace {

// A temporary file (not a terminal) that is read back as text.
class TempFile {
 public:
  TempFile() : file_(std::tmpfile()) {}
  ~TempFile() {
    if (file_) std::fclose(file_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::FILE* get() const { return file_; }
  std::string text() const {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file_)) > 0) out.append(buffer, n);
    return out;
  }

 private:
  std::FILE* file_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// The percentage of a line "progress: 40% (...)"; -1 if none.
int percent_of(const std::string& line, const std::string& prefix) {
  if (!starts_with(line, prefix)) return -1;
  return std::atoi(line.c_str() + prefix.size());
}

// Counts only: lines at every 10%, never because of time.
ProgressOptions count_lines() {
  ProgressOptions options;
  options.style = ProgressStyle::kLines;
  options.line_seconds = 1e9;
  options.line_fraction = 0.1;
  return options;
}

TEST(Progress, PlainLinesFromTwoThreads) {
  TempFile file;
  ASSERT_NE(file.get(), nullptr);
  {
    ProgressOptions options;  // kAuto: a temporary file is not a terminal
    options.line_seconds = 1e9;
    Progress progress(10'000, "", file.get(), options);
    auto work = [&] {
      for (int block = 0; block < 50; ++block) progress.advance(100);
    };
    std::thread a(work), b(work);
    a.join();
    b.join();
    EXPECT_EQ(progress.done(), 10'000u);
    progress.finish();
  }
  const std::string text = file.text();
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  const auto lines = lines_of(text);
  ASSERT_GE(lines.size(), 2u) << text;
  int last = 0;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const int pct = percent_of(lines[i], "progress: ");
    EXPECT_GT(pct, last) << lines[i];
    EXPECT_LT(pct, 100) << lines[i];
    EXPECT_NE(lines[i].find("/10000 trajectories, "), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find("/s, ETA "), std::string::npos) << lines[i];
    last = pct;
  }
  EXPECT_TRUE(starts_with(lines.back(), "done: 10000 trajectories in ")) << lines.back();
  EXPECT_NE(lines.back().find(" s ("), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find(" trajectories/s)"), std::string::npos) << lines.back();
}

TEST(Progress, OneLinePerTenPercent) {
  TempFile file;
  {
    Progress progress(10'000, "", file.get(), count_lines());
    for (int block = 0; block < 1000; ++block) progress.advance(10);
    progress.finish();
  }
  const auto lines = lines_of(file.text());
  ASSERT_EQ(lines.size(), 10u);  // 10%, ..., 90%, then the closing line
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(percent_of(lines[static_cast<std::size_t>(i)], "progress: "), 10 * (i + 1));
    EXPECT_TRUE(starts_with(lines[static_cast<std::size_t>(i)],
                            "progress: " + std::to_string(10 * (i + 1)) + "% (" +
                                std::to_string(1000 * (i + 1)) + "/10000 trajectories, "))
        << lines[static_cast<std::size_t>(i)];
  }
  EXPECT_TRUE(starts_with(lines[9], "done: 10000 trajectories in ")) << lines[9];
}

TEST(Progress, LabelAndUnit) {
  TempFile file;
  {
    ProgressOptions options = count_lines();
    options.unit = "draws";
    Progress progress(200, "baseline", file.get(), options);
    progress.advance(50);
    progress.advance(150);
    progress.finish();
  }
  const auto lines = lines_of(file.text());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(starts_with(lines[0], "baseline: 25% (50/200 draws, ")) << lines[0];
  EXPECT_TRUE(starts_with(lines[1], "baseline: done: 200 draws in ")) << lines[1];
  EXPECT_NE(lines[1].find(" draws/s)"), std::string::npos) << lines[1];
}

TEST(Progress, TimeBasedLinesWhenIntervalIsZero) {
  TempFile file;
  {
    ProgressOptions options;
    options.style = ProgressStyle::kLines;
    options.line_seconds = 0.0;   // a line at every advance
    options.line_fraction = 0.0;  // and none because of counts
    Progress progress(1000, "", file.get(), options);
    for (int i = 0; i < 5; ++i) progress.advance(1);
    progress.finish();
  }
  const auto lines = lines_of(file.text());
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_TRUE(starts_with(lines[0], "progress: 0% (1/1000 trajectories, ")) << lines[0];
  EXPECT_TRUE(starts_with(lines[4], "progress: 0% (5/1000 trajectories, ")) << lines[4];
}

TEST(Progress, FinishEarlyAndTwice) {
  TempFile file;
  {
    Progress progress(100, "", file.get(), count_lines());
    progress.advance(40);
    progress.finish();
    const double elapsed = progress.elapsed_seconds();
    progress.finish();                               // prints nothing more
    progress.advance(10);                            // counted, not printed
    EXPECT_EQ(progress.elapsed_seconds(), elapsed);  // the clock stopped at finish()
    EXPECT_EQ(progress.done(), 50u);
  }
  const auto lines = lines_of(file.text());
  ASSERT_EQ(lines.size(), 2u) << file.text();  // one line for the jump to 40%, the closing line
  EXPECT_EQ(percent_of(lines[0], "progress: "), 40);
  EXPECT_TRUE(starts_with(lines[1], "done: 40 of 100 trajectories in ")) << lines[1];
}

TEST(Progress, BarOverwritesItselfAndEndsWithClosingLine) {
  TempFile file;
  {
    ProgressOptions options;
    options.style = ProgressStyle::kBar;
    options.redraw_seconds = 0.0;  // redraw at every advance
    Progress progress(1000, "", file.get(), options);
    for (int i = 0; i < 10; ++i) progress.advance(100);
    progress.finish();
  }
  const std::string text = file.text();
  EXPECT_EQ(text.front(), '\r');
  EXPECT_NE(text.find("progress: [###"), std::string::npos) << text;
  EXPECT_NE(text.find("100% 1000/1000"), std::string::npos) << text;
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 1u);  // all on one line, redrawn with '\r'
  const std::string last = lines[0].substr(lines[0].rfind('\r') + 1);
  EXPECT_TRUE(starts_with(last, "done: 1000 trajectories in ")) << last;
}

TEST(Progress, UnfinishedBarIsEndedByDestructor) {
  TempFile file;
  {
    ProgressOptions options;
    options.style = ProgressStyle::kBar;
    Progress progress(10, "", file.get(), options);
    progress.advance(3);
  }
  const std::string text = file.text();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, QuietPrintsNothing) {
  TempFile file;
  {
    ProgressOptions options = count_lines();
    options.style = ProgressStyle::kQuiet;
    Progress progress(1000, "", file.get(), options);
    EXPECT_TRUE(progress.is_quiet());
    std::thread a([&] {
      for (int i = 0; i < 500; ++i) progress.advance(1);
    });
    for (int i = 0; i < 500; ++i) progress.advance(1);
    a.join();
    progress.finish();
    EXPECT_EQ(progress.done(), 1000u);
    EXPECT_GE(progress.elapsed_seconds(), 0.0);
    EXPECT_GE(progress.rate(), 0.0);
  }
  EXPECT_EQ(file.text(), "");

  Progress null_out(10, "x", nullptr);  // a null FILE* is quiet too
  EXPECT_TRUE(null_out.is_quiet());
  null_out.advance(10);
  null_out.finish();
  Progress q = Progress::quiet(5);
  EXPECT_TRUE(q.is_quiet());
  q.advance(5);
  q.finish();
  EXPECT_EQ(q.done(), 5u);
}

TEST(Progress, ZeroTotal) {
  TempFile file;
  {
    Progress progress(0, "", file.get(), count_lines());
    progress.advance(0);
    progress.finish();
  }
  const auto lines = lines_of(file.text());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(starts_with(lines[0], "done: 0 trajectories in ")) << lines[0];
}

}  // namespace
}  // namespace carecast::engine
