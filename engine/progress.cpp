#include "engine/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <limits>
#include <utility>

namespace carecast::engine {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::uint64_t kNoCount = std::numeric_limits<std::uint64_t>::max();

std::int64_t to_ns(double seconds) {
  if (!(seconds > 0.0)) return 0;
  if (seconds > 1e9) return kNever;
  return static_cast<std::int64_t>(seconds * 1e9);
}

std::string format(const char* pattern, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* pattern, ...) {
  char buffer[512];
  va_list args;
  va_start(args, pattern);
  const int n = std::vsnprintf(buffer, sizeof buffer, pattern, args);
  va_end(args);
  if (n < 0) return {};
  return std::string(buffer, std::min(static_cast<std::size_t>(n), sizeof buffer - 1));
}

// 3512, 12.5 or 0.25 (per second).
std::string format_rate(double rate) {
  if (rate >= 10.0) return format("%.0f", rate);
  if (rate >= 1.0) return format("%.1f", rate);
  return format("%.2f", rate);
}

// 2s, 4m05s, 3h07m; "?" when unknown.
std::string format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0 || seconds > 1e8) return "?";
  const auto s = static_cast<std::int64_t>(std::ceil(seconds));
  if (s < 60) return format("%llds", static_cast<long long>(s));
  if (s < 3600)
    return format("%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return format("%lldh%02lldm", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60));
}

// Percent done, rounded down (100% only when all is done).
int percent(std::uint64_t done, std::uint64_t total) {
  if (total == 0 || done >= total) return 100;
  return static_cast<int>(
      std::floor(100.0 * static_cast<double>(done) / static_cast<double>(total)));
}

double eta_seconds(std::uint64_t done, std::uint64_t total, double seconds) {
  if (done >= total) return 0.0;
  if (done == 0 || !(seconds > 0.0)) return std::numeric_limits<double>::infinity();
  return static_cast<double>(total - done) * seconds / static_cast<double>(done);
}

double rate_of(std::uint64_t done, double seconds) {
  return seconds > 0.0 ? static_cast<double>(done) / seconds : 0.0;
}

}  // namespace

Progress::Progress(std::uint64_t total, std::string label, std::FILE* out, ProgressOptions options)
    : total_(total),
      label_(std::move(label)),
      out_(out),
      options_(std::move(options)),
      style_(options_.style),
      start_(Clock::now()) {
  if (out_ == nullptr) style_ = ProgressStyle::kQuiet;
  if (style_ == ProgressStyle::kAuto) {
    style_ = ::isatty(::fileno(out_)) ? ProgressStyle::kBar : ProgressStyle::kLines;
  }
  switch (style_) {
    case ProgressStyle::kBar:
      next_count_.store(kNoCount);
      next_due_ns_.store(0);  // the first advance() draws
      break;
    case ProgressStyle::kLines: {
      // Lines at multiples of line_step_ units; line_fraction <= 0: time-based lines only.
      const double step = std::ceil(options_.line_fraction * static_cast<double>(total_));
      if (!(options_.line_fraction > 0.0) || !(step < 1.8e19)) {
        line_step_ = kNoCount;
      } else {
        line_step_ = step >= 1.0 ? static_cast<std::uint64_t>(step) : 1;
      }
      next_count_.store(line_step_);
      next_due_ns_.store(to_ns(options_.line_seconds));
      break;
    }
    default:
      next_count_.store(kNoCount);
      next_due_ns_.store(kNever);
      break;
  }
}

Progress::~Progress() {
  const std::lock_guard lock(print_mutex_);
  if (bar_open_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

std::int64_t Progress::elapsed_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count();
}

double Progress::elapsed_seconds() const {
  const std::int64_t ns =
      finished_.load(std::memory_order_acquire) ? finished_ns_.load() : elapsed_ns();
  return static_cast<double>(ns) * 1e-9;
}

double Progress::rate() const { return rate_of(done(), elapsed_seconds()); }

void Progress::advance(std::uint64_t done_now) {
  const std::uint64_t done = done_.fetch_add(done_now, std::memory_order_relaxed) + done_now;
  if (style_ == ProgressStyle::kQuiet) return;
  if (done < next_count_.load(std::memory_order_relaxed) &&
      elapsed_ns() < next_due_ns_.load(std::memory_order_relaxed)) {
    return;
  }
  const std::unique_lock lock(print_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is printing; the next advance() will see it
  if (finished_.load(std::memory_order_relaxed)) return;
  report();
}

void Progress::report() {
  const std::uint64_t done = done_.load(std::memory_order_relaxed);
  const std::int64_t now = elapsed_ns();
  const double seconds = static_cast<double>(now) * 1e-9;
  if (style_ == ProgressStyle::kBar) {
    if (now < next_due_ns_.load(std::memory_order_relaxed)) return;
    next_due_ns_.store(now + to_ns(options_.redraw_seconds), std::memory_order_relaxed);
    std::string text = bar_text(done, seconds);
    const std::size_t width = text.size();
    if (width < bar_width_) text.append(bar_width_ - width, ' ');
    bar_width_ = width;
    write("\r" + text);
    bar_open_ = true;
    return;
  }
  // Lines.
  if (done < next_count_.load(std::memory_order_relaxed) &&
      now < next_due_ns_.load(std::memory_order_relaxed)) {
    return;  // reported meanwhile by another thread
  }
  if (done >= total_) {  // the closing line will say it
    next_count_.store(kNoCount, std::memory_order_relaxed);
    next_due_ns_.store(kNever, std::memory_order_relaxed);
    return;
  }
  next_count_.store((done / line_step_ + 1) * line_step_, std::memory_order_relaxed);
  const std::int64_t interval = to_ns(options_.line_seconds);
  next_due_ns_.store(interval == kNever ? kNever : now + interval, std::memory_order_relaxed);
  write(line_text(done, seconds) + "\n");
}

void Progress::finish() {
  const std::lock_guard lock(print_mutex_);
  if (finished_.load(std::memory_order_relaxed)) return;
  finished_ns_.store(elapsed_ns());
  finished_.store(true, std::memory_order_release);
  if (style_ == ProgressStyle::kQuiet) return;
  const std::string closing = closing_text(done(), elapsed_seconds());
  std::string text;
  if (bar_open_) {  // overwrite the bar
    text = "\r" + closing;
    if (closing.size() < bar_width_) text.append(bar_width_ - closing.size(), ' ');
    bar_open_ = false;
  } else {
    text = closing;
  }
  write(text + "\n");
}

void Progress::write(const std::string& text) {
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

std::string Progress::bar_text(std::uint64_t done, double seconds) const {
  constexpr int kWidth = 30;
  const int pct = percent(done, total_);
  const int filled = pct * kWidth / 100;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '-');
  return format("%s: [%s] %3d%% %llu/%llu %s/s ETA %s",
                label_.empty() ? "progress" : label_.c_str(), bar.c_str(), pct,
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                format_rate(rate_of(done, seconds)).c_str(),
                format_eta(eta_seconds(done, total_, seconds)).c_str());
}

std::string Progress::line_text(std::uint64_t done, double seconds) const {
  return format("%s: %d%% (%llu/%llu %s, %s/s, ETA %s)",
                label_.empty() ? "progress" : label_.c_str(), percent(done, total_),
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                options_.unit.c_str(), format_rate(rate_of(done, seconds)).c_str(),
                format_eta(eta_seconds(done, total_, seconds)).c_str());
}

std::string Progress::closing_text(std::uint64_t done, double seconds) const {
  const std::string prefix = label_.empty() ? "" : label_ + ": ";
  const std::string count = done == total_
                                ? format("%llu", static_cast<unsigned long long>(done))
                                : format("%llu of %llu", static_cast<unsigned long long>(done),
                                         static_cast<unsigned long long>(total_));
  return format("%sdone: %s %s in %.2f s (%s %s/s)", prefix.c_str(), count.c_str(),
                options_.unit.c_str(), seconds, format_rate(rate_of(done, seconds)).c_str(),
                options_.unit.c_str());
}

}  // namespace carecast::engine
