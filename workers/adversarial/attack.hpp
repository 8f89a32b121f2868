// The targeted attack of the adversarial examples (metrics.md "Adversarial examples"): the paper's FGSM,
// iterated, on 8-bit levels so that every example it makes is exactly an 8-bit image.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <vector>

#include "io/model.hpp"

namespace pixab {

struct AttackSettings {
  int step_levels = 2;      // alpha in 8-bit levels (alpha * 255)
  double confidence = 0.9;  // reached: top-1 is the target and p_t >= confidence
  int max_iters = 200;      // steps at most
};

// Where a batch of examples ended. Host vectors, one entry per example.
struct AttackOutcome {
  torch::Tensor levels;            // [B,C,H,W] float32 whole numbers in [0,255], on the model's device
  std::vector<int> iterations;     // steps taken
  std::vector<float> target_prob;  // p_t of the final example
  std::vector<std::int64_t> top1;  // the model's top-1 on the final example
  std::vector<bool> reached;       // top-1 is the target with p_t >= confidence
};

// Attacks every example of the batch towards its target, all together (one forward and one backward pass of
// the examples still running per step):
//   levels <- clip_[0,255](levels - step_levels * sign(d CE(f(norm(levels / 255)), t) / d levels) * mask)
// until it is reached or max_iters steps are taken; only pixels where mask is 1 change. levels: [B,C,H,W]
// whole numbers in [0,255]; masks: [B,1,H,W] of 0 and 1; targets: [B] class indices. In eval mode each
// example's gradient is its own; only a batched kernel's rounding can tie it to the batch it runs in.
AttackOutcome targeted_attack(const Model& model, torch::Tensor levels, const torch::Tensor& masks,
                              const torch::Tensor& targets, const AttackSettings& settings);

// The top-1 and p_t of examples as they are, without attacking (what the attack's stopping test sees).
AttackOutcome score_examples(const Model& model, const torch::Tensor& levels, const torch::Tensor& targets,
                             const AttackSettings& settings);

}  // namespace pixab
