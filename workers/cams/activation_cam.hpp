// Activation-CAM: L = s(ReLU(sum_k A^k)).
#pragma once

#include "workers/cams/cam_method.hpp"

namespace pixab {

class ActivationCam : public CamMethod {
 public:
  std::string id() const override { return "activation_cam"; }
  CamResult compute(CamBatch& batch) const override;
};

}  // namespace pixab
