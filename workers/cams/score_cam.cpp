// Score-CAM (Eqn. 5): each channel, upsampled and normalised, masks the input; its weight is the rise of the
// target probability over the all-zero baseline. M_k = s(U(A^k)) (normalised after upsampling),
// w_k = p_c(x * M_k) - p_c(x_b), x_b = 0 in model-input space. K full forward passes per image, in batches
// over (image, channel) rows built on the device.
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class ScoreCam : public CamMethod {
 public:
  explicit ScoreCam(int full_batch_size) : full_batch_size_(full_batch_size) {}
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override;

 private:
  int full_batch_size_;
};

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

}  // namespace

const CamMethodSpec& score_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "score_cam";
    s.from_paper = true;
    s.title = "Score-CAM (Eqn. 5)";
    s.needs.zero_input_logits = true;
    s.settings = {"full_batch_size"};
    // K masked inputs per image through the whole network, and the baseline x_b once per batch.
    s.passes = [](const std::string&, const CamSettings& settings, const Model& model, int64_t images) {
      return PassPlan{{PassKind::kForward, RowContent::kChannelMasked, images * model.feature_channels(),
                       settings.full_batch_size},
                      {PassKind::kForward, RowContent::kZeros, 1, 1}};
    };
    s.make = [](const std::string&, const CamSettings& settings) {
      return std::make_unique<ScoreCam>(settings.full_batch_size);
    };
    return s;
  }();
  return spec;
}

const CamMethodSpec& ScoreCam::spec() const { return score_cam_spec(); }

}  // namespace pixab
