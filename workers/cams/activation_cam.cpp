// Activation-CAM (paper Sec. 3.2): every channel weighted 1, showing where the activation tensor itself is
// strong.
#include "workers/cams/activation_cam.hpp"

#include "workers/cams/cam_math.hpp"

namespace pixab {

CamResult ActivationCam::compute(CamBatch& batch) const {
  const auto& a = batch.activations();
  const auto weights = torch::ones({a.size(0), a.size(1)}, a.options());
  return {weighted_cam(a, weights), weights, {}, {}};
}

}  // namespace pixab
