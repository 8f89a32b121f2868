// The ImageNet reader: both layouts, labels and boxes from the bounding-box XML, class indices from the
// model's wnids or the synset mapping file, and what is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io/dataset.hpp"
#include "io/error.hpp"
#include "io/imagenet_dataset.hpp"
#include "io/item_status.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

std::string bbox_xml(const std::string& filename, const std::string& objects) {
  return "<annotation><folder>val</folder><filename>" + filename +
         "</filename><size><width>500</width><height>375</height><depth>3</depth></size>" + objects +
         "</annotation>";
}

std::string object_xml(const std::string& synset, int xmin, int ymin, int xmax, int ymax) {
  return "<object><name>" + synset + "</name><difficult>0</difficult><bndbox><xmin>" + std::to_string(xmin) +
         "</xmin><ymin>" + std::to_string(ymin) + "</ymin><xmax>" + std::to_string(xmax) + "</xmax><ymax>" +
         std::to_string(ymax) + "</ymax></bndbox></object>";
}

// root/val with one image in a synset folder (as valprep.sh leaves them), root/bbox/val with the XMLs.
class ImagenetFixture {
 public:
  ImagenetFixture() {
    test::write_file(dir_.file("val/ILSVRC2012_val_00000001.JPEG"), "x");
    test::write_file(dir_.file("val/n01751748/ILSVRC2012_val_00000002.JPEG"), "x");
    test::write_file(dir_.file("val/ILSVRC2012_val_00000003.JPEG"), "x");
    test::write_file(dir_.file("val/ILSVRC2012_val_00000004.JPEG"), "x");
    test::write_file(dir_.file("val/ILSVRC2012_val_00000005.JPEG"), "x");
    test::write_file(dir_.file("val/ILSVRC2012_val_00000006.JPEG"), "x");
    test::write_file(dir_.file("val/readme.txt"), "not an image");
    test::write_file(dir_.file("bbox/val/ILSVRC2012_val_00000001.xml"),
                     bbox_xml("ILSVRC2012_val_00000001", object_xml("n01751748", 111, 108, 364, 296) +
                                                             object_xml("n01751748", 1, 1, 500, 375)));
    test::write_file(dir_.file("bbox/val/ILSVRC2012_val_00000002.xml"),
                     bbox_xml("ILSVRC2012_val_00000002", object_xml("n09193705", 10, 20, 30, 40)));
    test::write_file(dir_.file("bbox/val/ILSVRC2012_val_00000003.xml"),
                     bbox_xml("ILSVRC2012_val_00000003",
                              object_xml("n01751748", 1, 1, 2, 2) + object_xml("n09193705", 1, 1, 2, 2)));
    test::write_file(dir_.file("bbox/val/ILSVRC2012_val_00000004.xml"),
                     bbox_xml("ILSVRC2012_val_00000004", ""));
    test::write_file(dir_.file("bbox/val/ILSVRC2012_val_00000005.xml"),
                     bbox_xml("ILSVRC2012_val_00000005", object_xml("n99999999", 1, 1, 2, 2)));
    // ILSVRC2012_val_00000006 has no XML.
    test::write_file(dir_.file("LOC_synset_mapping.txt"),
                     "n01751748 sea snake\nn09193705 alp\nn02085620 Chihuahua\n");
  }
  std::string root() const { return dir_.path(); }
  std::unique_ptr<Dataset> open() const {
    DatasetConfig config;
    config.kind = "imagenet";
    config.root = root();
    config.split = "val";
    return open_dataset(config);
  }

 private:
  test::TempDir dir_{"imagenet"};
};

std::string bad_annotation(const Dataset& dataset, const DatasetItem& item) {
  try {
    dataset.annotation(item);
    return "";
  } catch (const ItemError& e) {
    EXPECT_EQ(e.status(), ItemStatus::kBadAnnotation);
    return e.what();
  }
}

TEST(ImagenetDataset, ItemsLabelsAndBoxes) {
  const ImagenetFixture fixture;
  const auto dataset = fixture.open();
  const auto& items = dataset->items();
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[0].id, "val/ILSVRC2012_val_00000001.JPEG");
  EXPECT_EQ(items[0].annotation_path, fixture.root() + "/bbox/val/ILSVRC2012_val_00000001.xml");
  EXPECT_EQ(items[5].id, "val/n01751748/ILSVRC2012_val_00000002.JPEG");  // sorted by id
  EXPECT_EQ(items[5].annotation_path, fixture.root() + "/bbox/val/ILSVRC2012_val_00000002.xml");
  EXPECT_TRUE(dataset->has_labels());

  const ItemAnnotation first = dataset->annotation(items[0]);
  EXPECT_EQ(first.label, "n01751748");
  ASSERT_EQ(first.objects.size(), 2u);
  // VOC's 1-based inclusive 111..364 is pixel edges [110, 364].
  EXPECT_FLOAT_EQ(first.objects[0].box.x1, 110.0f);
  EXPECT_FLOAT_EQ(first.objects[0].box.y1, 107.0f);
  EXPECT_FLOAT_EQ(first.objects[0].box.x2, 364.0f);
  EXPECT_FLOAT_EQ(first.objects[0].box.y2, 296.0f);
  EXPECT_FLOAT_EQ(first.objects[1].box.x1, 0.0f);
  EXPECT_FLOAT_EQ(first.objects[1].box.x2, 500.0f);
  EXPECT_EQ(dataset->annotation(items[5]).label, "n09193705");
}

TEST(ImagenetDataset, BadAnnotations) {
  const ImagenetFixture fixture;
  const auto dataset = fixture.open();
  const auto& items = dataset->items();
  EXPECT_NE(bad_annotation(*dataset, items[1]).find("an ImageNet image has one class"), std::string::npos);
  EXPECT_NE(bad_annotation(*dataset, items[2]).find("no objects, so no label"), std::string::npos);
  EXPECT_NE(bad_annotation(*dataset, items[4]).find("file is missing"), std::string::npos);
  // A synset that neither the mapping file nor the model knows.
  ModelMeta meta;
  meta.num_classes = 3;
  const ClassMatcher classes = dataset->class_matcher(meta);
  try {
    classes.resolve(dataset->annotation(items[3]), items[3].annotation_path);
    ADD_FAILURE() << "n99999999 should be unknown";
  } catch (const ItemError& e) {
    EXPECT_EQ(e.status(), ItemStatus::kBadAnnotation);
    EXPECT_NE(std::string(e.what()).find("names class 'n99999999'"), std::string::npos) << e.what();
  }
}

TEST(ImagenetDataset, ClassIndicesFromWnidsOrTheMappingFile) {
  const ImagenetFixture fixture;
  const auto dataset = fixture.open();
  ModelMeta meta;
  meta.num_classes = 3;
  // No wnids: the mapping file's line order.
  EXPECT_EQ(dataset->class_matcher(meta).model_class("n09193705"), 1);
  // The model's wnids win over the mapping file.
  meta.wnids = {"n02085620", "n09193705", "n01751748"};
  EXPECT_EQ(dataset->class_matcher(meta).model_class("n01751748"), 2);
  const ItemAnnotation resolved =
      dataset->class_matcher(meta).resolve(dataset->annotation(dataset->items()[0]), "first");
  EXPECT_EQ(resolved.label_class, 2);
  EXPECT_EQ(resolved.objects[1].model_class, 2);

  // No wnids and a mapping of another size, or no mapping at all: a ConfigError before any work.
  meta.wnids.clear();
  meta.num_classes = 1000;
  EXPECT_THROW(dataset->class_matcher(meta), ConfigError);
  std::filesystem::remove(fixture.root() + "/LOC_synset_mapping.txt");
  EXPECT_THROW(fixture.open()->class_matcher(meta), ConfigError);
}

TEST(ImagenetDataset, KaggleLayout) {
  test::TempDir dir("imagenet-kaggle");
  test::write_file(dir.file("ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_00000001.JPEG"), "x");
  test::write_file(dir.file("ILSVRC/Annotations/CLS-LOC/val/ILSVRC2012_val_00000001.xml"),
                   bbox_xml("ILSVRC2012_val_00000001", object_xml("n01751748", 1, 1, 2, 2)));
  DatasetConfig config;
  config.kind = "imagenet";
  config.root = dir.path();
  config.split = "val";
  const auto dataset = open_dataset(config);
  ASSERT_EQ(dataset->items().size(), 1u);
  EXPECT_EQ(dataset->items()[0].id, "ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_00000001.JPEG");
  EXPECT_EQ(dataset->annotation(dataset->items()[0]).label, "n01751748");
}

TEST(ImagenetDataset, LayoutAndMappingErrorsAreConfigErrors) {
  test::TempDir dir("imagenet-errors");
  DatasetConfig config;
  config.kind = "imagenet";
  config.root = dir.path();
  config.split = "val";
  EXPECT_THROW(open_dataset(config), ConfigError);  // no image folder
  test::write_file(dir.file("val/ILSVRC2012_val_00000001.JPEG"), "x");
  EXPECT_THROW(open_dataset(config), ConfigError);  // no bbox folder
  test::write_file(dir.file("bbox/val/ILSVRC2012_val_00000001.xml"), "<annotation/>");
  EXPECT_NO_THROW(open_dataset(config));
  test::write_file(dir.file("LOC_synset_mapping.txt"), "n01 a\nn02 b\nn01 c\n");
  try {
    open_dataset(config);
    ADD_FAILURE() << "a repeated synset should be refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3: 'n01' already on line 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pixab
