// Progress of a long run, for the person watching it.
//
// Worker threads call advance() after each block of trajectories; it is thread-safe and cheap (an
// atomic add and, unless a report is due, a clock read). Printing happens under a mutex, taken with
// try_lock by advance() (a worker never waits for another's printing), so only one thread prints
// at a time. The reporter depends on nothing else in the engine.
//
// Output, chosen by ProgressOptions::style (kAuto: by whether `out` is a terminal):
//   bar (a terminal): one line redrawn with '\r' at most every redraw_seconds (0.1 s), e.g.
//       progress: [############------------------]  40% 4000/10000 3512/s ETA 2s
//   lines (not a terminal): a plain line each time another line_fraction (10%) of the total is done
//   or line_seconds (10 s) have passed since the last line, whichever comes first, e.g.
//       progress: 40% (4000/10000 trajectories, 3512/s, ETA 2s)
//   quiet: nothing (also when `out` is null).
// finish() prints the closing line (after clearing a bar), e.g.
//       done: 10000 trajectories in 2.85 s (3508 trajectories/s)
// A non-empty label replaces "progress" in the progress lines and prefixes the closing line
// ("baseline: done: ..."). If fewer than `total` were done, it reads "done: 4000 of 10000 ...".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace carecast::engine {

enum class ProgressStyle {
  kAuto,   // kBar if `out` is a terminal, kLines otherwise
  kBar,    // one line, redrawn with '\r'
  kLines,  // plain lines
  kQuiet,  // no output
};

struct ProgressOptions {
  ProgressStyle style = ProgressStyle::kAuto;
  std::string unit = "trajectories";
  double redraw_seconds = 0.1;  // bar: at most one redraw per this many seconds
  double line_seconds = 10.0;   // lines: a line at least this often (while advancing)...
  double line_fraction = 0.1;   // ...and each time this fraction of the total more is done
};

class Progress {
 public:
  // `total`: the number of units (trajectories) the run will do.
  Progress(std::uint64_t total, std::string label, std::FILE* out = stderr,
           ProgressOptions options = {});
  // A reporter that prints nothing (still counts, times and rates).
  static Progress quiet(std::uint64_t total) { return Progress(total, "", nullptr); }

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();  // ends a bar line if finish() was not called

  // Records that `done_now` more units were just completed. Thread-safe.
  void advance(std::uint64_t done_now);
  // Prints the closing line and stops the clock. Further calls and advance() print nothing.
  void finish();

  std::uint64_t total() const { return total_; }
  std::uint64_t done() const { return done_.load(std::memory_order_relaxed); }
  bool is_quiet() const { return style_ == ProgressStyle::kQuiet; }
  // Seconds since construction (up to finish(), once called).
  double elapsed_seconds() const;
  // Units per second so far (0 before any time has passed).
  double rate() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::int64_t elapsed_ns() const;
  // Prints what is due; called with print_mutex_ held.
  void report();
  void write(const std::string& text);  // print_mutex_ held
  std::string bar_text(std::uint64_t done, double seconds) const;
  std::string line_text(std::uint64_t done, double seconds) const;
  std::string closing_text(std::uint64_t done, double seconds) const;

  const std::uint64_t total_;
  const std::string label_;
  std::FILE* const out_;
  const ProgressOptions options_;
  ProgressStyle style_;          // resolved: kBar, kLines or kQuiet
  std::uint64_t line_step_ = 1;  // units between lines
  const Clock::time_point start_;

  std::atomic<std::uint64_t> done_{0};
  // A report is due once done_ reaches next_count_ or elapsed_ns() reaches next_due_ns_.
  std::atomic<std::uint64_t> next_count_{0};
  std::atomic<std::int64_t> next_due_ns_{0};
  std::atomic<bool> finished_{false};
  std::atomic<std::int64_t> finished_ns_{0};

  std::mutex print_mutex_;
  bool bar_open_ = false;  // a bar is on screen without a newline after it
  std::size_t bar_width_ = 0;
};

}  // namespace carecast::engine
