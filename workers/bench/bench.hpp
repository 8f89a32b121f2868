// `pixab bench`: times each CAM method per image against its limit, the time of exactly the model passes the
// method needs (its registry entry's), measured in the same process on the same inputs; counts those passes
// and the peak memory. No MPI here.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/model.hpp"
#include "workers/cams/cam_settings.hpp"
#include "workers/metrics/metric_settings.hpp"

namespace pixab {

struct BenchOptions {
  std::vector<std::string> methods;  // empty: every implemented method
  int images = 10;                   // synthetic inputs; the medians are over their batches
  int batch_size = 1;                // images per CamBatch; 1 measures per-image latency
  int warmup = 1;                    // untimed runs of each method and its limit before timing
  std::uint64_t seed = 0;            // of the synthetic inputs
  CamSettings cams;                  // the batch sizes of the methods' chunked passes
  MetricSettings metrics;            // empty metrics list: no whole_image_metrics row
  int attack_steps = 20;             // steps of the adversarial_attack row (0: no such row)
};

// Model passes per image, by kind: rows through `features`, through `head` (with or without a graph), through
// `forward`, and backward passes. A pass made once per batch (a baseline) counts 1 / batch_size per image.
struct PassCounts {
  double features = 0;
  double head = 0;
  double forward = 0;
  double backward = 0;
  double total() const { return features + head + forward + backward; }
};

struct BenchRow {
  std::string id;           // a method id, "whole_image" or "whole_image_metrics"
  double ms_per_image = 0;  // median over batches of (time of one batch) / batch_size
  double limit_ms = 0;      // median over the same batches of the time of its model passes alone, per image
  PassCounts passes;        // per image
  double peak_rss_mb = 0;   // process peak RSS during one untimed run of the method on one batch
  double base_rss_mb = 0;   // process RSS just before that run (model, runtime, buffers kept from before)
  double ratio() const { return limit_ms > 0 ? ms_per_image / limit_ms : 0; }
};

struct BenchReport {
  std::vector<BenchRow> methods;  // in the order asked
  BenchRow whole_image;           // every method on one shared CamBatch vs the sum of the distinct passes
  // whole_image plus every metric of every method (MetricEvaluator) vs those passes plus the metric passes;
  // absent (empty id) without metrics
  BenchRow whole_image_metrics;
  // The adversarial tasks' targeted attack (one patch of 20% of each side, attack_steps steps per example) vs
  // its forward and backward passes alone; absent (empty id) with attack_steps = 0
  BenchRow adversarial_attack;
  int images = 0, batch_size = 0, warmup = 0, threads = 0;
  // false where the kernel does not let a process reset its peak RSS: then peak_rss_mb is the process's peak
  // so far, monotone over the rows in their order.
  bool peak_rss_per_method = true;
};

// Runs the benchmark on seeded random images in model-input space. ConfigError for unknown or repeated
// methods or images not a multiple of batch_size.
BenchReport run_bench(const Model& model, const BenchOptions& options);

// The report as a Markdown table (one row per method, then whole_image and whole_image_metrics) with a line
// saying what was measured.
std::string bench_markdown(const BenchReport& report, const Model& model);

// One object keyed by method id (and "whole_image", "whole_image_metrics"), each with ms_per_image, limit_ms,
// ratio, passes, pass_breakdown, peak_rss_mb and base_rss_mb.
nlohmann::json bench_json(const BenchReport& report);

}  // namespace pixab
