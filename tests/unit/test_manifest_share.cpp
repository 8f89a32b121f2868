// What rank 0 shares so that the other ranks need not list the dataset: the manifest's bytes (every field of
// every item, its hash and chunk size) round trip exactly, bad bytes are refused, and a dataset opens from
// items listed elsewhere and files read elsewhere without touching the disk for either.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/dataset.hpp"
#include "io/error.hpp"
#include "pipeline/manifest_share.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

Manifest awkward_manifest() {
  Manifest manifest;
  manifest.chunk_size = 7;
  manifest.sha256 = std::string(64, 'f');
  manifest.items = {{"a/1.jpg", "/data/a/1.jpg", "/data/a/1.xml"},
                    {"tab\tand\nnewline", "/data/\xc3\xa9t\xc3\xa9.png", ""},
                    {"", "", ""},
                    {std::string("nul\0inside", 10), "x", std::string(100000, 'z')}};
  return manifest;
}

TEST(ManifestShare, TheBytesGiveBackEveryFieldOfEveryItem) {
  const Manifest sent = awkward_manifest();
  const Manifest received = parse_manifest(serialise_manifest(sent));
  EXPECT_EQ(received.chunk_size, sent.chunk_size);
  EXPECT_EQ(received.sha256, sent.sha256);
  ASSERT_EQ(received.items.size(), sent.items.size());
  for (std::size_t i = 0; i < sent.items.size(); ++i) {
    EXPECT_EQ(received.items[i].id, sent.items[i].id) << i;
    EXPECT_EQ(received.items[i].image_path, sent.items[i].image_path) << i;
    EXPECT_EQ(received.items[i].annotation_path, sent.items[i].annotation_path) << i;
  }
  EXPECT_TRUE(parse_manifest(serialise_manifest(Manifest{})).items.empty());
}

TEST(ManifestShare, BytesThatAreNotAManifestAreRefused) {
  const std::string bytes = serialise_manifest(awkward_manifest());
  EXPECT_THROW(parse_manifest(bytes.substr(0, bytes.size() - 1)), IoError);
  EXPECT_THROW(parse_manifest(bytes + "x"), IoError);
  EXPECT_THROW(parse_manifest(""), IoError);
  std::string huge_count = serialise_manifest(Manifest{});
  huge_count[8 + 8 + 7] = '\x7f';  // the item count's top byte (after chunk size and the empty hash's length)
  EXPECT_THROW(parse_manifest(huge_count), IoError);
}

TEST(ManifestShare, FilesRoundTrip) {
  const std::map<std::string, std::string> files{{"/c/instances_val2014.json", "{\"images\": []}"},
                                                 {"/l/list.csv", std::string("a,b\n\0", 5)}};
  EXPECT_EQ(parse_files(serialise_files(files)), files);
  EXPECT_TRUE(parse_files(serialise_files({})).empty());
  EXPECT_THROW(parse_files(serialise_files(files) + "x"), IoError);
}

// What the ranks other than 0 do: a VOC layout with no image-set list on disk opens from the items alone.
TEST(ManifestShare, AVocDatasetOpensFromItemsListedElsewhere) {
  test::TempDir dir("share-voc");
  test::write_file(
      dir.file("Annotations/000007.xml"),
      "<annotation><size><width>10</width><height>10</height><depth>3</depth></size><object><name>"
      "dog</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox>"
      "</object></annotation>");
  DatasetConfig config;
  config.kind = "voc";
  config.root = dir.path();
  DatasetSource source;
  source.listed = std::vector<DatasetItem>{
      {"JPEGImages/000007.jpg", dir.file("JPEGImages/000007.jpg"), dir.file("Annotations/000007.xml")}};
  source.read = [](const std::string& path) -> std::optional<std::string> {
    ADD_FAILURE() << "read " << path;
    return std::nullopt;
  };
  const auto dataset = open_dataset(config, source);
  ASSERT_EQ(dataset->items().size(), 1u);
  EXPECT_EQ(dataset->items()[0].id, "JPEGImages/000007.jpg");
  const ItemAnnotation annotation = dataset->annotation(dataset->items()[0]);
  ASSERT_EQ(annotation.objects.size(), 1u);
  EXPECT_EQ(annotation.objects[0].class_name, "dog");
  EXPECT_THROW(open_dataset(config), ConfigError);  // listing it here would need the list file
}

// COCO's annotations come from the JSON: the ranks other than 0 parse rank 0's copy, not the file.
TEST(ManifestShare, ACocoDatasetOpensFromTheTextReadElsewhere) {
  test::TempDir dir("share-coco");  // holds no annotation file at all
  DatasetConfig config;
  config.kind = "coco";
  config.root = dir.path();
  config.split = "val2014";
  const std::string json_path = dir.file("annotations/instances_val2014.json");
  DatasetSource source;
  source.read = [&](const std::string& path) -> std::optional<std::string> {
    EXPECT_EQ(path, json_path);
    return std::string(R"({"images": [{"id": 1, "file_name": "b.jpg"}, {"id": 2, "file_name": "a.jpg"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4], "iscrowd": 0}],
      "categories": [{"id": 3, "name": "cat"}]})");
  };
  const auto dataset = open_dataset(config, source);
  ASSERT_EQ(dataset->items().size(), 2u);
  EXPECT_EQ(dataset->items()[1].id, "val2014/b.jpg");
  const ItemAnnotation annotation = dataset->annotation(dataset->items()[1]);
  ASSERT_EQ(annotation.objects.size(), 1u);
  EXPECT_EQ(annotation.objects[0].class_name, "cat");
  EXPECT_THROW(open_dataset(config), ConfigError);  // from disk: there is no file
}

}  // namespace
}  // namespace pixab
