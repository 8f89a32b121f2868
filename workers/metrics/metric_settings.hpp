// The metrics a run computes (metrics.md) and their parameters, as the config names them.
#pragma once

#include <string>
#include <vector>

namespace pixab {

struct MetricSettings {
  std::vector<std::string> metrics;  // metric ids, in output order; empty: none
  int steps = 100;                   // deletion / insertion steps (steps + 1 curve points)
  double tolerance_px = 0;           // pointing game: a hit within this Euclidean radius of the region
  double loc_threshold = 0.15;       // weakly supervised localisation: E >= loc_threshold * max E
  int full_batch_size = 64;          // inputs per forward pass of the metric passes

  bool has(const std::string& id) const;
};

// Every metric id of metrics.md this build computes, in the order the results file and report list them.
const std::vector<std::string>& implemented_metrics();

// ConfigError for an unknown or repeated id, steps < 1, a negative tolerance or a threshold outside [0, 1].
void check_metric_settings(const MetricSettings& settings);

}  // namespace pixab
