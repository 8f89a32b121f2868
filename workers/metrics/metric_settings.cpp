// Metric ids and the checks of their parameters.
#include "workers/metrics/metric_settings.hpp"

#include <algorithm>
#include <set>

#include "io/error.hpp"

namespace pixab {

bool MetricSettings::has(const std::string& id) const {
  return std::find(metrics.begin(), metrics.end(), id) != metrics.end();
}

const std::vector<std::string>& implemented_metrics() {
  static const std::vector<std::string> ids = {
      "average_drop",  "increase_in_confidence", "compactness", "deletion_auc", "insertion_auc",
      "pointing_game", "proportion",             "loc_iou",     "loc_correct"};
  return ids;
}

void check_metric_settings(const MetricSettings& settings) {
  std::set<std::string> seen;
  for (const auto& id : settings.metrics) {
    const auto& known = implemented_metrics();
    if (std::find(known.begin(), known.end(), id) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError("metrics: unknown metric '" + id + "' (known: " + list + ")");
    }
    if (!seen.insert(id).second) throw ConfigError("metrics: '" + id + "' is listed twice");
  }
  if (settings.steps < 1) throw ConfigError("steps must be at least 1");
  if (!(settings.tolerance_px >= 0)) throw ConfigError("tolerance_px must be >= 0");
  if (!(settings.loc_threshold >= 0 && settings.loc_threshold <= 1))
    throw ConfigError("loc_threshold must be in [0, 1]");
  if (settings.full_batch_size < 1) throw ConfigError("full_batch_size must be at least 1");
}

}  // namespace pixab
