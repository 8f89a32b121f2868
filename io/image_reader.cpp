// Image decoding: any OpenCV-readable file to 8-bit RGB, with a warning flag for every conversion.
#include "io/image_reader.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "io/item_status.hpp"

namespace pixab {

DecodedImage read_image_rgb8(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw ItemError(ItemStatus::kMissing, "file not found: " + path);

  // IMREAD_UNCHANGED keeps 16-bit samples and alpha so that each conversion can be flagged, not done
  // silently.
  cv::Mat raw;
  try {
    raw = cv::imread(path, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    // OpenCV refuses images whose header claims more pixels than CV_IO_MAX_IMAGE_PIXELS before decoding them.
    const bool too_large = std::string(e.what()).find("CV_IO_MAX_IMAGE_PIXELS") != std::string::npos;
    throw ItemError(too_large ? ItemStatus::kTooLarge : ItemStatus::kUnreadable,
                    std::string(too_large ? "image too large to decode: " : "cannot decode as an image: ") + path);
  }
  if (raw.empty()) throw ItemError(ItemStatus::kUnreadable, "cannot decode as an image: " + path);

  DecodedImage image;
  if (raw.depth() == CV_16U) {
    raw.convertTo(raw, CV_8U, 1.0 / 257.0);
    image.flags |= kFlagDepth16Converted;
  } else if (raw.depth() != CV_8U) {
    throw ItemError(ItemStatus::kUnreadable, "unsupported sample type (not 8 or 16 bit): " + path);
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
      throw ItemError(ItemStatus::kUnreadable,
                      "unsupported channel count " + std::to_string(raw.channels()) + ": " + path);
  }
  return image;
}

}  // namespace pixab
