// Eigen-Grad-CAM: Eigen-CAM's first principal component of the gradient-weighted activations g ⊙ A, which
// makes it depend on the target. L = s(ReLU(X v)), X = g ⊙ A as an hw x K matrix with centred columns.
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class EigenGradCam : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    return {rectified_normalised(first_principal_projection(batch.gradients() * batch.activations())),
            {},
            {},
            {}};
  }
};

}  // namespace

const CamMethodSpec& eigen_grad_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "eigen_grad_cam";
    s.title = "Eigen-Grad-CAM";
    s.needs = BatchNeeds::logit_gradients();
    s.channel_weights = false;
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<EigenGradCam>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& EigenGradCam::spec() const { return eigen_grad_cam_spec(); }

}  // namespace pixab
