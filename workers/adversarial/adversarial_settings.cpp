// Checks of the [adversarial] settings.
#include "workers/adversarial/adversarial_settings.hpp"

#include <fmt/format.h>

#include <cmath>

#include "io/error.hpp"

namespace pixab {

int alpha_levels(double alpha) {
  const double levels = alpha * 255.0;
  const double whole = std::round(levels);
  if (!(whole >= 1) || std::abs(levels - whole) > 1e-6)
    throw ConfigError(fmt::format(
        "adversarial.alpha = {} is not a positive multiple of 1/255: every attacked pixel must stay on the 8-bit "
        "grid so that the stored example is the one explained (e.g. 2/255 = {})",
        alpha, 2.0 / 255.0));
  return static_cast<int>(whole);
}

void check_adversarial_settings(const AdversarialSettings& s, int task_kmin) {
  const int kmin = s.kmin > 0 ? s.kmin : task_kmin;
  if (s.kmin < 0 || kmin > s.kmax)
    throw ConfigError(fmt::format("adversarial.kmin = {} and adversarial.kmax = {}: need 1 <= kmin <= kmax", kmin, s.kmax));
  alpha_levels(s.alpha);
  if (!(s.confidence > 0 && s.confidence <= 1))
    throw ConfigError(fmt::format("adversarial.confidence = {} is outside (0, 1]", s.confidence));
  if (s.max_iters < 1) throw ConfigError(fmt::format("adversarial.max_iters = {}: need at least 1", s.max_iters));
  if (!(s.size_min > 0 && s.size_min <= s.size_max && s.size_max <= 1))
    throw ConfigError(fmt::format("adversarial.size_min = {}, adversarial.size_max = {}: need 0 < min <= max <= 1",
                                  s.size_min, s.size_max));
  if (!(s.cop_threshold >= 0 && s.cop_threshold <= 1))
    throw ConfigError(fmt::format("adversarial.cop_threshold = {} is outside [0, 1]", s.cop_threshold));
}

}  // namespace pixab
