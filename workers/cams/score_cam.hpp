// Score-CAM (Eqn. 5): each channel, upsampled and normalised, masks the input; its weight is the rise of the
// target probability over the all-zero baseline.
#pragma once

#include "workers/cams/cam_method.hpp"

namespace pixab {

class ScoreCam : public CamMethod {
 public:
  explicit ScoreCam(int full_batch_size) : full_batch_size_(full_batch_size) {}
  std::string id() const override { return "score_cam"; }
  CamResult compute(CamBatch& batch) const override;

 private:
  int full_batch_size_;
};

}  // namespace pixab
