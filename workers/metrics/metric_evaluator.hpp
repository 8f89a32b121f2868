// Every metric of every method for a batch of images whose maps are computed: the model inputs of all methods
// and steps (masked images, deletion and insertion steps) go through the model together, in large batches.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/box.hpp"
#include "io/model.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/metrics/metric_settings.hpp"
#include "workers/tasks/row_arrays.hpp"

namespace pixab {

// Per-image results by in-file path: "metrics/<method>/<metric>" [B] and "curves/<method>/{deletion,insertion}"
// [B, steps+1], float32 on the CPU.
using MetricArrays = std::vector<std::pair<std::string, torch::Tensor>>;

class MetricEvaluator {
 public:
  // ConfigError for bad settings (check_metric_settings).
  MetricEvaluator(const Model& model, MetricSettings settings);

  const MetricSettings& settings() const { return settings_; }

  // Declares the arrays this writes for `method`: float32, NaN when not computed.
  void declare_arrays(const std::string& method, ArraySpecs& specs) const;

  // maps: (method id, L [B,h,w]) in output order; boxes: the target region's boxes of each image in model-input
  // coordinates. Uses the batch's inputs, targets and clean logits.
  MetricArrays evaluate(CamBatch& batch, const std::vector<std::pair<std::string, torch::Tensor>>& maps,
                        const std::vector<std::vector<Box>>& boxes) const;

  // Rows through the model per image for `methods` methods (for the benchmark's pass count).
  std::int64_t forward_rows_per_image(std::int64_t methods) const;

 private:
  const Model& model_;
  MetricSettings settings_;
};

}  // namespace pixab
