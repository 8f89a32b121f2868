// HiResCAM (Draelos & Carin 2020): the gradient multiplies the activations cell by cell instead of being
// averaged into a channel weight. L = s(ReLU(sum_k g^k ⊙ A^k)), g = dz_c/dA.
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class HiResCam : public CamMethod {
 public:
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    return {rectified_normalised((batch.gradients() * batch.activations()).sum(1)), {}, {}, {}};
  }
};

}  // namespace

const CamMethodSpec& hires_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "hires_cam";
    s.title = "HiResCAM (Draelos & Carin 2020)";
    s.needs = BatchNeeds::logit_gradients();
    s.channel_weights = false;
    s.make = [](const std::string&, const CamSettings&) { return std::make_unique<HiResCam>(); };
    return s;
  }();
  return spec;
}

const CamMethodSpec& HiResCam::spec() const { return hires_cam_spec(); }

}  // namespace pixab
