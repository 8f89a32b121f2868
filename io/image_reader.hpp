// Decoding image files to 8-bit RGB with OpenCV, converting what can be converted and refusing what cannot.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>

namespace pixab {

struct DecodedImage {
  cv::Mat rgb;              // CV_8UC3, RGB order
  std::uint32_t flags = 0;  // ItemFlag bits for conversions (grayscale, alpha, 16-bit)
};

// ItemError with kMissing / kUnreadable (and the path) when the file cannot be used.
DecodedImage read_image_rgb8(const std::string& path);

}  // namespace pixab
