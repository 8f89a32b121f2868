// The thread's installed stop check (see interruption.hpp).
#include "io/interruption.hpp"

#include <utility>

namespace pixab {

namespace {

thread_local std::function<bool()> t_keep_going;

}  // namespace

ScopedInterruptionCheck::ScopedInterruptionCheck(std::function<bool()> keep_going)
    : previous_(std::exchange(t_keep_going, std::move(keep_going))) {}

ScopedInterruptionCheck::~ScopedInterruptionCheck() { t_keep_going = std::move(previous_); }

void interruption_point() {
  if (t_keep_going && !t_keep_going()) throw WorkInterrupted();
}

}  // namespace pixab
