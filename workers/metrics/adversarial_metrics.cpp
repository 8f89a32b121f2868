// DOA and COP.
#include "workers/metrics/adversarial_metrics.hpp"

#include <limits>

#include "workers/cams/cam_math.hpp"

namespace pixab {

torch::Tensor activation_dependency(const torch::Tensor& maps, const torch::Tensor& activation_maps) {
  const torch::Tensor a = maps.flatten(1).to(torch::kCPU, torch::kDouble);
  const torch::Tensor b = activation_maps.flatten(1).to(torch::kCPU, torch::kDouble);
  const torch::Tensor norms = a.norm(2, 1) * b.norm(2, 1);
  const torch::Tensor distance = 1 - (a * b).sum(1) / norms;
  return torch::where(norms > 0, distance, std::numeric_limits<double>::quiet_NaN()).to(torch::kFloat);
}

int overestimated_channels(const torch::Tensor& activations, const torch::Tensor& weights,
                           const torch::Tensor& patch_masks, int target, double threshold) {
  const int64_t channels = activations.size(0);
  const int64_t top = std::min<int64_t>(kCopTopChannels, channels);
  const torch::Tensor order =
      std::get<1>(torch::sort(weights.to(torch::kFloat), /*stable=*/true, /*dim=*/0, /*descending=*/true)).narrow(0, 0, top);
  const torch::Tensor maps = minmax_normalise(upsample(activations.index_select(0, order.to(activations.device())),
                                                       patch_masks.size(1), patch_masks.size(2)));
  const torch::Tensor covered = (maps >= threshold).to(torch::kDouble).flatten(1);        // [top, H*W]
  const torch::Tensor patches = patch_masks.to(maps.device(), torch::kDouble).flatten(1);  // [P, H*W]
  const torch::Tensor share = covered.matmul(patches.t()) / patches.sum(1);                // [top, P]
  const torch::Tensor focuses = share >= kCopPatchCoverage;
  const torch::Tensor on_target = focuses.select(1, target);
  const torch::Tensor on_others = focuses.sum(1) - on_target.to(torch::kLong) > 0;
  return static_cast<int>((on_target & on_others).sum().item<int64_t>());
}

}  // namespace pixab
