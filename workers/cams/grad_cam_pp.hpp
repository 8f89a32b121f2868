// Grad-CAM++ (Eqn. 3), closed form of the Grad-CAM++ paper (eq. 19).
#pragma once

#include "workers/cams/cam_method.hpp"

namespace pixab {

class GradCamPP : public CamMethod {
 public:
  std::string id() const override { return "grad_cam_pp"; }
  bool needs_gradients() const override { return true; }
  CamResult compute(CamBatch& batch) const override;
};

}  // namespace pixab
