// Per-item outcome codes and warning bits, shared by the readers that detect them and the results file.
#pragma once

#include <cstdint>
#include <string>

#include "io/error.hpp"

namespace pixab {

// Item status codes stored in /items/status (docs/results-schema.md keeps the table).
enum class ItemStatus : std::int8_t {
  kOk = 0,
  kMissing = 1,        // the image file does not exist
  kUnreadable = 2,     // exists but cannot be decoded as an image
  kTruncated = 3,      // the image data ends early
  kTooLarge = 4,       // over the configured pixel limit (refused from the header)
  kBadAnnotation = 5,  // the annotation file is missing, malformed or names an unknown class
  kAttackFailed = 6,   // adversarial tasks: the attack did not reach its target
  kModelError = 7,     // the model raised an error on this item
};
const char* item_status_name(ItemStatus status);

// Warning bits of the image readers stored in /items/flags. The CAM methods' bits (0 and 5) are in
// workers/cams/cam_flags.hpp.
enum ItemFlag : std::uint32_t {
  kFlagGrayscaleConverted = 1u << 1,
  kFlagAlphaDropped = 1u << 2,
  kFlagDepth16Converted = 1u << 3,
  kFlagCmykConverted = 1u << 4,
};

// An item that cannot be used: carries the status code stored in /items/status; the run goes on.
class ItemError : public InputError {
 public:
  ItemError(ItemStatus status, const std::string& message) : InputError(message), status_(status) {}
  ItemStatus status() const { return status_; }

 private:
  ItemStatus status_;
};

}  // namespace pixab
