// Grad-CAM++ (Eqn. 3), closed form of the Grad-CAM++ paper (eq. 19):
// alpha = g^2 / (2 g^2 + (sum_ab A^k_ab) g^3), w_k = sum_ij alpha ReLU(g), L = s(ReLU(sum_k w_k A^k)).
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class GradCamPP : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
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
};

}  // namespace

const CamMethodSpec& grad_cam_pp_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "grad_cam_pp";
    s.from_paper = true;
    s.title = "Grad-CAM++ (Eqn. 3)";
    s.needs = BatchNeeds::logit_gradients();
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<GradCamPP>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& GradCamPP::spec() const { return grad_cam_pp_spec(); }

}  // namespace pixab
