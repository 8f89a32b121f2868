// The adversarial examples AE1 and AE2 (metrics.md "Adversarial examples"), from patches already drawn: the
// attacks and how their results are put together. No random draws here (the task makes them).
#pragma once

#include <torch/script.h>

#include <string>
#include <vector>

#include "io/model.hpp"
#include "workers/adversarial/attack.hpp"

namespace pixab {

// A batch of examples as made: 8-bit levels and how the attack went for each.
struct Examples {
  torch::Tensor levels;            // [B,C,H,W] float32 whole numbers in [0,255], on the model's device
  std::vector<int> iterations;     // attack steps (both stages for AE1)
  std::vector<float> target_prob;  // p_t of the final example (AE2: of the patch alone on its canvas)
  std::vector<bool> second_stage;  // AE1: the paste broke the attack and stage 2 ran
  std::vector<std::string> failure;  // empty when the example reached its target, else how far it got
};

// AE1 of each image: stage 1 attacks the patches (masks [B,1,H,W]) together on the all-zero canvas towards
// targets [B]; the canvas is pasted into the image (levels [B,C,H,W]) where the mask is 1; stage 2 continues
// the attack on those pixels of the pasted image only where its top-1 is not the target. An AE1 is made (no
// failure) when its top-1 is the target, after the paste or after stage 2: the confidence is where each
// stage's attack stops, the top-1 what makes the example.
Examples make_ae1(const Model& model, const torch::Tensor& image_levels, const torch::Tensor& masks,
                  const torch::Tensor& targets, const AttackSettings& settings);

// The patches of one AE2, each attacked alone on its own all-zero canvas (masks [k,1,H,W], targets [k]), as
// one batch of k canvases. levels are the k canvases; combine_canvases makes the AE2.
Examples make_ae2_patches(const Model& model, const torch::Tensor& masks, const torch::Tensor& targets,
                          const AttackSettings& settings);

// The AE2: the canvases [k,C,H,W] summed (their patches do not overlap, so each pixel comes from one
// canvas), [C,H,W].
torch::Tensor combine_canvases(const torch::Tensor& canvases);

}  // namespace pixab
