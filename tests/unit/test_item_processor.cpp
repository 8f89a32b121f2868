// The item processor: bad items get their status and message and NaN rows; good items are untouched.
#include <gtest/gtest.h>
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

DatasetConfig voc_config(const std::string& root) {
  DatasetConfig config;
  config.kind = "voc";
  config.root = root;
  return config;
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
  test::write_png_header_only(root + "/JPEGImages/c_huge.png", 40000, 40000);
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
  const auto dataset = open_dataset(voc_config(root));
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

TEST(ItemProcessor, TargetLabelIsRefusedWithoutImageLevelLabels) {
  test::TempDir dir("label-on-voc");
  test::write_file(dir.file("ImageSets/Main/test.txt"), "a\n");
  const Model model = test::load_scripted_model(
      "label-voc-model", test::kGapLinearSource,
      {{"weight", torch::randn({2, 3})}, {"bias", torch::zeros({2})}}, test::simple_meta_json(6, 6, 3, 2));
  const auto dataset = open_dataset(voc_config(dir.path()));
  ProcessOptions options;
  options.methods = {"grad_cam"};
  options.target = "label";
  try {
    ItemProcessor(model, *dataset, options);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("(kind 'voc') does not have"), std::string::npos) << e.what();
  }
  options.target = "nearest";
  EXPECT_THROW(ItemProcessor(model, *dataset, options), ConfigError);
}

}  // namespace
}  // namespace pixab
