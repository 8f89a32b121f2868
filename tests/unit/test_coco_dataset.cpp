// The COCO reader: items from "images", boxes [x, y, w, h] as pixel edges, crowd and zero-area boxes, the
// entry-level problems that fail one image, and the file-level ones that stop the run before it starts.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io/coco_annotations.hpp"
#include "io/dataset.hpp"
#include "io/error.hpp"
#include "io/item_status.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

// Shaped like instances_val2014.json, with the keys the reader drops (info, licenses, segmentation, area).
const char* const kInstances = R"({
  "info": {"description": "COCO 2014 Dataset"}, "licenses": [{"id": 1, "name": "x"}],
  "images": [
    {"id": 42, "file_name": "COCO_val2014_000000000042.jpg", "width": 640, "height": 480, "license": 1},
    {"id": 73, "file_name": "COCO_val2014_000000000073.jpg", "width": 640, "height": 480},
    {"id": 74, "file_name": "COCO_val2014_000000000074.jpg", "width": 640, "height": 480},
    {"id": 75, "file_name": "COCO_val2014_000000000075.jpg", "width": 640, "height": 480}
  ],
  "annotations": [
    {"id": 1, "image_id": 42, "category_id": 18, "bbox": [10.5, 20.25, 100, 50], "iscrowd": 0, "area": 5000,
     "segmentation": [[10.5, 20.25, 110.5, 20.25, 110.5, 70.25]]},
    {"id": 2, "image_id": 42, "category_id": 1, "bbox": [0, 0, 640, 480], "iscrowd": 1,
     "segmentation": {"counts": [0, 5], "size": [480, 640]}},
    {"id": 3, "image_id": 42, "category_id": 18, "bbox": [5, 5, 0, 10], "iscrowd": 0},
    {"id": 4, "image_id": 73, "category_id": 99, "bbox": [1, 2, 3, 4], "iscrowd": 0},
    {"id": 5, "image_id": 74, "category_id": 1, "bbox": [1, 2, 3], "iscrowd": 0},
    {"id": 6, "image_id": 75, "category_id": 1, "bbox": [1, 2, -3, 4], "iscrowd": 0}
  ],
  "categories": [{"supercategory": "person", "id": 1, "name": "person"},
                 {"supercategory": "animal", "id": 18, "name": "dog"}]
})";

class CocoFixture {
 public:
  CocoFixture() { test::write_file(json_path(), kInstances); }
  std::string json_path() const { return dir_.file("annotations/instances_val2014.json"); }
  std::unique_ptr<Dataset> open(bool include_crowd = true) const {
    DatasetConfig config;
    config.kind = "coco";
    config.root = dir_.path();
    config.split = "val2014";
    config.include_crowd = include_crowd;
    return open_dataset(config);
  }
  std::string root() const { return dir_.path(); }

 private:
  test::TempDir dir_{"coco"};
};

std::string bad_annotation(const Dataset& dataset, std::size_t index) {
  try {
    dataset.annotation(dataset.items().at(index));
    return "";
  } catch (const ItemError& e) {
    EXPECT_EQ(e.status(), ItemStatus::kBadAnnotation);
    return e.what();
  }
}

TEST(CocoDataset, ItemsAndBoxes) {
  const CocoFixture fixture;
  const auto dataset = fixture.open();
  ASSERT_EQ(dataset->items().size(), 4u);
  const DatasetItem& first = dataset->items()[0];
  EXPECT_EQ(first.id, "val2014/COCO_val2014_000000000042.jpg");
  EXPECT_EQ(first.image_path, fixture.root() + "/val2014/COCO_val2014_000000000042.jpg");
  EXPECT_EQ(first.annotation_path, fixture.json_path());
  EXPECT_FALSE(dataset->has_labels());

  const ItemAnnotation annotation = dataset->annotation(first);
  ASSERT_EQ(annotation.objects.size(), 2u);  // annotation 3 has zero width: dropped
  EXPECT_EQ(annotation.objects[0].class_name, "dog");
  EXPECT_FLOAT_EQ(annotation.objects[0].box.x1, 10.5f);   // x
  EXPECT_FLOAT_EQ(annotation.objects[0].box.y1, 20.25f);  // y
  EXPECT_FLOAT_EQ(annotation.objects[0].box.x2, 110.5f);  // x + w
  EXPECT_FLOAT_EQ(annotation.objects[0].box.y2, 70.25f);  // y + h
  EXPECT_EQ(annotation.objects[1].class_name, "person");  // the crowd box, kept by default
  EXPECT_FLOAT_EQ(annotation.objects[1].box.x2, 640.0f);

  const auto without_crowd = fixture.open(/*include_crowd=*/false);
  EXPECT_EQ(without_crowd->annotation(without_crowd->items()[0]).objects.size(), 1u);
}

TEST(CocoDataset, BadEntriesFailOnlyTheirImage) {
  const CocoFixture fixture;
  const auto dataset = fixture.open();
  EXPECT_NE(bad_annotation(*dataset, 1).find("annotation 4: category_id 99 is not a category"),
            std::string::npos);
  EXPECT_NE(bad_annotation(*dataset, 2).find("annotation 5: bbox [1,2,3] is not [x, y, w, h]"),
            std::string::npos);
  EXPECT_NE(bad_annotation(*dataset, 3).find("annotation 6: bbox [1,2,-3,4] has a negative width"),
            std::string::npos);
  EXPECT_EQ(bad_annotation(*dataset, 0), "");
}

// Found by fuzzing: x + w, or a coordinate itself, beyond a float's range would give an infinite edge.
TEST(CocoDataset, BoxesBeyondAFloatsRangeFailTheirImage) {
  const std::string json = R"({"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
      "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [3e38, 0, 3e38, 1]},
                      {"id": 8, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1e39, 1], "iscrowd": 1}],
      "categories": [{"id": 1, "name": "person"}]})";
  for (const bool include_crowd : {true, false}) {
    const CocoAnnotations parsed = parse_coco_annotations(json, "instances.json", include_crowd);
    ASSERT_EQ(parsed.images.size(), 2u);
    EXPECT_EQ(parsed.images[0].problem,
              "COCO annotation file instances.json: annotation 7: bbox [3e+38,0,3e+38,1] is out of range");
    EXPECT_NE(parsed.images[1].problem.find("annotation 8: bbox [0,0,1e+39,1] is out of range"),
              std::string::npos)
        << parsed.images[1].problem;
  }
}

// Printing a deeply nested "id" for the message of a bad annotation overflowed the stack (found with a
// crafted input run through the fuzz target: the fuzzer's inputs are too short to nest this deep).
TEST(CocoDataset, DeepNestingIsAConfigErrorNotAStackOverflow) {
  const std::size_t depth = 100000;
  const std::string json = R"({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"id": )" +
                           std::string(depth, '[') + std::string(depth, ']') +
                           R"(, "image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1]}], "categories": []})";
  try {
    parse_coco_annotations(json, "instances.json", true);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "COCO annotation file instances.json: nested deeper than 100 levels");
  }
  // COCO's own nesting (RLE and polygon segmentations) is far from the limit.
  const CocoFixture fixture;
  EXPECT_EQ(fixture.open()->items().size(), 4u);
}

// nlohmann-json keeps integers above INT64_MAX as unsigned; read as int64 they wrapped onto -1.
TEST(CocoDataset, CategoryIdsBeyond64BitSignedAreNotWrapped) {
  const std::string json = R"({"images": [{"id": 1, "file_name": "a.jpg"}],
      "annotations": [{"id": 7, "image_id": 1, "category_id": 18446744073709551615, "bbox": [0, 0, 1, 1]}],
      "categories": [{"id": -1, "name": "person"}]})";
  const CocoAnnotations parsed = parse_coco_annotations(json, "instances.json", true);
  ASSERT_EQ(parsed.images.size(), 1u);
  EXPECT_TRUE(parsed.images[0].objects.empty());
  EXPECT_NE(parsed.images[0].problem.find("category_id 18446744073709551615 is not a category"),
            std::string::npos)
      << parsed.images[0].problem;
}

TEST(CocoDataset, CategoriesAreTheDatasetsClasses) {
  const CocoFixture fixture;
  const auto dataset = fixture.open();
  ModelMeta meta;
  meta.num_classes = 2;
  meta.labels = {"cat", "dog"};
  const ClassMatcher classes = dataset->class_matcher(meta);
  const ItemAnnotation resolved = classes.resolve(dataset->annotation(dataset->items()[0]), "first");
  EXPECT_EQ(resolved.objects[0].model_class, 1);   // dog: a class of the model
  EXPECT_EQ(resolved.objects[1].model_class, -1);  // person: known to COCO, not to the model
}

TEST(CocoDataset, FileLevelProblemsAreConfigErrors) {
  const auto expect_config_error = [](const std::string& json, const std::string& text) {
    CocoFixture fixture;
    test::write_file(fixture.json_path(), json);
    try {
      fixture.open();
      ADD_FAILURE() << "expected a ConfigError for " << json;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fixture.json_path()), std::string::npos) << e.what();
    }
  };
  expect_config_error(R"({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [)", "not valid JSON");
  expect_config_error(R"([1, 2])", "no \"images\" array");
  expect_config_error(R"({"images": [], "annotations": []})", "no \"categories\" array");
  expect_config_error(R"({"images": [{"file_name": "a.jpg"}], "annotations": [], "categories": []})",
                      "an image has no integer \"id\"");
  expect_config_error(
      R"({"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}], "annotations": [],
          "categories": []})",
      "image 1 is listed twice");
  // Beyond 64-bit signed: not wrapped onto -1, which would make it "listed twice".
  expect_config_error(
      R"({"images": [{"id": 18446744073709551615, "file_name": "a.jpg"}, {"id": -1, "file_name": "b.jpg"}],
          "annotations": [], "categories": []})",
      "an image has no integer \"id\"");
  expect_config_error(
      R"({"images": [{"id": 1, "file_name": "a.jpg"}],
          "annotations": [{"id": 9, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}],
          "categories": [{"id": 1, "name": "person"}]})",
      "an annotation refers to image 2, which \"images\" does not list");

  CocoFixture no_file;
  std::filesystem::remove(no_file.json_path());
  EXPECT_THROW(no_file.open(), ConfigError);
}

}  // namespace
}  // namespace pixab
