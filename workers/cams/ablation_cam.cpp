// Ablation-CAM: w_k = (y - y_k) / y, y = score(head(A)), y_k = score(head(A with channel k zeroed)); K head
// passes per image on masked activations built on the device; the layers before the target layer never run
// again.
#include "workers/cams/ablation_cam.hpp"

#include "io/item_status.hpp"
#include "workers/cams/cam_math.hpp"

namespace pixab {

CamResult AblationCam::compute(CamBatch& batch) const {
  const auto& a = batch.activations();
  const int64_t images = a.size(0), channels = a.size(1);
  const auto row_targets = batch.targets().repeat_interleave(channels);
  const auto long_options = a.options().dtype(torch::kLong);

  const auto ablated_scores = chunked(images * channels, head_batch_size_, [&](int64_t first, int64_t count) {
    const auto rows = torch::arange(first, first + count, long_options);
    const auto keep = 1 - torch::one_hot(rows.remainder(channels), channels).to(a.scalar_type());
    torch::NoGradGuard no_grad;
    auto ablated = a.index_select(0, rows.div(channels, "floor"));
    ablated.mul_(keep.view({count, channels, 1, 1}));
    const auto logits = batch.model().head(ablated);
    return class_score(logits, row_targets.narrow(0, first, count), score_);
  });
  const auto y = class_score(batch.logits(), batch.targets(), score_).unsqueeze(1);
  const auto drop = y - ablated_scores.view({images, channels});
  // y <= 0 (possible with logits) flips the weights' sign: kept as defined, but flagged. y = 0 has no
  // weights.
  const auto weights = divide_or_zero(drop, y.expand_as(drop));
  const auto flags = (y.squeeze(1) <= 0).to(torch::kInt) * static_cast<int>(kFlagAblationNegativeScore);
  return {weighted_cam(a, weights), weights, flags, {}};
}

}  // namespace pixab
