// ShapleyCAM (arXiv 2501.06261): Grad-CAM's channel weights corrected by the second-order term of the target
// logit's expansion around A, from a Hessian-vector product through the head.
// w_k = mean_ij (g - 1/2 H A)^k_ij, g = dz_c/dA, H = d^2 z_c/dA^2; L = s(ReLU(sum_k w_k A^k)).
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class ShapleyCam : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    const auto weights = (batch.gradients() - 0.5 * batch.hessian_vector_product()).mean({2, 3});
    return {weighted_cam(batch.activations(), weights), weights, {}, {}};
  }
};

}  // namespace

const CamMethodSpec& shapley_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "shapley_cam";
    s.title = "ShapleyCAM (Cai et al. 2025)";
    s.needs = BatchNeeds::logit_gradients();
    s.needs.hessian_vector_product = true;
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<ShapleyCam>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& ShapleyCam::spec() const { return shapley_cam_spec(); }

}  // namespace pixab
