// Eigen-CAM (Muhammad & Yeasin 2020): the activations' first principal component, no gradients and no target.
// L = s(ReLU(X v)), X = A as an hw x K matrix with centred columns, v its first right singular vector (the
// sign rule is first_principal_projection's).
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class EigenCam : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    return {rectified_normalised(first_principal_projection(batch.activations())), {}, {}, {}};
  }
};

}  // namespace

const CamMethodSpec& eigen_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "eigen_cam";
    s.title = "Eigen-CAM (Muhammad & Yeasin 2020)";
    s.channel_weights = false;
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<EigenCam>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& EigenCam::spec() const { return eigen_cam_spec(); }

}  // namespace pixab
