// Grad-CAM++: alpha = g^2 / (2 g^2 + (sum_ab A^k_ab) g^3), w_k = sum_ij alpha ReLU(g), L = s(ReLU(sum_k w_k
// A^k)).
#include "workers/cams/grad_cam_pp.hpp"

#include "workers/cams/cam_math.hpp"

namespace pixab {

CamResult GradCamPP::compute(CamBatch& batch) const {
  const auto& a = batch.activations();
  const auto& g = batch.gradients();
  // The whole channel's sum multiplies the local g^3: the index structure of the closed form.
  const auto channel_sum = a.sum({2, 3}, /*keepdim=*/true);
  const auto g2 = g * g;
  const auto denominator = 2 * g2 + channel_sum * g2 * g;
  // alpha = 0 where g = 0 or the denominator is 0 (g = 0 makes both 0).
  const auto alpha = divide_or_zero(g2, denominator);
  const auto weights = (alpha * torch::relu(g)).sum({2, 3});
  return {weighted_cam(a, weights), weights, {}, {}};
}

}  // namespace pixab
