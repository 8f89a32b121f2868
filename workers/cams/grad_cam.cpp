// Grad-CAM: w_k = mean_ij dz_c/dA^k_ij, L = s(ReLU(sum_k w_k A^k)).
#include "workers/cams/grad_cam.hpp"

#include "workers/cams/cam_math.hpp"

namespace pixab {

CamResult GradCam::compute(CamBatch& batch) const {
  const auto weights = batch.gradients().mean({2, 3});
  return {weighted_cam(batch.activations(), weights), weights, {}, {}};
}

}  // namespace pixab
