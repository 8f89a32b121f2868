// XGrad-CAM (Eqn. 4): gradients weighted by each cell's share of its channel's activation.
// w_k = sum_ij (A^k_ij / (sum_ab A^k_ab + 1e-7)) g^k_ij, L = s(ReLU(sum_k w_k A^k)).
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class XGradCam : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    const auto& a = batch.activations();
    const auto share = a / (a.sum({2, 3}, /*keepdim=*/true) + 1e-7);
    const auto weights = (share * batch.gradients()).sum({2, 3});
    return {weighted_cam(a, weights), weights, {}, {}};
  }
};

}  // namespace

const CamMethodSpec& xgrad_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "xgrad_cam";
    s.from_paper = true;
    s.title = "XGrad-CAM (Eqn. 4)";
    s.needs = BatchNeeds::logit_gradients();
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<XGradCam>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& XGradCam::spec() const { return xgrad_cam_spec(); }

}  // namespace pixab
