// XGrad-CAM (Eqn. 4): gradients weighted by each cell's share of its channel's activation.
#pragma once

#include "workers/cams/cam_method.hpp"

namespace pixab {

class XGradCam : public CamMethod {
 public:
  std::string id() const override { return "xgrad_cam"; }
  bool needs_gradients() const override { return true; }
  CamResult compute(CamBatch& batch) const override;
};

}  // namespace pixab
