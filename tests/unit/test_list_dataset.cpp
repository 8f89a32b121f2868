// The list dataset: CSV rows (labels, boxes as pixel edges, quoting), the bad-row rule, folder scans.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io/dataset.hpp"
#include "io/error.hpp"
#include "io/item_status.hpp"
#include "io/list_csv.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Dataset> open_list(const std::string& root) {
  DatasetConfig config;
  config.kind = "list";
  config.root = root;
  return open_dataset(config);
}

const DatasetItem& item_with_id(const Dataset& dataset, const std::string& id) {
  for (const auto& item : dataset.items()) {
    if (item.id == id) return item;
  }
  throw std::runtime_error("no item " + id);
}

// The message of the item's bad annotation, or "" when its annotation is usable.
std::string annotation_problem(const Dataset& dataset, const std::string& id) {
  try {
    dataset.annotation(item_with_id(dataset, id));
    return "";
  } catch (const ItemError& e) {
    EXPECT_EQ(e.status(), ItemStatus::kBadAnnotation);
    return e.what();
  }
}

TEST(ListDataset, CsvRowsLabelsAndBoxes) {
  test::TempDir dir("list-csv");
  const std::string csv = dir.file("mod/list.csv");
  test::write_file(csv,
                   "path,label,x1,y1,x2,y2,class\n"
                   "# a comment, then a blank line\n"
                   "\n"
                   "b/cat.jpg,cat\n"
                   "a/two.png,10,20.5,30,40,cat,0,0,5,5,3\r\n"
                   "\"c, with comma.jpg\",dog,1,2,3,4,dog\n"
                   "d.jpg,,1,1,1,9,cat,2,2,4,4,cat\n"  // an empty label; a zero-area box (dropped)
                   "/abs/e.jpg\n");
  const auto dataset = open_list(csv);
  std::vector<std::string> ids;
  for (const auto& item : dataset->items()) ids.push_back(item.id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"/abs/e.jpg", "a/two.png", "b/cat.jpg", "c, with comma.jpg", "d.jpg"}));
  EXPECT_EQ(item_with_id(*dataset, "a/two.png").image_path, dir.file("mod/a/two.png"));
  EXPECT_EQ(item_with_id(*dataset, "/abs/e.jpg").image_path, "/abs/e.jpg");
  EXPECT_TRUE(dataset->has_labels());

  const ItemAnnotation two = dataset->annotation(item_with_id(*dataset, "a/two.png"));
  EXPECT_EQ(two.label, "");
  ASSERT_EQ(two.objects.size(), 2u);
  EXPECT_EQ(two.objects[0].class_name, "cat");
  EXPECT_FLOAT_EQ(two.objects[0].box.x1, 10.0f);  // pixel edges, as written
  EXPECT_FLOAT_EQ(two.objects[0].box.y1, 20.5f);
  EXPECT_FLOAT_EQ(two.objects[0].box.x2, 30.0f);
  EXPECT_FLOAT_EQ(two.objects[0].box.y2, 40.0f);
  EXPECT_EQ(two.objects[1].class_name, "3");  // a class index

  EXPECT_EQ(dataset->annotation(item_with_id(*dataset, "b/cat.jpg")).label, "cat");
  const ItemAnnotation comma = dataset->annotation(item_with_id(*dataset, "c, with comma.jpg"));
  EXPECT_EQ(comma.label, "dog");
  ASSERT_EQ(comma.objects.size(), 1u);
  const ItemAnnotation zero_area = dataset->annotation(item_with_id(*dataset, "d.jpg"));
  EXPECT_EQ(zero_area.label, "");
  ASSERT_EQ(zero_area.objects.size(), 1u);
  EXPECT_FLOAT_EQ(zero_area.objects[0].box.x1, 2.0f);
}

TEST(ListDataset, BadRowsAreBadAnnotationsOfTheirOwnItem) {
  test::TempDir dir("list-bad-rows");
  const std::string csv = dir.file("list.csv");
  test::write_file(csv,
                   "good.jpg,cat,1,1,4,4,cat\n"
                   "fields.jpg,1,2,3\n"
                   "number.jpg,cat,1,two,4,4,cat\n"
                   "reversed.jpg,5,1,4,4,cat\n"
                   "noclass.jpg,1,1,4,4,\n"
                   "\"quote.jpg\"x,cat\n"
                   "\"open.jpg,cat\n");
  const auto dataset = open_list(csv);
  EXPECT_EQ(dataset->items().size(), 7u);
  EXPECT_EQ(annotation_problem(*dataset, "good.jpg"), "");
  const auto expect_problem = [&](const std::string& id, const std::string& text) {
    const std::string problem = annotation_problem(*dataset, id);
    EXPECT_NE(problem.find(text), std::string::npos) << id << ": " << problem;
    EXPECT_NE(problem.find(csv + " line "), std::string::npos) << problem;
  };
  expect_problem("fields.jpg",
                 "line 2: expected path[,label] then groups of x1,y1,x2,y2,class; got 3 fields");
  expect_problem("number.jpg", "line 3: box 1: y1 is not a number: \"two\"");
  expect_problem("reversed.jpg", "line 4: box 1: x1 > x2");
  expect_problem("noclass.jpg", "line 5: box 1: no class");
  expect_problem("quote.jpg", "line 6: text after a closing quote");
  expect_problem("open.jpg,cat", "line 7: unterminated quote");
}

// Found by fuzzing: "1e308" is a number, but no float holds it.
TEST(ListDataset, CoordinatesBeyondAFloatsRangeMakeABadRow) {
  const std::vector<ListRow> rows =
      parse_list_csv("a.jpg,cat,1,1,4,1e308,cat\nb.jpg,-1e39,0,1,1,dog\n", "l.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].problem, "list l.csv line 1: box 1: a coordinate is out of range");
  EXPECT_EQ(rows[0].annotation.label, "");  // nothing of a bad row is used
  EXPECT_EQ(rows[1].problem, "list l.csv line 2: box 1: a coordinate is out of range");
}

TEST(ListDataset, RowsWithoutAnItemAreConfigErrors) {
  test::TempDir dir("list-config-errors");
  test::write_file(dir.file("nopath.csv"), "a.jpg\n,cat\n");
  test::write_file(dir.file("twice.csv"), "a.jpg\n./a.jpg,cat\n");
  EXPECT_THROW(open_list(dir.file("nopath.csv")), ConfigError);
  EXPECT_THROW(open_list(dir.file("twice.csv")), ConfigError);
  EXPECT_THROW(open_list(dir.file("missing.csv")), ConfigError);
  test::write_file(dir.file("empty.csv"), "path\n");
  EXPECT_THROW(open_list(dir.file("empty.csv")), ConfigError);
}

TEST(ListDataset, FolderScannedRecursively) {
  test::TempDir dir("list-folder");
  for (const char* name : {"b.JPG", "a/c.png", "a/deep/d.jpeg", "notes.txt", ".hidden/e.jpg", "a/.f.jpg"})
    test::write_file(dir.file(name), "x");
  const auto dataset = open_list(dir.path());
  std::vector<std::string> ids;
  for (const auto& item : dataset->items()) ids.push_back(item.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a/c.png", "a/deep/d.jpeg", "b.JPG"}));
  EXPECT_FALSE(dataset->has_labels());
  EXPECT_TRUE(dataset->annotation(dataset->items().front()).objects.empty());
}

// Labels and classes are model class names (labels, then wnids) or indices; anything else is unknown.
TEST(ListDataset, ClassesMatchTheModelByNameOrIndex) {
  test::TempDir dir("list-classes");
  test::write_file(dir.file("list.csv"), "a.jpg,dog\nb.jpg,2\nc.jpg,n02\nd.jpg,7\ne.jpg,unicorn\n");
  const auto dataset = open_list(dir.file("list.csv"));
  ModelMeta meta;
  meta.num_classes = 3;
  meta.labels = {"cat", "dog", "fox"};
  meta.wnids = {"n00", "n01", "n02"};
  const ClassMatcher classes = dataset->class_matcher(meta);
  const auto label_class = [&](const std::string& id) {
    const DatasetItem& item = item_with_id(*dataset, id);
    return classes.resolve(dataset->annotation(item), item.annotation_path).label_class;
  };
  EXPECT_EQ(label_class("a.jpg"), 1);
  EXPECT_EQ(label_class("b.jpg"), 2);
  EXPECT_EQ(label_class("c.jpg"), 2);
  for (const char* unknown : {"d.jpg", "e.jpg"}) {
    try {
      label_class(unknown);
      ADD_FAILURE() << unknown << " should be a bad annotation";
    } catch (const ItemError& e) {
      EXPECT_EQ(e.status(), ItemStatus::kBadAnnotation);
      EXPECT_NE(std::string(e.what()).find("neither a class of the model nor of the dataset"),
                std::string::npos);
    }
  }
}

}  // namespace
}  // namespace pixab
