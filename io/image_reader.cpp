// Image decoding: any OpenCV-readable file to 8-bit RGB, with a warning flag for every conversion, after the
// header checks that OpenCV does not make (truncation, the configured pixel limit, CMYK).
#include "io/image_reader.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <climits>
#include <filesystem>
#include <fstream>
#include <vector>

#include "io/image_header.hpp"
#include "io/item_status.hpp"

namespace pixab {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(ItemStatus status, const std::string& reason, const std::string& path) {
  throw ItemError(status, reason + ": " + path);
}

std::string pixel_count_text(std::uint64_t width, std::uint64_t height, std::uint64_t max_pixels) {
  return std::to_string(width) + " x " + std::to_string(height) + " = " + std::to_string(width * height) +
         " pixels, over the limit of " + std::to_string(max_pixels) + " (dataset.max_pixels)";
}

// The whole file: decoding from memory reads it once for the header checks and the decoder.
std::vector<unsigned char> read_file(const std::string& path, std::uint64_t max_pixels) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) refuse(ItemStatus::kMissing, "file not found", path);
  if (!fs::is_regular_file(status)) refuse(ItemStatus::kUnreadable, "not a regular file", path);
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) refuse(ItemStatus::kUnreadable, "cannot read (" + ec.message() + ")", path);
  if (size == 0) refuse(ItemStatus::kUnreadable, "empty file (0 bytes)", path);
  // No image under the limit needs more than 8 bytes a pixel (16-bit RGBA), whatever its format: a bigger
  // file is refused before it is read into memory.
  if (size > 8 * max_pixels + (std::uint64_t{1} << 20)) {
    refuse(ItemStatus::kTooLarge,
           "file of " + std::to_string(size) + " bytes, too large for the limit of " +
               std::to_string(max_pixels) + " pixels (dataset.max_pixels)",
           path);
  }
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  std::ifstream file(path, std::ios::binary);
  if (!file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    refuse(ItemStatus::kUnreadable, "cannot read", path);
  }
  return bytes;
}

void check_header(const ImageHeader& header, std::uint64_t max_pixels, const std::string& path) {
  if (header.format == ImageFormat::kUnknown) return;  // left to OpenCV's decoders
  const char* format = header.format == ImageFormat::kJpeg ? "JPEG" : "PNG";
  const std::uint64_t pixels = std::uint64_t{header.width} * header.height;
  if (pixels > max_pixels) {
    refuse(ItemStatus::kTooLarge,
           std::string(format) + " header says " + pixel_count_text(header.width, header.height, max_pixels),
           path);
  }
  if (header.truncated) {
    refuse(ItemStatus::kTruncated,
           std::string(format) + " data ends early (no " +
               (header.format == ImageFormat::kJpeg ? "end-of-image marker" : "IEND chunk") + ")",
           path);
  }
  if (pixels == 0) refuse(ItemStatus::kUnreadable, std::string(format) + " header gives no image size", path);
}

cv::Mat decode(const std::vector<unsigned char>& bytes, const std::string& path) {
  // IMREAD_UNCHANGED keeps 16-bit samples and alpha so that each conversion can be flagged, not done
  // silently; like imread with that flag it ignores EXIF orientation, as the datasets' boxes do.
  cv::Mat raw;
  try {
    raw = cv::imdecode(
        cv::Mat(1, opencv_byte_count(bytes.size(), path), CV_8U, const_cast<unsigned char*>(bytes.data())),
        cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    // OpenCV refuses images whose header claims more pixels than CV_IO_MAX_IMAGE_PIXELS before decoding them.
    if (std::string(e.what()).find("CV_IO_MAX_IMAGE_PIXELS") != std::string::npos)
      refuse(ItemStatus::kTooLarge, "image too large for OpenCV to decode", path);
    refuse(ItemStatus::kUnreadable, "cannot decode as an image", path);
  }
  if (raw.empty()) refuse(ItemStatus::kUnreadable, "cannot decode as an image", path);
  return raw;
}

}  // namespace

int opencv_byte_count(std::uint64_t size, const std::string& path) {
  if (size > static_cast<std::uint64_t>(INT_MAX)) {
    refuse(ItemStatus::kTooLarge,
           "file of " + std::to_string(size) + " bytes, over the " + std::to_string(INT_MAX) +
               " bytes OpenCV can decode",
           path);
  }
  return static_cast<int>(size);
}

DecodedImage read_image_rgb8(const std::string& path, std::uint64_t max_pixels) {
  const std::vector<unsigned char> bytes = read_file(path, max_pixels);
  const ImageHeader header = inspect_image_header(bytes.data(), bytes.size());
  check_header(header, max_pixels, path);
  cv::Mat raw = decode(bytes, path);
  if (header.format == ImageFormat::kUnknown &&
      static_cast<std::uint64_t>(raw.cols) * static_cast<std::uint64_t>(raw.rows) > max_pixels) {
    refuse(ItemStatus::kTooLarge,
           "decoded image has " + pixel_count_text(static_cast<std::uint64_t>(raw.cols),
                                                   static_cast<std::uint64_t>(raw.rows), max_pixels),
           path);
  }

  DecodedImage image;
  // OpenCV converts CMYK and YCCK JPEGs (4 components) to BGR itself, silently: only the header tells.
  if (header.format == ImageFormat::kJpeg && header.components == 4) image.flags |= kFlagCmykConverted;
  if (raw.depth() == CV_16U) {
    raw.convertTo(raw, CV_8U, 1.0 / 257.0);
    image.flags |= kFlagDepth16Converted;
  } else if (raw.depth() != CV_8U) {
    refuse(ItemStatus::kUnreadable, "unsupported sample type (not 8 or 16 bit)", path);
  }
  switch (raw.channels()) {
    case 1:
      cv::cvtColor(raw, image.rgb, cv::COLOR_GRAY2RGB);
      image.flags |= kFlagGrayscaleConverted;
      break;
    case 3:
      cv::cvtColor(raw, image.rgb, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(raw, image.rgb, cv::COLOR_BGRA2RGB);
      image.flags |= kFlagAlphaDropped;
      break;
    default:
      refuse(ItemStatus::kUnreadable, "unsupported channel count " + std::to_string(raw.channels()), path);
  }
  // OpenCV expands greyscale + alpha PNGs to BGRA: the header says that there was no colour.
  if (header.format == ImageFormat::kPng && header.components == 2) image.flags |= kFlagGrayscaleConverted;
  return image;
}

}  // namespace pixab
