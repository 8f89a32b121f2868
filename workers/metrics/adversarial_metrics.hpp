// The adversarial figures of metrics.md that are not localisation: DOA and COP (paper Sec. 3, Tables 1-2).
#pragma once

#include <torch/script.h>

namespace pixab {

// COP counts among this many channels of largest weight (all of them when the model has fewer).
inline constexpr int kCopTopChannels = 100;
// A channel focuses on a patch when at least this share of the patch's pixels are covered.
inline constexpr double kCopPatchCoverage = 0.8;

// DOA per row: 1 - cos(L, L_activation_cam) of the flattened h x w maps ([B,h,w] each); NaN where either map is
// all zero. [B] float32 on the CPU.
torch::Tensor activation_dependency(const torch::Tensor& maps, const torch::Tensor& activation_maps);

// COP of one row: among the min(kCopTopChannels, K) channels of largest weight (ties: lower channel first),
// those whose map C_k = s(U(A^k)) covers (C_k >= threshold) at least kCopPatchCoverage of the pixels of patch
// `target` and of at least one other patch. activations [K,h,w]; weights [K]; patch_masks [P,H,W] of 0 and 1.
int overestimated_channels(const torch::Tensor& activations, const torch::Tensor& weights,
                           const torch::Tensor& patch_masks, int target, double threshold);

}  // namespace pixab
