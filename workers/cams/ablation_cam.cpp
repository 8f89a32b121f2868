// Ablation-CAM (Eqn. 6): a channel's weight is the relative drop of the class score when it is set to zero.
// w_k = (y - y_k) / y, y = score(head(A)), y_k = score(head(A with channel k zeroed)); K head passes per
// image on masked activations built on the device; the layers before the target layer never run again.
#include "workers/cams/cam_flags.hpp"
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class AblationCam : public CamMethod {
 public:
  AblationCam(ScoreKind score, int head_batch_size) : score_(score), head_batch_size_(head_batch_size) {}
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override;

 private:
  ScoreKind score_;
  int head_batch_size_;
};

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

}  // namespace

const CamMethodSpec& ablation_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "ablation_cam";
    s.from_paper = true;
    s.title = "Ablation-CAM (Eqn. 6)";
    s.settings = {"ablation.score", "head_batch_size"};
    // K ablated activation tensors per image through the head.
    s.passes = [](const std::string&, const CamSettings& settings, const Model& model, int64_t images) {
      return PassPlan{{PassKind::kHead, RowContent::kChannelAblated, images * model.feature_channels(),
                       settings.head_batch_size}};
    };
    s.make = [](const std::string&, const CamSettings& settings) {
      return std::make_unique<AblationCam>(settings.ablation_score, settings.head_batch_size);
    };
    return s;
  }();
  return spec;
}

const CamMethodSpec& AblationCam::spec() const { return ablation_cam_spec(); }

}  // namespace pixab
