// Shared CAM arithmetic (methods.md notation): s(.) and the channel-weighted combination.
#include "workers/cams/cam_math.hpp"

#include <algorithm>
#include <limits>

namespace pixab {

torch::Tensor minmax_normalise(const torch::Tensor& maps) {
  const auto flat = maps.flatten(-2);
  const auto lo = std::get<0>(flat.min(-1, /*keepdim=*/true));
  const auto range = std::get<0>(flat.max(-1, /*keepdim=*/true)) - lo;
  // In place, to spare temporaries; the clamp keeps constant maps finite before they are set to zero.
  auto out = flat - lo;
  out.div_(range.clamp_min(std::numeric_limits<float>::min()));
  out.masked_fill_(range == 0, 0);
  return out.view(maps.sizes());
}

torch::Tensor weighted_cam(const torch::Tensor& activations, const torch::Tensor& weights) {
  TORCH_CHECK(activations.dim() == 4 && weights.dim() == 2 && weights.size(0) == activations.size(0) &&
                  weights.size(1) == activations.size(1),
              "weighted_cam: expected A [B,K,h,w] and w [B,K]");
  return rectified_normalised((activations * weights.unsqueeze(-1).unsqueeze(-1)).sum(1));
}

torch::Tensor rectified_normalised(const torch::Tensor& maps) { return minmax_normalise(torch::relu(maps)); }

torch::Tensor first_principal_projection(const torch::Tensor& tensor) {
  TORCH_CHECK(tensor.dim() == 4, "first_principal_projection: expected [B,K,h,w]");
  const auto x = tensor.flatten(2).transpose(1, 2).to(torch::kDouble);  // [B, hw, K]
  const auto centred = x - x.mean(1, /*keepdim=*/true);
  const int64_t cells = centred.size(1), channels = centred.size(2);
  // X v = σ u for the first singular pair: from the symmetric eigenproblem of the smaller Gram matrix (X Xᵀ or
  // Xᵀ X; eigh orders eigenvalues ascending), several times cheaper than the SVD of X. In double precision, as
  // the Gram matrix squares X's condition number.
  torch::Tensor projection;
  if (cells <= channels) {
    const auto [values, vectors] = torch::linalg_eigh(centred.matmul(centred.transpose(1, 2)));
    projection = vectors.select(2, cells - 1) * values.select(1, cells - 1).clamp_min(0).sqrt().unsqueeze(1);
  } else {
    const auto [values, vectors] = torch::linalg_eigh(centred.transpose(1, 2).matmul(centred));
    projection = centred.matmul(vectors.select(2, channels - 1).unsqueeze(-1)).squeeze(-1);
  }
  projection = projection.to(tensor.scalar_type());  // [B, hw]
  const auto flip = std::get<0>(projection.min(1)).abs() > std::get<0>(projection.max(1)).abs();
  projection = torch::where(flip.unsqueeze(1), -projection, projection);
  return projection.view({tensor.size(0), tensor.size(2), tensor.size(3)});
}

torch::Tensor upsample(const torch::Tensor& maps, int64_t height, int64_t width) {
  return at::upsample_bilinear2d(maps.unsqueeze(1), {height, width}, /*align_corners=*/false).squeeze(1);
}

torch::Tensor class_score(const torch::Tensor& logits, const torch::Tensor& targets, ScoreKind kind) {
  const auto scores = kind == ScoreKind::kLogit ? logits : torch::softmax(logits, 1);
  return scores.gather(1, targets.view({-1, 1})).squeeze(1);
}

torch::Tensor divide_or_zero(const torch::Tensor& num, const torch::Tensor& den) {
  const auto defined = den != 0;
  return torch::where(defined, num / torch::where(defined, den, torch::ones_like(den)),
                      torch::zeros_like(num));
}

torch::Tensor chunked(int64_t rows, int64_t chunk,
                      const std::function<torch::Tensor(int64_t, int64_t)>& run) {
  TORCH_CHECK(chunk > 0, "chunk size must be positive");
  std::vector<torch::Tensor> outputs;
  for (int64_t first = 0; first < rows; first += chunk)
    outputs.push_back(run(first, std::min(chunk, rows - first)));
  return torch::cat(outputs);
}

}  // namespace pixab
