// Grad-CAM (Eqn. 2): channel weights are the spatial mean of the logit's gradient.
#pragma once

#include "workers/cams/cam_method.hpp"

namespace pixab {

class GradCam : public CamMethod {
 public:
  std::string id() const override { return "grad_cam"; }
  bool needs_gradients() const override { return true; }
  CamResult compute(CamBatch& batch) const override;
};

}  // namespace pixab
