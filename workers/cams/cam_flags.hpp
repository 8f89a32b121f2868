// Warning bits the CAM methods set on an image, stored in /items/flags with the readers' image flags
// (io/item_status.hpp); the bit values are the results file's (docs/results-schema.md).
#pragma once

#include <cstdint>

namespace pixab {

enum CamFlag : std::uint32_t {
  kFlagAblationNegativeScore = 1u << 0,  // Ablation-CAM's score y <= 0: its weights change sign
  kFlagPixabNonPositiveScore =
      1u << 5,  // a Pixab-CAM denominator (Y or Y~, logit score) <= 0: its terms flip sign
};

}  // namespace pixab
