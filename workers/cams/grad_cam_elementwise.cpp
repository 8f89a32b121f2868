// Element-wise Grad-CAM: each channel's cell-by-cell product with its gradient is rectified before the sum,
// so a channel's negative evidence in one cell cannot cancel another channel's positive evidence there.
// L = s(sum_k ReLU(g^k ⊙ A^k)), g = dz_c/dA.
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class GradCamElementwise : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    // The sum of rectified terms is never negative: the outer ReLU of rectified_normalised changes nothing.
    return {rectified_normalised(torch::relu(batch.gradients() * batch.activations()).sum(1)), {}, {}, {}};
  }
};

}  // namespace

const CamMethodSpec& grad_cam_elementwise_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "grad_cam_elementwise";
    s.title = "Grad-CAM, element-wise";
    s.needs = BatchNeeds::logit_gradients();
    s.channel_weights = false;
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<GradCamElementwise>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& GradCamElementwise::spec() const { return grad_cam_elementwise_spec(); }

}  // namespace pixab
