// Finer-CAM (Zhang et al. 2025): Grad-CAM of the target's margin over the classes it is most easily confused
// with, so that the map shows what tells them apart rather than what they share.
// score = sum_j p_j (z_c - alpha z_j) / sum_j p_j over the `comparisons` classes j != c whose logits are
// closest to z_c (ties: the lower class index), p = softmax(z) taken as constants;
// w_k = mean_ij d score/dA^k, L = s(ReLU(sum_k w_k A^k)).
#include <algorithm>
#include <limits>

#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class FinerCam : public CamMethod {
 public:
  explicit FinerCam(FinerSettings settings) : settings_(settings) {}
  const CamMethodSpec& spec() const override;

  CamResult compute(CamBatch& batch) const override {
    const auto weights = batch.combined_logit_gradients(score_coefficients(batch)).mean({2, 3});
    return {weighted_cam(batch.activations(), weights), weights, {}, {}};
  }

 private:
  // The score's coefficients on the logits, [B,N]: 1 on c, -alpha p_j / sum p on each comparison class j.
  torch::Tensor score_coefficients(const CamBatch& batch) const {
    const auto& z = batch.logits();
    const auto c = batch.targets().unsqueeze(1);
    const int64_t count = std::min<int64_t>(settings_.comparisons, z.size(1) - 1);
    auto coefficients = torch::zeros_like(z);
    if (count > 0) {
      auto distance = (z - z.gather(1, c)).abs();
      distance.scatter_(1, c, std::numeric_limits<float>::infinity());  // c is not its own comparison
      // A stable sort, so that equally close classes are taken in class order.
      const auto closest =
          std::get<1>(torch::sort(distance, /*stable=*/true, /*dim=*/1, /*descending=*/false))
              .narrow(1, 0, count);
      const auto p = torch::softmax(z, 1).gather(1, closest);
      const auto share = divide_or_zero(p, p.sum(1, /*keepdim=*/true).expand_as(p));
      coefficients.scatter_(1, closest, -settings_.alpha * share);
    }
    return coefficients.scatter_(1, c, 1.0);
  }

  FinerSettings settings_;
};

}  // namespace

const CamMethodSpec& finer_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "finer_cam";
    s.title = "Finer-CAM (Zhang et al. 2025)";
    s.needs.combined_logit_gradients = true;
    s.settings = {"finer.comparisons", "finer.alpha"};
    s.make = [](const std::string&, const CamSettings& settings) {
      return std::make_unique<FinerCam>(settings.finer);
    };
    return s;
  }();
  return spec;
}

const CamMethodSpec& FinerCam::spec() const { return finer_cam_spec(); }

}  // namespace pixab
