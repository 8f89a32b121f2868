// Decoding image files to 8-bit RGB with OpenCV, converting what can be converted and refusing what cannot.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>

namespace pixab {

// The default pixel limit (dataset.max_pixels): 2^28 = 268,435,456 pixels, e.g. 16384 x 16384, far above any
// camera photo, low enough that one image (768 MiB as 8-bit RGB) cannot exhaust a rank's memory.
inline constexpr std::uint64_t kDefaultMaxPixels = std::uint64_t{1} << 28;

struct DecodedImage {
  cv::Mat rgb;              // CV_8UC3, RGB order
  std::uint32_t flags = 0;  // ItemFlag bits for conversions (grayscale, alpha, 16-bit, CMYK)
};

// Reads the file once, checks its header, then decodes it by its content (a PNG named .JPEG is read as a
// PNG). ItemError (naming the path) with kMissing, kUnreadable (empty, not an image, unsupported samples),
// kTruncated (JPEG without EOI, PNG without IEND) or kTooLarge (width x height over max_pixels: from the
// header for JPEG and PNG, before decoding; after decoding for other formats).
DecodedImage read_image_rgb8(const std::string& path, std::uint64_t max_pixels = kDefaultMaxPixels);

// A file's byte count as the int that OpenCV's decoders take: ItemError kTooLarge (naming the path and the
// size) when it exceeds INT_MAX, which a max_pixels over about 2^28 lets through the size check.
int opencv_byte_count(std::uint64_t size, const std::string& path);

}  // namespace pixab
