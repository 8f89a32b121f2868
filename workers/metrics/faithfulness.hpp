// The faithfulness metrics of metrics.md (Average Drop, Increase in Confidence, Compactness, RISE deletion and
// insertion): the per-image arithmetic and the inputs they feed to the model. The model passes themselves are
// batched by MetricEvaluator.
#pragma once

#include <torch/script.h>

#include <cstdint>

namespace pixab {

// 100 * max(0, Y - O) / Y for the clean probability Y and the masked one O; NaN when Y <= 0 or either is NaN.
double average_drop(double clean_prob, double masked_prob);

// 1 when O > Y, else 0; NaN when either is NaN.
double increase_in_confidence(double clean_prob, double masked_prob);

// The paper's compactness of one map L [h,w]: the sum of its values.
double compactness(const torch::Tensor& map);

// The rank of every pixel of E [n,H,W] in the deletion order, [n,H*W] int64: pixels sorted by value, descending,
// ties in raster order; rank 0 is deleted first.
torch::Tensor deletion_ranks(const torch::Tensor& explanations);

// Pixels per deletion / insertion step: ceil(pixels / steps).
std::int64_t pixels_per_step(std::int64_t pixels, int steps);

// Pixels removed (deletion) or restored (insertion) at step t: min(t * n, pixels).
std::int64_t pixels_at_step(std::int64_t pixels, int steps, int t);

// The insertion baseline: a Gaussian blur of images [n,C,H,W] per channel, kernel 11x11, sigma 5, borders
// reflected without repeating the edge (OpenCV's BORDER_REFLECT_101), on the images' device.
torch::Tensor rise_blur(const torch::Tensor& images);

// Trapezoid rule over t / steps in [0, 1] for a curve of steps + 1 points, row-wise: curves [n, steps+1] ->
// [n].
torch::Tensor trapezoid_auc(const torch::Tensor& curves);

}  // namespace pixab
