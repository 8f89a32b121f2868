// Score-CAM: M_k = s(U(A^k)) (normalised after upsampling), w_k = p_c(x * M_k) - p_c(x_b), x_b = 0 in
// model-input space. K full forward passes per image, in batches over (image, channel) rows built on the
// device.
#include "workers/cams/score_cam.hpp"

#include "workers/cams/cam_math.hpp"

namespace pixab {

CamResult ScoreCam::compute(CamBatch& batch) const {
  const auto& a = batch.activations();
  const auto& x = batch.inputs();
  const int64_t images = a.size(0), channels = a.size(1);
  const auto flat_channels = a.reshape({images * channels, a.size(2), a.size(3)});
  const auto row_targets = batch.targets().repeat_interleave(channels);

  // Masks are made per chunk: all of them at once would be B*K*H*W floats (gigabytes for Inception V3).
  const auto masked_probabilities =
      chunked(images * channels, full_batch_size_, [&](int64_t first, int64_t count) {
        const auto masks =
            minmax_normalise(upsample(flat_channels.narrow(0, first, count), x.size(2), x.size(3)));
        const auto image_of_row =
            torch::arange(first, first + count, a.options().dtype(torch::kLong)).div(channels, "floor");
        torch::NoGradGuard no_grad;
        auto masked = x.index_select(0, image_of_row);
        masked.mul_(masks.unsqueeze(1));
        const auto logits = batch.model().forward(masked);
        return class_score(logits, row_targets.narrow(0, first, count), ScoreKind::kProbability);
      });
  const auto baseline =
      torch::softmax(batch.zero_input_logits(), 0).index_select(0, batch.targets());  // p_c(x_b) per image
  const auto weights = masked_probabilities.view({images, channels}) - baseline.unsqueeze(1);
  return {weighted_cam(a, weights), weights, {}, {}};
}

}  // namespace pixab
