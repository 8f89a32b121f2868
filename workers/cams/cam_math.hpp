// The arithmetic the CAM methods share: min-max normalisation s(.) and "weights times activations, ReLU, s".
#pragma once

#include <torch/script.h>

namespace pixab {

// s(M) per image over the last two dimensions: (M - min) / (max - min); a constant map gives all zeros, never NaN.
torch::Tensor minmax_normalise(const torch::Tensor& maps);

// L = s(ReLU(sum_k w_k A^k)) for A [B,K,h,w] and w [B,K].
torch::Tensor weighted_cam(const torch::Tensor& activations, const torch::Tensor& weights);

}  // namespace pixab
