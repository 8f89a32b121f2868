// The adversarial-patch benchmark's settings (metrics.md "Adversarial examples", config table [adversarial]).
#pragma once

#include <cstdint>
#include <string>

namespace pixab {

struct AdversarialSettings {
  int kmin = 0, kmax = 9;         // patches per example; kmin 0: the task's own (1 for dap1, 2 for dap2)
  double alpha = 2.0 / 255.0;     // the attack's step, a multiple of 1/255 so that examples stay 8-bit
  double confidence = 0.9;        // the attack stops once the top-1 is the target with p_t >= confidence
  int max_iters = 200;            // steps per attack (per stage for AE1)
  double size_min = 0.15, size_max = 0.20;  // patch side, as a fraction of the input's side
  std::uint64_t count = 500;      // AE2s of a dap2 run
  double cop_threshold = 0.5;     // COP: a channel covers a pixel where s(U(A^k)) >= cop_threshold
};

// The step in 8-bit levels: alpha * 255, which must be a whole number >= 1 (ConfigError otherwise).
int alpha_levels(double alpha);

// ConfigError naming the key for a setting out of range (kmin > kmax, sizes outside (0, 1], ...). `task_kmin`
// is the task's default for kmin = 0.
void check_adversarial_settings(const AdversarialSettings& settings, int task_kmin);

}  // namespace pixab
