// Image decoding and its bad-input cases (pipeline.md G5): every unusable file gets its status without a
// crash, every convertible one is converted with its flag, and limits are checked from the header.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "io/image_header.hpp"
#include "io/image_reader.hpp"
#include "io/item_status.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

namespace fs = std::filesystem;

// A 16 x 8 CMYK JPEG (Adobe APP14, inverted samples as Photoshop writes them), 359 bytes, made by Pillow:
// Image.new("CMYK", (16, 8)) with the left 8 x 8 pixels (255, 0, 0, 0) = pure cyan, the rest (0, 0, 0, 0)
// = white, saved with quality 95. cv::imwrite cannot write CMYK.
const unsigned char kCmykJpeg[] = {
    0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04, 0x04, 0x03, 0x04, 0x06, 0x05,
    0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06, 0x07, 0x09, 0x07, 0x06, 0x06, 0x08,
    0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08, 0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x0a,
    0x0a, 0x0a, 0xff, 0xc0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x10, 0x04, 0x43, 0x11, 0x00, 0x4d, 0x11,
    0x00, 0x59, 0x11, 0x00, 0x4b, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
    0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02,
    0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05,
    0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08,
    0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43,
    0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85,
    0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4,
    0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa, 0xff, 0xda, 0x00, 0x0e, 0x04, 0x43, 0x00, 0x4d, 0x00, 0x59, 0x00, 0x4b, 0x00, 0x00, 0x3f,
    0x00, 0xfe, 0x7f, 0xeb, 0xf7, 0xf2, 0xbf, 0x7f, 0x2b, 0xf7, 0xf2, 0xbf, 0xbf, 0xca, 0x28, 0xa2, 0xbf,
    0xff, 0xd9};

std::string read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// The status of reading `path`, or kOk; the message must name the file.
ItemStatus status_of(const std::string& path, std::uint64_t max_pixels = kDefaultMaxPixels) {
  try {
    read_image_rgb8(path, max_pixels);
    return ItemStatus::kOk;
  } catch (const ItemError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
    return e.status();
  }
}

// A noisy colour JPEG (noise keeps the entropy-coded data long enough to cut in the middle).
std::string write_noise_jpeg(const std::string& path, int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::randu(image, 0, 255);
  cv::imwrite(path, image);
  return path;
}

ImageHeader header_of(const std::string& path) {
  const std::string bytes = read_bytes(path);
  return inspect_image_header(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

TEST(ImageReader, MissingEmptyAndNotAnImage) {
  test::TempDir dir("reader-bad");
  test::write_file(dir.file("empty.jpg"), "");
  test::write_file(dir.file("text.jpg"), "these are not the pixels you are looking for\n");
  fs::create_directories(dir.file("folder.jpg"));
  EXPECT_EQ(status_of(dir.file("missing.jpg")), ItemStatus::kMissing);
  EXPECT_EQ(status_of(dir.file("empty.jpg")), ItemStatus::kUnreadable);
  EXPECT_EQ(status_of(dir.file("text.jpg")), ItemStatus::kUnreadable);
  EXPECT_EQ(status_of(dir.file("folder.jpg")), ItemStatus::kUnreadable);
}

// OpenCV takes the encoded bytes' count as an int: a file over INT_MAX bytes (possible with a large
// dataset.max_pixels) is too_large with a message, never a wrapped negative size.
TEST(ImageReader, ByteCountOverIntMaxIsTooLarge) {
  constexpr std::uint64_t kIntMax = 2147483647;
  EXPECT_EQ(opencv_byte_count(1, "a.png"), 1);
  EXPECT_EQ(opencv_byte_count(kIntMax, "a.png"), 2147483647);
  for (const std::uint64_t size : {kIntMax + 1, std::uint64_t{1} << 32, std::uint64_t{1} << 40}) {
    try {
      opencv_byte_count(size, "huge.tif");
      ADD_FAILURE() << size << " bytes were accepted";
    } catch (const ItemError& e) {
      EXPECT_EQ(e.status(), ItemStatus::kTooLarge);
      EXPECT_NE(std::string(e.what()).find(std::to_string(size) + " bytes"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("huge.tif"), std::string::npos) << e.what();
    }
  }
}

TEST(ImageReader, PngNamedJpegIsDecodedByContent) {
  test::TempDir dir("reader-png-as-jpeg");
  cv::imwrite(dir.file("real.png"), cv::Mat(3, 5, CV_8UC3, cv::Scalar(30, 20, 10)));
  fs::copy_file(dir.file("real.png"), dir.file("fake.JPEG"));
  EXPECT_EQ(header_of(dir.file("fake.JPEG")).format, ImageFormat::kPng);
  const DecodedImage image = read_image_rgb8(dir.file("fake.JPEG"));
  EXPECT_EQ(image.flags, 0u);
  EXPECT_EQ(image.rgb.size(), cv::Size(5, 3));
  EXPECT_EQ(image.rgb.at<cv::Vec3b>(2, 4), cv::Vec3b(10, 20, 30));
}

// libjpeg decodes a cut JPEG with a warning and grey rows; only the missing EOI marker tells.
TEST(ImageReader, TruncatedJpegIsDetectedThoughOpenCvDecodesIt) {
  test::TempDir dir("reader-truncated");
  const std::string bytes = read_bytes(write_noise_jpeg(dir.file("whole.jpg"), 64, 64));
  test::write_file(dir.file("cut.jpg"), bytes.substr(0, bytes.size() * 6 / 10));
  ASSERT_FALSE(cv::imread(dir.file("cut.jpg"), cv::IMREAD_UNCHANGED).empty()) << "OpenCV should decode it";
  EXPECT_EQ(status_of(dir.file("whole.jpg")), ItemStatus::kOk);
  EXPECT_EQ(status_of(dir.file("cut.jpg")), ItemStatus::kTruncated);
  // Cut just before EOI, or inside the header: truncated too. Bytes after EOI are not a problem.
  test::write_file(dir.file("no-eoi.jpg"), bytes.substr(0, bytes.size() - 2));
  test::write_file(dir.file("header-only.jpg"), bytes.substr(0, 100));
  test::write_file(dir.file("trailer.jpg"), bytes + "camera trailer \xff\xd8 junk");
  EXPECT_EQ(status_of(dir.file("no-eoi.jpg")), ItemStatus::kTruncated);
  EXPECT_EQ(status_of(dir.file("header-only.jpg")), ItemStatus::kTruncated);
  EXPECT_EQ(status_of(dir.file("trailer.jpg")), ItemStatus::kOk);
}

TEST(ImageReader, TruncatedPngIsTruncated) {
  test::TempDir dir("reader-truncated-png");
  cv::Mat image(32, 32, CV_8UC3);
  cv::randu(image, 0, 255);
  cv::imwrite(dir.file("whole.png"), image);
  const std::string bytes = read_bytes(dir.file("whole.png"));
  test::write_file(dir.file("cut.png"), bytes.substr(0, bytes.size() / 2));
  test::write_file(dir.file("no-iend.png"), bytes.substr(0, bytes.size() - 12));
  EXPECT_EQ(status_of(dir.file("whole.png")), ItemStatus::kOk);
  EXPECT_EQ(status_of(dir.file("cut.png")), ItemStatus::kTruncated);
  EXPECT_EQ(status_of(dir.file("no-iend.png")), ItemStatus::kTruncated);
}

TEST(ImageReader, CmykJpegIsConvertedAndFlagged) {
  test::TempDir dir("reader-cmyk");
  test::write_file(dir.file("cmyk.jpg"),
                   std::string(reinterpret_cast<const char*>(kCmykJpeg), sizeof kCmykJpeg));
  const ImageHeader header = header_of(dir.file("cmyk.jpg"));
  EXPECT_EQ(header.components, 4);
  EXPECT_FALSE(header.truncated);
  const DecodedImage image = read_image_rgb8(dir.file("cmyk.jpg"));
  EXPECT_EQ(image.flags, kFlagCmykConverted);
  ASSERT_EQ(image.rgb.size(), cv::Size(16, 8));
  const auto near = [](cv::Vec3b actual, cv::Vec3b expected) {
    return cv::norm(actual, expected, cv::NORM_INF) <= 3;
  };
  EXPECT_PRED2(near, image.rgb.at<cv::Vec3b>(4, 3), cv::Vec3b(0, 255, 255));     // cyan
  EXPECT_PRED2(near, image.rgb.at<cv::Vec3b>(4, 12), cv::Vec3b(255, 255, 255));  // white
}

TEST(ImageReader, ConversionsAreFlagged) {
  test::TempDir dir("reader-conversions");
  cv::imwrite(dir.file("gray.png"), cv::Mat(4, 4, CV_8UC1, cv::Scalar(7)));
  cv::imwrite(dir.file("gray.jpg"), cv::Mat(8, 8, CV_8UC1, cv::Scalar(100)));
  cv::imwrite(dir.file("rgba.png"), cv::Mat(4, 4, CV_8UC4, cv::Scalar(1, 2, 3, 4)));
  cv::imwrite(dir.file("deep.png"), cv::Mat(4, 4, CV_16UC3, cv::Scalar(257 * 10, 0, 0)));
  // Greyscale + alpha, 2 x 1, which OpenCV expands to BGRA.
  test::write_png(dir.file("gray-alpha.png"), 2, 1, 8, 4, std::string("\x50\xff\x60\x80", 4));

  EXPECT_EQ(read_image_rgb8(dir.file("gray.png")).flags, kFlagGrayscaleConverted);
  const auto gray_jpeg = read_image_rgb8(dir.file("gray.jpg"));
  EXPECT_EQ(gray_jpeg.flags, kFlagGrayscaleConverted);
  EXPECT_EQ(gray_jpeg.rgb.at<cv::Vec3b>(3, 3), cv::Vec3b(100, 100, 100));
  const auto rgba = read_image_rgb8(dir.file("rgba.png"));
  EXPECT_EQ(rgba.flags, kFlagAlphaDropped);
  EXPECT_EQ(rgba.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(3, 2, 1));  // BGR(A) on disk -> RGB in memory
  const auto deep = read_image_rgb8(dir.file("deep.png"));
  EXPECT_EQ(deep.flags, kFlagDepth16Converted);
  EXPECT_EQ(deep.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 10));
  const auto gray_alpha = read_image_rgb8(dir.file("gray-alpha.png"));
  EXPECT_EQ(gray_alpha.flags, kFlagGrayscaleConverted | kFlagAlphaDropped);
  EXPECT_EQ(gray_alpha.rgb.at<cv::Vec3b>(0, 1), cv::Vec3b(0x60, 0x60, 0x60));
}

TEST(ImageReader, SixteenBitPngWrittenByHand) {
  test::TempDir dir("reader-16bit");
  // One RGB pixel of 16-bit samples 0x0A0A, 0xFFFF, 0x0000: 8-bit 10, 255, 0.
  test::write_png(dir.file("deep.png"), 1, 1, 16, 2, std::string("\x0a\x0a\xff\xff\x00\x00", 6));
  const DecodedImage image = read_image_rgb8(dir.file("deep.png"));
  EXPECT_EQ(image.flags, kFlagDepth16Converted);
  EXPECT_EQ(image.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 255, 0));
}

// The headers below promise far more pixels than their files hold: decoding them would fail as unreadable
// or truncated, so too_large proves that they were refused from the header alone.
TEST(ImageReader, PixelLimitIsCheckedFromTheHeaderBeforeDecoding) {
  test::TempDir dir("reader-huge");
  test::write_png_header_only(dir.file("huge.png"), 40000, 40000);
  // SOI, then a baseline frame header (SOF0) for 60000 x 60000 with 3 components, and nothing else.
  test::write_file(dir.file("huge.jpg"), std::string("\xff\xd8\xff\xc0\x00\x11\x08\xea\x60\xea\x60\x03"
                                                     "\x01\x22\x00\x02\x11\x01\x03\x11\x01",
                                                     21));
  EXPECT_EQ(header_of(dir.file("huge.jpg")).width, 60000u);
  EXPECT_EQ(status_of(dir.file("huge.png")), ItemStatus::kTooLarge);
  EXPECT_EQ(status_of(dir.file("huge.jpg")), ItemStatus::kTooLarge);
  try {
    read_image_rgb8(dir.file("huge.jpg"));
  } catch (const ItemError& e) {
    EXPECT_NE(std::string(e.what()).find("60000 x 60000 = 3600000000 pixels, over the limit of 268435456"),
              std::string::npos)
        << e.what();
  }
}

TEST(ImageReader, PixelLimitIsConfigurable) {
  test::TempDir dir("reader-limit");
  cv::imwrite(dir.file("a.png"), cv::Mat(10, 20, CV_8UC3, cv::Scalar(1, 2, 3)));
  write_noise_jpeg(dir.file("a.jpg"), 20, 10);
  cv::imwrite(dir.file("a.bmp"),
              cv::Mat(10, 20, CV_8UC3, cv::Scalar(1, 2, 3)));  // no header parser: after decoding
  for (const char* name : {"a.png", "a.jpg", "a.bmp"}) {
    EXPECT_EQ(status_of(dir.file(name), 200), ItemStatus::kOk) << name;
    EXPECT_EQ(status_of(dir.file(name), 199), ItemStatus::kTooLarge) << name;
  }
  // A file larger than any image under the limit could be is refused before it is read: 8 bytes a pixel
  // (16-bit RGBA) plus 1 MiB.
  test::write_file(dir.file("big.png"), std::string((1 << 20) + 8 * 200 + 1, 'x'));
  EXPECT_EQ(status_of(dir.file("big.png"), 200), ItemStatus::kTooLarge);
  EXPECT_EQ(status_of(dir.file("big.png"), 201), ItemStatus::kUnreadable);
}

// The real photographs of Debian's darknet package (scripts/packages.txt): baseline JPEGs of varied sizes.
TEST(ImageReader, DarknetPhotographs) {
  const fs::path folder = "/usr/share/darknet/data";
  if (!fs::is_directory(folder)) GTEST_SKIP() << "Debian's darknet package is not installed";
  int photos = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() != ".jpg") continue;
    ++photos;
    const std::string path = entry.path().string();
    const ImageHeader header = header_of(path);
    const DecodedImage image = read_image_rgb8(path);
    EXPECT_EQ(header.format, ImageFormat::kJpeg) << path;
    EXPECT_FALSE(header.truncated) << path;
    EXPECT_EQ(image.flags, 0u) << path;
    EXPECT_EQ(image.rgb.cols, static_cast<int>(header.width)) << path;
    EXPECT_EQ(image.rgb.rows, static_cast<int>(header.height)) << path;
    EXPECT_EQ(image.rgb.size(), cv::imread(path).size()) << path;
  }
  EXPECT_GE(photos, 7);

  // A real photograph cut in half still decodes with OpenCV; pixab calls it truncated.
  test::TempDir dir("reader-darknet");
  const std::string bytes = read_bytes((folder / "dog.jpg").string());
  test::write_file(dir.file("dog-half.jpg"), bytes.substr(0, bytes.size() / 2));
  EXPECT_FALSE(cv::imread(dir.file("dog-half.jpg")).empty());
  EXPECT_EQ(status_of(dir.file("dog-half.jpg")), ItemStatus::kTruncated);
}

}  // namespace
}  // namespace pixab
