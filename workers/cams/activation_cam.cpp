// Activation-CAM (paper Sec. 3.2): every channel weighted 1, showing where the activation tensor itself is
// strong. L = s(ReLU(sum_k A^k)).
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class ActivationCam : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    const auto& a = batch.activations();
    const auto weights = torch::ones({a.size(0), a.size(1)}, a.options());
    return {weighted_cam(a, weights), weights, {}, {}};
  }
};

}  // namespace

const CamMethodSpec& activation_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "activation_cam";
    s.from_paper = true;
    s.title = "Activation-CAM (Sec. 3.2)";
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<ActivationCam>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& ActivationCam::spec() const { return activation_cam_spec(); }

}  // namespace pixab
