// What an image file's own structure says before any pixel is decoded: format, size, components, and
// whether the data reaches its end marker (JPEG and PNG, the formats of the datasets pixab reads).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pixab {

enum class ImageFormat { kUnknown, kJpeg, kPng };

struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;  // from the first bytes, whatever the file is named
  std::uint32_t width = 0, height = 0;         // 0 when the header does not give them
  int components = 0;  // JPEG: components of the frame (4 for CMYK / YCCK); PNG: channels of the colour type
  int bit_depth = 0;   // bits per sample
  // The data ends before the format's end marker (JPEG EOI, PNG IEND): decoders would fill in the rest.
  bool truncated = false;
};

// Reads the header and walks the file's markers (JPEG) or chunks (PNG) without decoding pixels. Never
// throws: an unknown format gives format kUnknown, a header that ends early gives truncated.
ImageHeader inspect_image_header(const unsigned char* data, std::size_t size);

}  // namespace pixab
