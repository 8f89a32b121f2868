// Shared CAM arithmetic (methods.md notation): s(.) and the channel-weighted combination.
#include "workers/cams/cam_math.hpp"

#include <limits>

namespace pixab {

torch::Tensor minmax_normalise(const torch::Tensor& maps) {
  const auto flat = maps.flatten(-2);
  const auto lo = std::get<0>(flat.min(-1, /*keepdim=*/true));
  const auto range = std::get<0>(flat.max(-1, /*keepdim=*/true)) - lo;
  // The clamp only keeps the unselected branch of where() finite; constant maps take the zeros.
  const auto scaled = (flat - lo) / range.clamp_min(std::numeric_limits<float>::min());
  return torch::where(range > 0, scaled, torch::zeros_like(flat)).view(maps.sizes());
}

torch::Tensor weighted_cam(const torch::Tensor& activations, const torch::Tensor& weights) {
  TORCH_CHECK(activations.dim() == 4 && weights.dim() == 2 && weights.size(0) == activations.size(0) &&
                  weights.size(1) == activations.size(1),
              "weighted_cam: expected A [B,K,h,w] and w [B,K]");
  const auto combined = (activations * weights.unsqueeze(-1).unsqueeze(-1)).sum(1);
  return minmax_normalise(torch::relu(combined));
}

}  // namespace pixab
