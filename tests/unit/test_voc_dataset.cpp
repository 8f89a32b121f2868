// The VOC-layout reader and writer: split lists, parsing, each malformed-annotation error, round trip.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "io/dataset.hpp"
#include "io/error.hpp"
#include "io/item_status.hpp"
#include "io/voc_dataset.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

namespace fs = std::filesystem;

std::string object_xml(const std::string& name, const std::string& xmin, const std::string& ymin,
                       const std::string& xmax, const std::string& ymax, const std::string& extra = "") {
  return "<object><name>" + name + "</name>" + extra + "<bndbox><xmin>" + xmin + "</xmin><ymin>" + ymin +
         "</ymin><xmax>" + xmax + "</xmax><ymax>" + ymax + "</ymax></bndbox></object>";
}

const char* const kFullSize = "<size><width>353</width><height>500</height><depth>3</depth></size>";

std::string annotation_xml(const std::string& body, const std::string& size = kFullSize) {
  return "<annotation><folder>VOC2007</folder><filename>000001.jpg</filename>" + size + body +
         "</annotation>";
}

// Shaped like VOC 2007's own files, including a <part> whose box must not be taken for the object's.
const char* const kFirstAnnotation = R"(<annotation>
	<folder>VOC2007</folder>
	<filename>000001.jpg</filename>
	<source><database>The VOC2007 Database</database></source>
	<size><width>353</width><height>500</height><depth>3</depth></size>
	<segmented>0</segmented>
	<object>
		<name>dog</name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>
		<bndbox><xmin>48</xmin><ymin>240</ymin><xmax>195</xmax><ymax>371</ymax></bndbox>
	</object>
	<object>
		<name>person</name><pose>Left</pose><truncated>1</truncated><difficult>1</difficult>
		<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>3</ymax></bndbox>
		<part><name>head</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>3</xmax><ymax>3</ymax></bndbox></part>
	</object>
</annotation>
)";

// No <depth>, <difficult> or <truncated>, real-valued coordinates: seen in VOC-layout sets made by other
// tools.
const char* const kSecondAnnotation = R"(<annotation><filename>000002.png</filename>
<size><width>20</width><height>10</height></size>
<object><name> cat </name><bndbox><xmin>10.5</xmin><ymin>2</ymin><xmax>12.25</xmax><ymax>4</ymax></bndbox></object>
</annotation>)";

class VocFixture {
 public:
  VocFixture() {
    test::write_file(root() / "ImageSets/Main/test.txt", "000001\n\n000002  1\r\n000003\r\n");
    test::write_file(root() / "Annotations/000001.xml", kFirstAnnotation);
    test::write_file(root() / "Annotations/000002.xml", kSecondAnnotation);
    fs::create_directories(root() / "JPEGImages");
    const cv::Mat image(4, 4, CV_8UC3, cv::Scalar(10, 20, 30));
    cv::imwrite((root() / "JPEGImages/000001.png").string(), image);
    cv::imwrite((root() / "JPEGImages/000002.jpg").string(), image);
  }
  fs::path root() const { return dir_.path(); }

 private:
  test::TempDir dir_{"voc"};
};

void expect_box(const Box& box, float x1, float y1, float x2, float y2) {
  EXPECT_FLOAT_EQ(box.x1, x1);
  EXPECT_FLOAT_EQ(box.y1, y1);
  EXPECT_FLOAT_EQ(box.x2, x2);
  EXPECT_FLOAT_EQ(box.y2, y2);
}

TEST(VocDataset, ListsSplitIdsWithTheirImageAndAnnotationPaths) {
  const VocFixture fixture;
  const std::vector<VocEntry> entries = list_voc_split(fixture.root().string(), "test");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].id, "000001");
  EXPECT_EQ(entries[1].id, "000002");
  EXPECT_EQ(entries[2].id, "000003");
  EXPECT_EQ(entries[0].image_path, (fixture.root() / "JPEGImages/000001.png").string());
  EXPECT_EQ(entries[1].image_path, (fixture.root() / "JPEGImages/000002.jpg").string());
  // No image on disk: the .jpg path is still listed, so the item (not the list) fails when it is read.
  EXPECT_EQ(entries[2].image_path, (fixture.root() / "JPEGImages/000003.jpg").string());
  EXPECT_EQ(entries[1].annotation_path, (fixture.root() / "Annotations/000002.xml").string());
}

TEST(VocDataset, MissingOrEmptySplitListIsConfigError) {
  const VocFixture fixture;
  const std::string missing = (fixture.root() / "ImageSets/Main/val.txt").string();
  try {
    list_voc_split(fixture.root().string(), "val");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
  }
  test::write_file(fixture.root() / "ImageSets/Main/empty.txt", "\n \r\n");
  EXPECT_THROW(list_voc_split(fixture.root().string(), "empty"), ConfigError);
}

std::unique_ptr<Dataset> open_voc(const fs::path& root, bool include_difficult) {
  DatasetConfig config;
  config.kind = "voc";
  config.root = root.string();
  config.include_difficult = include_difficult;
  return open_dataset(config);
}

TEST(VocDataset, DatasetIdsAndTheDifficultOption) {
  const VocFixture fixture;
  const auto dataset = open_voc(fixture.root(), /*include_difficult=*/true);
  ASSERT_EQ(dataset->items().size(), 3u);
  EXPECT_EQ(dataset->items()[0].id, "JPEGImages/000001.png");
  EXPECT_FALSE(dataset->has_labels());
  const ItemAnnotation all = dataset->annotation(dataset->items()[0]);
  ASSERT_EQ(all.objects.size(), 2u);
  EXPECT_TRUE(all.objects[1].difficult);
  const auto without_difficult = open_voc(fixture.root(), /*include_difficult=*/false);
  const ItemAnnotation kept = without_difficult->annotation(without_difficult->items()[0]);
  ASSERT_EQ(kept.objects.size(), 1u);
  EXPECT_EQ(kept.objects[0].class_name, "dog");
}

// VOC's 20 classes are known whatever the model (an ImageNet model on VOC: no boxes of its classes, but no
// error); a name that is neither one of them nor a model label is a bad annotation.
TEST(VocDataset, UnknownClassIsABadAnnotation) {
  const VocFixture fixture;
  ModelMeta meta;
  meta.num_classes = 2;
  meta.labels = {"Coat", "Shirt"};
  const ClassMatcher classes = open_voc(fixture.root(), true)->class_matcher(meta);
  ItemAnnotation annotation;
  annotation.objects = {{"dog", Box{}}, {"Shirt", Box{}}};
  const ItemAnnotation resolved = classes.resolve(annotation, "a.xml");
  EXPECT_EQ(resolved.objects[0].model_class, -1);
  EXPECT_EQ(resolved.objects[1].model_class, 1);
  annotation.objects.push_back({"unicorn", Box{}});
  try {
    classes.resolve(annotation, "annotation a.xml");
    FAIL() << "expected an ItemError";
  } catch (const ItemError& e) {
    EXPECT_EQ(e.status(), ItemStatus::kBadAnnotation);
    EXPECT_EQ(
        std::string(e.what()),
        "annotation a.xml: object 3 names class 'unicorn', which is neither a class of the model nor of "
        "the dataset");
  }
}

TEST(VocDataset, ParsesNamesBoxesAndFlags) {
  const VocFixture fixture;
  const VocAnnotation first = read_voc_annotation((fixture.root() / "Annotations/000001.xml").string());
  EXPECT_EQ(first.folder, "VOC2007");
  EXPECT_EQ(first.filename, "000001.jpg");
  EXPECT_EQ(first.width, 353);
  EXPECT_EQ(first.height, 500);
  EXPECT_EQ(first.depth, 3);
  ASSERT_EQ(first.objects.size(), 2u);
  EXPECT_EQ(first.objects[0].name, "dog");
  expect_box(first.objects[0].box, 47, 239, 195, 371);
  EXPECT_FALSE(first.objects[0].difficult);
  EXPECT_TRUE(first.objects[0].truncated);
  EXPECT_EQ(first.objects[1].name, "person");
  expect_box(first.objects[1].box, 0, 0, 3, 3);  // VOC pixels 1..3 are the edges [0, 3]
  EXPECT_TRUE(first.objects[1].difficult);

  const VocAnnotation second = read_voc_annotation((fixture.root() / "Annotations/000002.xml").string());
  EXPECT_EQ(second.depth, 0);
  ASSERT_EQ(second.objects.size(), 1u);
  EXPECT_EQ(second.objects[0].name, "cat");
  expect_box(second.objects[0].box, 9.5f, 1, 12.25f, 4);
  EXPECT_FALSE(second.objects[0].difficult);
  EXPECT_FALSE(second.objects[0].truncated);
}

TEST(VocDataset, EachMalformedAnnotationIsInputErrorNamingTheFile) {
  struct Case {
    const char* label;
    std::string xml;      // empty: the file is not written at all
    const char* problem;  // expected in the message
  };
  const std::string dog = object_xml("dog", "1", "1", "3", "3");
  const std::vector<Case> cases = {
      {"missing file", "", "missing"},
      {"malformed XML", "<annotation><size>", "malformed XML"},
      {"no size", "<annotation><object/></annotation>", "<size>"},
      {"no width", annotation_xml(dog, "<size><height>5</height></size>"), "<width>"},
      {"no height", annotation_xml(dog, "<size><width>5</width></size>"), "<height>"},
      {"non-numeric width", annotation_xml(dog, "<size><width>five</width><height>5</height></size>"),
       "five"},
      {"no bndbox", annotation_xml("<object><name>dog</name></object>"), "<bndbox>"},
      {"no xmax",
       annotation_xml("<object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                      "<ymax>3</ymax></bndbox></object>"),
       "<xmax>"},
      {"non-numeric coordinate", annotation_xml(object_xml("dog", "1", "1", "3px", "3")), "3px"},
      // Found by fuzzing: a finite double that no float holds.
      {"coordinate beyond a float's range", annotation_xml(object_xml("dog", "1", "1", "3", "1e39")),
       "(dog) <bndbox> has a coordinate out of range"},
      {"empty coordinate", annotation_xml(object_xml("dog", "1", "", "3", "3")), "<ymin>"},
      {"xmin > xmax", annotation_xml(object_xml("dog", "5", "1", "3", "3")), "xmin > xmax"},
      {"ymin > ymax", annotation_xml(object_xml("dog", "1", "5", "3", "3")), "ymin > ymax"},
      {"no name",
       annotation_xml("<object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>3</ymax>"
                      "</bndbox></object>"),
       "<name>"},
      {"non-numeric difficult",
       annotation_xml(object_xml("dog", "1", "1", "3", "3", "<difficult>yes</difficult>")), "yes"},
  };
  const test::TempDir dir("voc");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    const fs::path path = dir.file("Annotations/" + std::string(c.label) + ".xml");
    if (!c.xml.empty()) test::write_file(path, c.xml);
    try {
      read_voc_annotation(path.string());
      ADD_FAILURE() << "expected InputError";
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(path.string()), std::string::npos) << message;
      EXPECT_NE(message.find(c.problem), std::string::npos) << message;
    }
  }
}

TEST(VocDataset, MalformedXmlMessageGivesParserDescriptionAndOffset) {
  const test::TempDir dir("voc");
  const fs::path path = dir.file("broken.xml");
  test::write_file(path, "<annotation><size></annotation>");
  try {
    read_voc_annotation(path.string());
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("Start-end tags mismatch at offset"), std::string::npos)
        << error.what();
  }
}

TEST(VocDataset, DirectoryInPlaceOfAnnotationIsInputErrorNotMalformedXml) {
  const test::TempDir dir("voc");
  const fs::path path = dir.file("000001.xml");
  fs::create_directories(path);  // a directory where the file should be
  try {
    read_voc_annotation(path.string());
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(path.string() + ": is not a regular file"), std::string::npos)
        << error.what();
  }
}

TEST(VocDataset, WriteThenReadRoundTripsExactly) {
  const test::TempDir dir("voc");
  const fs::path path = dir.file("demo/Annotations/demo_000000.xml");
  fs::create_directories(path.parent_path());
  VocAnnotation written;
  written.folder = "pixab_demo";
  written.filename = "demo_000000.png";
  written.width = 64;
  written.height = 48;
  written.depth = 3;
  written.objects = {VocObject{"Coat", Box{0, 0, 3, 3}, false, false},
                     VocObject{"Shirt", Box{30, 12, 58, 47}, true, true}};
  write_voc_annotation(path.string(), written);

  const VocAnnotation read = read_voc_annotation(path.string());
  EXPECT_EQ(read.folder, written.folder);
  EXPECT_EQ(read.filename, written.filename);
  EXPECT_EQ(read.width, written.width);
  EXPECT_EQ(read.height, written.height);
  EXPECT_EQ(read.depth, written.depth);
  ASSERT_EQ(read.objects.size(), written.objects.size());
  for (size_t i = 0; i < read.objects.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(read.objects[i].name, written.objects[i].name);
    const Box& box = written.objects[i].box;
    expect_box(read.objects[i].box, box.x1, box.y1, box.x2, box.y2);
    EXPECT_EQ(read.objects[i].difficult, written.objects[i].difficult);
    EXPECT_EQ(read.objects[i].truncated, written.objects[i].truncated);
  }

  // VOC's integers on disk, not the pixel edges: other VOC tools read these files too.
  std::ifstream file(path);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<xmin>1</xmin>"), std::string::npos) << text;
  EXPECT_NE(text.find("<xmax>3</xmax>"), std::string::npos) << text;
  EXPECT_NE(text.find("<pose>Unspecified</pose>"), std::string::npos) << text;
  EXPECT_EQ(text.find("<?xml"), std::string::npos) << text;
}

}  // namespace
}  // namespace pixab
