// The sanity check of metrics.md (Adebayo et al.'s cascading model-parameter randomisation): the parameter
// groups, their re-initialisation, the similarity measures, and the per-batch recomputation of every method's
// map on each randomised stage.
#pragma once

#include <torch/script.h>

#include <opencv2/core.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/model.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/tasks/row_arrays.hpp"

namespace pixab {

// A module that owns parameters itself, named by its path in the model ("head.fc"; "" for the root).
struct ParameterGroup {
  std::string name;
  bool batch_norm = false;  // its class name contains "BatchNorm"
};

// The modules of `module` that own parameters directly, in reverse order of registration (output end first):
// stage s of the cascade re-initialises groups 1..s.
std::vector<ParameterGroup> cascade_groups(const torch::jit::Module& module);

// Re-initialises group number `index` (0-based, in cascade order) of `module` in place: weights N(0, 0.01^2),
// biases 0; BatchNorm weight 1, bias 0, running statistics untouched. The draws come from a CPU generator
// seeded by (seed, index), so they do not depend on the device, the batch or the order of calls.
void randomise_group(torch::jit::Module& module, const ParameterGroup& group, std::size_t index,
                     std::uint64_t seed);

// Spearman's rank correlation of two equally sized tensors (flattened): Pearson's correlation of their ranks,
// ties given their average rank. NaN when either is constant.
double spearman_correlation(const torch::Tensor& a, const torch::Tensor& b);

// Mean structural similarity (Wang et al. 2004) of two CV_32FC1 images with values in [0,1]: Gaussian window
// 11x11, sigma 1.5, K1 = 0.01, K2 = 0.03, dynamic range 1, averaged over the positions where the window fits
// inside the image ("valid"). NaN for images smaller than the window.
double ssim(const cv::Mat& a, const cv::Mat& b);

// Runs the cascade for batches of images: for each stage, every method on a copy of the model with groups
// 1..stage re-initialised, for the targets of the original model.
class SanityCheck {
 public:
  // stages = 0: one stage per parameter group; else the first `stages` groups (ConfigError for more than the
  // model has).
  SanityCheck(const Model& model, int stages, std::uint64_t seed);

  // The stages' names: the group each stage adds to the randomised set.
  std::vector<std::string> stage_names() const;

  // Declares "sanity/<method>/{spearman,ssim}" [S] and "sanity/<method>/maps" [S,h,w], float32, NaN when not
  // computed.
  void declare_arrays(const std::string& method, ArraySpecs& specs) const;

  // original: the batch the maps were computed on (inputs, targets); maps: (method id, L [B,h,w]) of the
  // original model, in the order of `methods`. Returns path -> [B, ...] on the CPU. Not thread-safe: it walks
  // one randomised copy of the model through the cascade.
  std::vector<std::pair<std::string, torch::Tensor>> evaluate(
      const std::vector<std::unique_ptr<CamMethod>>& methods, const CamBatch& original,
      const std::vector<std::pair<std::string, torch::Tensor>>& maps) const;

 private:
  // A parameter of the randomised copy, with its value in the original model and once randomised.
  struct ParameterStates {
    torch::Tensor live, original, randomised;
  };

  const Model& model_;
  std::vector<ParameterGroup> groups_;  // the first `stages` of cascade_groups
  std::uint64_t seed_;
  // One copy for the whole run, not one per batch: each batch restores its parameters, then each stage
  // copies in its group's randomised values, drawn once (the draws depend only on seed and group).
  mutable std::unique_ptr<Model> randomised_;
  std::vector<std::vector<ParameterStates>> group_parameters_;  // per group
};

}  // namespace pixab
