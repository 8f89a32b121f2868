// Grad-CAM (Eqn. 2): channel weights are the spatial mean of the logit's gradient.
// w_k = mean_ij dz_c/dA^k_ij, L = s(ReLU(sum_k w_k A^k)).
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class GradCam : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    const auto weights = batch.gradients().mean({2, 3});
    return {weighted_cam(batch.activations(), weights), weights, {}, {}};
  }
};

}  // namespace

const CamMethodSpec& grad_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "grad_cam";
    s.from_paper = true;
    s.title = "Grad-CAM (Eqn. 2)";
    s.needs = BatchNeeds::logit_gradients();
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<GradCam>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& GradCam::spec() const { return grad_cam_spec(); }

}  // namespace pixab
