// Faithfulness arithmetic (metrics.md, "Faithfulness").
#include "workers/metrics/faithfulness.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace pixab {

namespace {

constexpr int kBlurKernel = 11;
constexpr double kBlurSigma = 5.0;

// Source index of every padded position -pad .. size-1+pad under BORDER_REFLECT_101 (... 2 1 | 0 1 2 ... | n-2
// ...), repeated for pads longer than the image as OpenCV does.
torch::Tensor reflect101_indices(int64_t size, int64_t pad, const torch::Device& device) {
  std::vector<int64_t> index;
  for (int64_t p = -pad; p < size + pad; ++p) {
    int64_t i = p;
    if (size == 1) {
      i = 0;
    } else {
      while (i < 0 || i >= size) i = i < 0 ? -i : 2 * (size - 1) - i;
    }
    index.push_back(i);
  }
  return torch::tensor(index, torch::kLong).to(device);
}

torch::Tensor gaussian_kernel(const torch::TensorOptions& options) {
  std::vector<double> weights(kBlurKernel);
  double sum = 0;
  for (int i = 0; i < kBlurKernel; ++i) {
    const double d = i - (kBlurKernel - 1) / 2.0;
    weights[static_cast<std::size_t>(i)] = std::exp(-d * d / (2 * kBlurSigma * kBlurSigma));
    sum += weights[static_cast<std::size_t>(i)];
  }
  for (auto& w : weights) w /= sum;
  return torch::tensor(weights, torch::kDouble).to(options);
}

}  // namespace

double average_drop(double clean_prob, double masked_prob) {
  if (!(clean_prob > 0) || std::isnan(masked_prob)) return std::numeric_limits<double>::quiet_NaN();
  return 100.0 * std::max(0.0, clean_prob - masked_prob) / clean_prob;
}

double increase_in_confidence(double clean_prob, double masked_prob) {
  if (std::isnan(clean_prob) || std::isnan(masked_prob)) return std::numeric_limits<double>::quiet_NaN();
  return masked_prob > clean_prob ? 1.0 : 0.0;
}

double compactness(const torch::Tensor& map) { return map.to(torch::kDouble).sum().item<double>(); }

torch::Tensor deletion_ranks(const torch::Tensor& explanations) {
  const auto flat = explanations.flatten(1);
  // A stable sort keeps equal values in raster order, which is the tie rule.
  const auto order = std::get<1>(flat.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
  const auto positions = torch::arange(flat.size(1), order.options()).expand_as(order).contiguous();
  return torch::empty_like(order).scatter_(1, order, positions);
}

std::int64_t pixels_per_step(std::int64_t pixels, int steps) { return (pixels + steps - 1) / steps; }

std::int64_t pixels_at_step(std::int64_t pixels, int steps, int t) {
  return std::min(static_cast<std::int64_t>(t) * pixels_per_step(pixels, steps), pixels);
}

torch::Tensor rise_blur(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4, "rise_blur: expected images [n,C,H,W]");
  const int64_t channels = images.size(1), pad = kBlurKernel / 2;
  const auto kernel = gaussian_kernel(images.options()).to(images.scalar_type());
  const std::vector<int64_t> ones{1, 1}, zeros{0, 0};  // stride and dilation 1, no padding
  // Separable: rows, then columns, each a depthwise 1-D convolution over reflected borders.
  auto padded = images.index_select(3, reflect101_indices(images.size(3), pad, images.device()));
  auto out = torch::conv2d(padded, kernel.view({1, 1, 1, kBlurKernel}).repeat({channels, 1, 1, 1}),
                           torch::Tensor(), ones, zeros, ones, channels);
  padded = out.index_select(2, reflect101_indices(images.size(2), pad, images.device()));
  return torch::conv2d(padded, kernel.view({1, 1, kBlurKernel, 1}).repeat({channels, 1, 1, 1}),
                       torch::Tensor(), ones, zeros, ones, channels);
}

torch::Tensor trapezoid_auc(const torch::Tensor& curves) {
  TORCH_CHECK(curves.dim() == 2 && curves.size(1) >= 2, "trapezoid_auc: expected curves [n, steps+1]");
  const auto steps = curves.size(1) - 1;
  const auto c = curves.to(torch::kDouble);
  return ((c.slice(1, 0, steps) + c.slice(1, 1, steps + 1)).sum(1) / (2.0 * steps)).to(curves.scalar_type());
}

}  // namespace pixab
