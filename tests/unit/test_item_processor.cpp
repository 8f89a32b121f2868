// The item processor: bad items get their status and message and NaN rows; good items are untouched.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

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
      const float* row = array.floats().data() + i * 36;
      const bool all_nan = std::all_of(row, row + 36, [](float v) { return std::isnan(v); });
      const bool all_finite = std::all_of(row, row + 36, [](float v) { return std::isfinite(v); });
      EXPECT_TRUE(r.status == ItemStatus::kOk ? all_finite : all_nan) << r.id << " " << path;
    }
  }
  EXPECT_EQ(out.records[0].target, out.records[4].target);  // the same image gives the same answer
}

// A two-class model with labels, on a list dataset whose CSV carries labels and boxes.
class LabelledListFixture {
 public:
  LabelledListFixture() {
    for (const char* name : {"a.png", "b.png", "c.png", "d.png"})
      cv::imwrite(dir_.file(name), cv::Mat(6, 6, CV_8UC3, cv::Scalar(10, 200, 30)));
    cv::imwrite(dir_.file("gray.png"), cv::Mat(6, 6, CV_8UC1, cv::Scalar(90)));
    cv::imwrite(dir_.file("big.png"), cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
    test::write_file(dir_.file("list.csv"),
                     "a.png,Coat,1,1,3,4,Shirt,2,2,5,5,Coat\n"
                     "b.png,Shirt\n"
                     "c.png\n"
                     "d.png,unicorn\n"
                     "gray.png,1\n"
                     "big.png,Coat\n");
    auto meta = nlohmann::json::parse(test::simple_meta_json(6, 6, 3, 2));
    meta["labels"] = {"Coat", "Shirt"};
    model_ = std::make_unique<Model>(test::load_scripted_model(
        "labelled-model", test::kGapLinearSource,
        {{"weight", torch::randn({2, 3})}, {"bias", torch::zeros({2})}}, meta.dump()));
    DatasetConfig config;
    config.kind = "list";
    config.root = dir_.file("list.csv");
    config.max_pixels = 36;  // big.png (8 x 8) is over it
    dataset_ = open_dataset(config);
  }
  const Model& model() const { return *model_; }
  const Dataset& dataset() const { return *dataset_; }

 private:
  test::TempDir dir_{"labelled-list"};
  std::unique_ptr<Model> model_;
  std::unique_ptr<Dataset> dataset_;
};

TEST(ItemProcessor, TargetLabelExplainsTheDatasetsLabel) {
  const LabelledListFixture fixture;
  ProcessOptions options;
  options.methods = {"grad_cam"};
  options.target = "label";
  options.metrics.metrics = {"pointing_game"};
  const ProcessedItems out =
      ItemProcessor(fixture.model(), fixture.dataset(), options).process(fixture.dataset().items());
  // Items in id order: a, b, big, c, d, gray.
  ASSERT_EQ(out.records.size(), 6u);
  const ItemRecord& a = out.records[0];
  EXPECT_EQ(a.status, ItemStatus::kOk) << a.message;
  EXPECT_EQ(a.target, 0);         // Coat
  ASSERT_EQ(a.boxes.size(), 1u);  // only the Coat box; the stretch of a 6 x 6 image to 6 x 6 changes nothing
  EXPECT_FLOAT_EQ(a.boxes[0].x1, 2.0f);
  EXPECT_FLOAT_EQ(a.boxes[0].y2, 5.0f);
  EXPECT_EQ(out.records[1].target, 1);  // Shirt
  EXPECT_EQ(out.records[1].status, ItemStatus::kOk);
  EXPECT_EQ(out.records[2].status, ItemStatus::kTooLarge) << out.records[2].message;
  EXPECT_EQ(out.records[3].status, ItemStatus::kBadAnnotation);
  EXPECT_NE(out.records[3].message.find("no image-level label"), std::string::npos) << out.records[3].message;
  EXPECT_EQ(out.records[4].status, ItemStatus::kBadAnnotation);
  EXPECT_NE(out.records[4].message.find("names class 'unicorn'"), std::string::npos)
      << out.records[4].message;
  const ItemRecord& gray = out.records[5];
  EXPECT_EQ(gray.status, ItemStatus::kOk) << gray.message;
  EXPECT_EQ(gray.target, 1);  // the label "1" is a class index
  EXPECT_EQ(gray.flags & kFlagGrayscaleConverted, kFlagGrayscaleConverted);
}

TEST(ItemProcessor, TargetPredictedIgnoresMissingLabels) {
  const LabelledListFixture fixture;
  ProcessOptions options;
  options.methods = {"grad_cam"};
  const ProcessedItems out =
      ItemProcessor(fixture.model(), fixture.dataset(), options).process(fixture.dataset().items());
  EXPECT_EQ(out.records[3].status, ItemStatus::kOk) << out.records[3].message;  // c.png: no label, not needed
  EXPECT_EQ(out.records[4].status, ItemStatus::kBadAnnotation);  // d.png: an unknown class is still wrong
  for (const ItemRecord& record : out.records) {
    if (record.status == ItemStatus::kOk) {
      EXPECT_EQ(record.target, record.top1) << record.id;
    }
  }
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
