// Stop requests seen between model passes, not only between batches: one batch of a large model can hold
// minutes of passes (Score-CAM's masked forwards, the metrics' deletion and insertion curves on Inception
// V3), longer than Slurm's grace time after its warning signal. Whoever drives the work installs a check for
// the calls it makes; every model pass asks it first and, told to stop, throws WorkInterrupted, which drops
// the work in hand (a resume computes it again).
#pragma once

#include <exception>
#include <functional>

namespace pixab {

// Thrown at an interruption point once the installed check says to stop. Not a pixab::Error and not a model
// failure: nothing may record it as an item's fault.
class WorkInterrupted : public std::exception {
 public:
  const char* what() const noexcept override { return "work interrupted by a stop request"; }
};

// Installs `keep_going` as this thread's check for its lifetime (the previous one is restored afterwards).
class ScopedInterruptionCheck {
 public:
  explicit ScopedInterruptionCheck(std::function<bool()> keep_going);
  ~ScopedInterruptionCheck();
  ScopedInterruptionCheck(const ScopedInterruptionCheck&) = delete;
  ScopedInterruptionCheck& operator=(const ScopedInterruptionCheck&) = delete;

 private:
  std::function<bool()> previous_;
};

// Throws WorkInterrupted when this thread's check (if any) returns false.
void interruption_point();

}  // namespace pixab
