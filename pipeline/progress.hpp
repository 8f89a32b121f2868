// Progress of long work: items done / total, items per second and ETA, logged at a steady interval.
#pragma once

#include <chrono>
#include <cstddef>

namespace pixab {

class Progress {
 public:
  // already_done: items finished before this run (a resume); the rate counts only this run's.
  Progress(std::size_t total, double interval_seconds, std::size_t already_done = 0);
  // Adds finished items; logs when the interval has passed since the last line.
  void advance(std::size_t items);
  // Sets the items finished so far (all of them, e.g. job-wide); logs as advance() does.
  void report(std::size_t done);
  // Logs the final line (unless the last advance() logged it).
  void finish();
  double elapsed_seconds() const;

 private:
  void log_line();

  using Clock = std::chrono::steady_clock;
  std::size_t total_, already_done_, done_, logged_done_ = static_cast<std::size_t>(-1);
  double interval_;
  Clock::time_point start_, last_line_;
};

}  // namespace pixab
