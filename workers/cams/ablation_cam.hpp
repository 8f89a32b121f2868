// Ablation-CAM (Eqn. 6): a channel's weight is the relative drop of the class score when it is set to zero.
#pragma once

#include "workers/cams/cam_method.hpp"

namespace pixab {

class AblationCam : public CamMethod {
 public:
  AblationCam(ScoreKind score, int head_batch_size) : score_(score), head_batch_size_(head_batch_size) {}
  std::string id() const override { return "ablation_cam"; }
  CamResult compute(CamBatch& batch) const override;

 private:
  ScoreKind score_;
  int head_batch_size_;
};

}  // namespace pixab
