// The item processor: bad items get their status and message and NaN rows; good items are untouched.
#include <gtest/gtest.h>
#include <zlib.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "io/image_reader.hpp"
#include "io/voc_dataset.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/item_processor.hpp"

namespace pixab {
namespace {

// A PNG of 69 bytes whose header claims width x height pixels (IHDR, a tiny zlib stream as IDAT, IEND):
// decoders must refuse it from the header.
void write_png_header_only(const std::string& path, std::uint32_t width, std::uint32_t height) {
  auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  const std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string{8, 2, 0, 0, 0};  // 8-bit RGB
  auto chunk = [&](const std::string& type_and_data) {
    const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(type_and_data.data()),
                                                      static_cast<uInt>(type_and_data.size())));
    return be32(static_cast<std::uint32_t>(type_and_data.size() - 4)) + type_and_data + be32(crc);
  };
  const std::string idat = "IDAT" + std::string("\x78\x9c\x63\x60\xa0\x3d\x00\x00\x00\x64\x00\x01", 12);
  std::ofstream(path, std::ios::binary)
      << std::string("\x89PNG\r\n\x1a\n", 8) << chunk(ihdr) << chunk(idat) << chunk("IEND");
}

TEST(ImageReader, HugeHeaderIsTooLargeNotACrash) {
  test::TempDir dir("huge");
  write_png_header_only(dir.file("huge.png"), 40000, 40000);
  try {
    read_image_rgb8(dir.file("huge.png"));
    FAIL() << "expected an ItemError";
  } catch (const ItemError& e) {
    EXPECT_EQ(e.status(), ItemStatus::kTooLarge) << e.what();
  }
}

TEST(ImageReader, ConversionsAreFlagged) {
  test::TempDir dir("conversions");
  cv::imwrite(dir.file("gray.png"), cv::Mat(4, 4, CV_8UC1, cv::Scalar(7)));
  cv::imwrite(dir.file("rgba.png"), cv::Mat(4, 4, CV_8UC4, cv::Scalar(1, 2, 3, 4)));
  cv::imwrite(dir.file("deep.png"), cv::Mat(4, 4, CV_16UC3, cv::Scalar(257 * 10, 0, 0)));
  EXPECT_EQ(read_image_rgb8(dir.file("gray.png")).flags, kFlagGrayscaleConverted);
  const auto rgba = read_image_rgb8(dir.file("rgba.png"));
  EXPECT_EQ(rgba.flags, kFlagAlphaDropped);
  EXPECT_EQ(rgba.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(3, 2, 1));  // BGR(A) on disk -> RGB in memory
  const auto deep = read_image_rgb8(dir.file("deep.png"));
  EXPECT_EQ(deep.flags, kFlagDepth16Converted);
  EXPECT_EQ(deep.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 10));
}

TEST(ItemProcessor, BadItemsGetTheirStatusAndNanRows) {
  // A VOC-layout set of five items: good, missing image, huge header, malformed annotation, good.
  test::TempDir dir("processor");
  const std::string root = dir.path();
  std::filesystem::create_directories(root + "/JPEGImages");
  std::filesystem::create_directories(root + "/Annotations");
  std::filesystem::create_directories(root + "/ImageSets/Main");
  std::ofstream(root + "/ImageSets/Main/test.txt") << "a_good\nb_missing\nc_huge\nd_badxml\ne_good\n";
  for (const char* id : {"a_good", "d_badxml", "e_good"}) {
    cv::imwrite(root + "/JPEGImages/" + id + ".png", cv::Mat(6, 6, CV_8UC3, cv::Scalar(10, 200, 30)));
  }
  write_png_header_only(root + "/JPEGImages/c_huge.png", 40000, 40000);
  VocAnnotation annotation;
  annotation.width = annotation.height = 6;
  annotation.depth = 3;
  for (const char* id : {"a_good", "b_missing", "c_huge", "e_good"}) {
    write_voc_annotation(root + "/Annotations/" + id + ".xml", annotation);
  }
  std::ofstream(root + "/Annotations/d_badxml.xml") << "<annotation><size>";

  const Model model = test::load_scripted_model(
      "processor-model", test::kGapLinearSource,
      {{"weight", torch::randn({2, 3})}, {"bias", torch::zeros({2})}}, test::simple_meta_json(6, 6, 3, 2));
  const auto dataset = open_dataset({"voc", root, "test", ""});
  ProcessOptions options;
  options.methods = {"grad_cam", "pixab_cam"};
  options.batch_size = 2;
  const ProcessedItems out = ItemProcessor(model, *dataset, options).process(dataset->items());

  ASSERT_EQ(out.records.size(), 5u);
  const std::vector<ItemStatus> expected{ItemStatus::kOk, ItemStatus::kMissing, ItemStatus::kTooLarge,
                                         ItemStatus::kBadAnnotation, ItemStatus::kOk};
  for (std::size_t i = 0; i < 5; ++i) {
    const ItemRecord& r = out.records[i];
    EXPECT_EQ(r.status, expected[i]) << r.id << ": " << r.message;
    EXPECT_EQ(r.message.empty(), r.status == ItemStatus::kOk) << r.id;
    for (const auto& [path, array] : out.arrays) {
      const float* row = array.values.data() + i * 36;
      const bool all_nan = std::all_of(row, row + 36, [](float v) { return std::isnan(v); });
      const bool all_finite = std::all_of(row, row + 36, [](float v) { return std::isfinite(v); });
      EXPECT_TRUE(r.status == ItemStatus::kOk ? all_finite : all_nan) << r.id << " " << path;
    }
  }
  EXPECT_EQ(out.records[0].target, out.records[4].target);  // the same image gives the same answer
}

}  // namespace
}  // namespace pixab
