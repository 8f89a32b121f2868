// The arithmetic the CAM methods share: min-max normalisation s(.) and "weights times activations, ReLU, s".
#pragma once

#include <torch/script.h>

#include <functional>

#include "workers/cams/cam_settings.hpp"

namespace pixab {

// s(M) per image over the last two dimensions: (M - min) / (max - min); a constant map gives all zeros, never
// NaN.
torch::Tensor minmax_normalise(const torch::Tensor& maps);

// s(ReLU(M)) per image for maps [B,h,w]: how every method turns its raw map into L.
torch::Tensor rectified_normalised(const torch::Tensor& maps);

// L = s(ReLU(sum_k w_k A^k)) for A [B,K,h,w] and w [B,K].
torch::Tensor weighted_cam(const torch::Tensor& activations, const torch::Tensor& weights);

// Eigen-CAM's projection of T [B,K,h,w], per image: T as an hw x K matrix X with each column (channel)
// centred on its spatial mean, projected on its first right singular vector v: X v, [B,h,w]. The sign of v is
// arbitrary; it is fixed so that the projection's largest magnitude is positive (flipped when |min| > |max|,
// kept on a tie). An all-constant T gives zeros.
torch::Tensor first_principal_projection(const torch::Tensor& tensor);

// U(M): bilinear upsampling (align_corners = false) of maps [n,h,w] to [n,H,W].
torch::Tensor upsample(const torch::Tensor& maps, int64_t height, int64_t width);

// The score of class targets[i] in row i of logits [n,N]: the logit, or the softmax probability.
torch::Tensor class_score(const torch::Tensor& logits, const torch::Tensor& targets, ScoreKind kind);

// num / den element-wise, 0 where den == 0 (a relative change with no reference is no change).
torch::Tensor divide_or_zero(const torch::Tensor& num, const torch::Tensor& den);

// Calls run(first, count) for consecutive chunks of at most `chunk` of `rows` rows and concatenates the
// per-row results: the model passes of a method go in large batches whose size does not change the results.
torch::Tensor chunked(int64_t rows, int64_t chunk, const std::function<torch::Tensor(int64_t, int64_t)>& run);

}  // namespace pixab
