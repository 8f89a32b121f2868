// Progress lines: rate from the whole run so far, so the ETA is steady rather than jumping with each batch.
#include "pipeline/progress.hpp"

#include <spdlog/spdlog.h>

namespace pixab {

Progress::Progress(std::size_t total, double interval_seconds, std::size_t already_done)
    : total_(total),
      already_done_(already_done),
      done_(already_done),
      interval_(interval_seconds),
      start_(Clock::now()),
      last_line_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void Progress::advance(std::size_t items) { report(done_ + items); }

void Progress::report(std::size_t done) {
  done_ = done;
  const auto now = Clock::now();
  if (std::chrono::duration<double>(now - last_line_).count() >= interval_) {
    last_line_ = now;
    log_line();
  }
}

void Progress::finish() {
  if (done_ != logged_done_) log_line();  // the last line, unless advance() just logged it
}

void Progress::log_line() {
  logged_done_ = done_;
  const double seconds = elapsed_seconds();
  const double rate = seconds > 0 ? (done_ - already_done_) / seconds : 0.0;
  const double percent = total_ > 0 ? 100.0 * done_ / total_ : 100.0;
  const double eta = rate > 0 ? (total_ - done_) / rate : 0.0;
  spdlog::info("progress: {}/{} items ({:.1f}%), {:.2f} items/s, elapsed {:.0f} s, ETA {:.0f} s", done_,
               total_, percent, rate, seconds, eta);
}

}  // namespace pixab
