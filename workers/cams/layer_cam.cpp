// LayerCAM (Jiang et al. 2021): every cell weighted by its own positive gradient.
// L = s(ReLU(sum_k ReLU(g^k) ⊙ A^k)), g = dz_c/dA (the outer ReLU is the LayerCAM paper's).
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class LayerCam : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    return {rectified_normalised((torch::relu(batch.gradients()) * batch.activations()).sum(1)), {}, {}, {}};
  }
};

}  // namespace

const CamMethodSpec& layer_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "layer_cam";
    s.title = "LayerCAM (Jiang et al. 2021)";
    s.needs = BatchNeeds::logit_gradients();
    s.channel_weights = false;
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<LayerCam>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& LayerCam::spec() const { return layer_cam_spec(); }

}  // namespace pixab
