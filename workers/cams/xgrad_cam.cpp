// XGrad-CAM: w_k = sum_ij (A^k_ij / (sum_ab A^k_ab + 1e-7)) g^k_ij, L = s(ReLU(sum_k w_k A^k)).
#include "workers/cams/xgrad_cam.hpp"

#include "workers/cams/cam_math.hpp"

namespace pixab {

CamResult XGradCam::compute(CamBatch& batch) const {
  const auto& a = batch.activations();
  const auto share = a / (a.sum({2, 3}, /*keepdim=*/true) + 1e-7);
  const auto weights = (share * batch.gradients()).sum({2, 3});
  return {weighted_cam(a, weights), weights, {}, {}};
}

}  // namespace pixab
