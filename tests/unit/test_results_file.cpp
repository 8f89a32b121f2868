// The HDF5 results file: round trips, empty runs, atomic replacement and the errors a caller sees.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "io/error.hpp"
#include "io/results_file.hpp"
#include "workers/cams/cam_flags.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

namespace fs = std::filesystem;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Floats compared bit-for-bit in meaning: NaN where NaN was written, the same value elsewhere.
::testing::AssertionResult same_floats(const std::vector<float>& expected, const std::vector<float>& actual) {
  if (expected.size() != actual.size()) {
    return ::testing::AssertionFailure() << "sizes " << expected.size() << " vs " << actual.size();
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const bool same = std::isnan(expected[i]) ? std::isnan(actual[i]) : expected[i] == actual[i];
    if (!same)
      return ::testing::AssertionFailure() << "index " << i << ": " << expected[i] << " vs " << actual[i];
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_float(float expected, float actual) {
  return same_floats({expected}, {actual});
}

// The message of the IoError that `call` must throw (empty, with a test failure, when it does not).
template <typename Call>
std::string io_error_message(Call call) {
  try {
    call();
  } catch (const IoError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an IoError";
  return "";
}

TypedArray make_array(std::vector<std::uint64_t> shape, float first_value) {
  TypedArray array;
  array.shape = std::move(shape);
  std::uint64_t count = 1;
  for (const std::uint64_t dim : array.shape) count *= dim;
  for (std::uint64_t i = 0; i < count; ++i)
    array.floats().push_back(first_value + 0.25f * static_cast<float>(i));
  return array;
}

ResultsData make_results() {
  ResultsData data;
  ItemRecord with_boxes;
  with_boxes.id = "n01440764/Ünïcödé 猫.JPEG";
  with_boxes.source = "/data/imagenet/val/n01440764/Ünïcödé 猫.JPEG";
  with_boxes.flags = kFlagGrayscaleConverted | kFlagAlphaDropped;
  with_boxes.width = 640;
  with_boxes.height = 480;
  with_boxes.target = 281;
  with_boxes.top1 = 285;
  with_boxes.target_prob = 0.75f;
  with_boxes.top1_prob = 0.125f;
  with_boxes.boxes = {Box{0, 0, 224, 224}, Box{1.5f, 2.5f, 30, 40}, Box{100, 110, 120, 130}};

  ItemRecord missing;
  missing.id = "missing.jpg";
  missing.source = "/data/missing.jpg";
  missing.status = ItemStatus::kMissing;
  missing.message = "no such file: /data/missing.jpg";

  ItemRecord one_box;
  one_box.id = "voc/2007_000027.jpg#t1";
  one_box.source = "/data/voc/2007_000027.jpg";
  one_box.flags = kFlagAblationNegativeScore;
  one_box.width = 486;
  one_box.height = 500;
  one_box.target = 14;
  one_box.top1 = 14;
  one_box.target_prob = 0.5f;
  one_box.top1_prob = 0.5f;
  one_box.boxes = {Box{10, 20, 30, 40}};
  data.items = {with_boxes, missing, one_box};

  TypedArray maps = make_array({3, 2, 4}, 0.0f);
  std::fill(maps.floats().begin() + 8, maps.floats().begin() + 16, kNaN);  // the failed item's row
  data.arrays["maps/grad_cam"] = maps;
  data.arrays["maps/pixab_cam@no_relu"] = make_array({3, 2, 4}, 1.0f);
  data.arrays["metrics/grad_cam/deletion_auc"] = TypedArray{{3}, {0.5f, kNaN, 0.25f}};
  data.arrays["curves/grad_cam/deletion"] = make_array({3, 11}, -2.0f);
  data.arrays["weights/grad_cam"] = make_array({3, 5}, 3.0f);

  data.text_attributes["software"] = "pixab";
  data.text_attributes["config"] = "[run]\ntask = \"natural\"\nlabel = \"ßüñ ✓\"\n";
  data.text_attributes["hostnames"] = "";
  data.int_attributes["seed"] = 42;
  data.int_attributes["items_total"] = 3;
  data.int_attributes["offset"] = -5;
  data.int_attributes["big"] = std::int64_t{1} << 40;
  return data;
}

void expect_same_items(const std::vector<ItemRecord>& expected, const std::vector<ItemRecord>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("item " + std::to_string(i));
    EXPECT_EQ(expected[i].id, actual[i].id);
    EXPECT_EQ(expected[i].source, actual[i].source);
    EXPECT_EQ(expected[i].status, actual[i].status);
    EXPECT_EQ(expected[i].message, actual[i].message);
    EXPECT_EQ(expected[i].flags, actual[i].flags);
    EXPECT_EQ(expected[i].width, actual[i].width);
    EXPECT_EQ(expected[i].height, actual[i].height);
    EXPECT_EQ(expected[i].target, actual[i].target);
    EXPECT_EQ(expected[i].top1, actual[i].top1);
    EXPECT_TRUE(same_float(expected[i].target_prob, actual[i].target_prob));
    EXPECT_TRUE(same_float(expected[i].top1_prob, actual[i].top1_prob));
    ASSERT_EQ(expected[i].boxes.size(), actual[i].boxes.size());
    for (std::size_t b = 0; b < expected[i].boxes.size(); ++b) {
      const Box& e = expected[i].boxes[b];
      const Box& a = actual[i].boxes[b];
      EXPECT_TRUE(same_floats({e.x1, e.y1, e.x2, e.y2}, {a.x1, a.y1, a.x2, a.y2})) << "box " << b;
    }
  }
}

void expect_same_arrays(const std::map<std::string, TypedArray>& expected,
                        const std::map<std::string, TypedArray>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& [path, array] : expected) {
    SCOPED_TRACE(path);
    const auto found = actual.find(path);
    ASSERT_NE(found, actual.end());
    EXPECT_EQ(array.shape, found->second.shape);
    EXPECT_TRUE(same_floats(array.floats(), found->second.floats()));
  }
}

TEST(ResultsFile, RoundTripsItemsArraysAndAttributes) {
  const test::TempDir scratch("results_file");
  const std::string path = scratch.file("results.h5");
  const ResultsData written = make_results();
  write_results_file(path, written);

  const ResultsData read = read_results_file(path);
  expect_same_items(written.items, read.items);
  expect_same_arrays(written.arrays, read.arrays);
  EXPECT_EQ(written.text_attributes, read.text_attributes);
  std::map<std::string, std::int64_t> expected_ints = written.int_attributes;
  expected_ints["schema_version"] = kSchemaVersion;
  EXPECT_EQ(expected_ints, read.int_attributes);
}

TEST(ResultsFile, EmptyRunIsWrittenAndReadBack) {
  const test::TempDir scratch("results_file");
  const std::string path = scratch.file("empty.h5");
  ResultsData written;
  written.arrays["maps/grad_cam"] = TypedArray{{0, 8, 8}, {}};
  written.arrays["metrics/grad_cam/insertion_auc"] = TypedArray{{0}, {}};
  written.int_attributes["items_total"] = 0;
  write_results_file(path, written);

  const ResultsData read = read_results_file(path);
  EXPECT_TRUE(read.items.empty());
  expect_same_arrays(written.arrays, read.arrays);
  EXPECT_EQ(read.int_attributes.at("items_total"), 0);
}

TEST(ResultsFile, LeavesNoTemporaryFileAndReplacesAnOldFile) {
  const test::TempDir scratch("results_file");
  const std::string path = scratch.file("results.h5");
  write_results_file(path, make_results());
  ResultsData second;
  second.text_attributes["software"] = "second";
  write_results_file(path, second);

  EXPECT_EQ(scratch.entries(), std::vector<std::string>{"results.h5"});
  EXPECT_EQ(read_results_file(path).text_attributes.at("software"), "second");
}

TEST(ResultsFile, CreatesMissingParentDirectories) {
  const test::TempDir scratch("results_file");
  const std::string path = scratch.file("run/output/results.h5");
  write_results_file(path, make_results());
  EXPECT_EQ(read_results_file(path).items.size(), 3u);
}

TEST(ResultsFile, FailedWriteKeepsTheOldFileAndRemovesTheTemporary) {
  const test::TempDir scratch("results_file");
  const std::string path = scratch.file("results.h5");
  write_results_file(path, make_results());

  // "maps/a" is written as a dataset first (map order), so "maps/a/b" cannot get a group there.
  ResultsData conflicting;
  conflicting.arrays["maps/a"] = TypedArray{{1}, {1.0f}};
  conflicting.arrays["maps/a/b"] = TypedArray{{1}, {2.0f}};
  const std::string message = io_error_message([&] { write_results_file(path, conflicting); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("/maps/a/b"), std::string::npos) << message;

  EXPECT_EQ(scratch.entries(), std::vector<std::string>{"results.h5"});
  EXPECT_EQ(read_results_file(path).items.size(), 3u);
}

TEST(ResultsFile, WriteUnderARegularFileGivesIoErrorNamingThePath) {
  const test::TempDir scratch("results_file");
  std::ofstream(scratch.file("blocker")) << "not a directory";
  const std::string path = scratch.file("blocker/results.h5");
  const std::string message = io_error_message([&] { write_results_file(path, make_results()); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST(ResultsFile, ShapeValuesMismatchGivesIoErrorAndNoFile) {
  const test::TempDir scratch("results_file");
  const std::string path = scratch.file("results.h5");
  ResultsData data;
  data.arrays["maps/grad_cam"] = TypedArray{{2, 3}, {1, 2, 3, 4, 5}};
  const std::string message = io_error_message([&] { write_results_file(path, data); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("maps/grad_cam"), std::string::npos) << message;
  EXPECT_TRUE(scratch.entries().empty());
}

TEST(ResultsFile, ArraysInsideTheItemTableAreRefused) {
  const test::TempDir scratch("results_file");
  ResultsData data;
  data.arrays["items/extra"] = TypedArray{{1}, {1.0f}};
  const std::string message = io_error_message([&] { write_results_file(scratch.file("results.h5"), data); });
  EXPECT_NE(message.find("items/extra"), std::string::npos) << message;
}

TEST(ResultsFile, ReadingANonHdf5FileGivesIoErrorNamingIt) {
  const test::TempDir scratch("results_file");
  const std::string path = scratch.file("notes.h5");
  std::ofstream(path) << "plain text, not HDF5\n";
  const std::string message = io_error_message([&] { read_results_file(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST(ResultsFile, ReadingAMissingFileGivesIoErrorNamingIt) {
  const test::TempDir scratch("results_file");
  const std::string path = scratch.file("absent.h5");
  const std::string message = io_error_message([&] { read_results_file(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST(ResultsFile, StatusNamesMatchTheSchemaTable) {
  EXPECT_STREQ(item_status_name(ItemStatus::kOk), "ok");
  EXPECT_STREQ(item_status_name(ItemStatus::kMissing), "missing");
  EXPECT_STREQ(item_status_name(ItemStatus::kUnreadable), "unreadable");
  EXPECT_STREQ(item_status_name(ItemStatus::kTruncated), "truncated");
  EXPECT_STREQ(item_status_name(ItemStatus::kTooLarge), "too_large");
  EXPECT_STREQ(item_status_name(ItemStatus::kBadAnnotation), "bad_annotation");
  EXPECT_STREQ(item_status_name(ItemStatus::kAttackFailed), "attack_failed");
  EXPECT_STREQ(item_status_name(ItemStatus::kModelError), "model_error");
}

}  // namespace
}  // namespace pixab

namespace pixab {
namespace {

// Rows [first, first + count) of every item and array of `data`.
ResultsData rows_of(const ResultsData& data, std::size_t first, std::size_t count) {
  ResultsData part;
  part.items.assign(data.items.begin() + first, data.items.begin() + first + count);
  for (const auto& [path, array] : data.arrays) {
    const std::size_t row = array.row_size();
    TypedArray rows;
    rows.shape = array.shape;
    rows.shape[0] = count;
    std::visit(
        [&](const auto& values) {
          rows.values = std::decay_t<decltype(values)>(values.begin() + first * row,
                                                       values.begin() + (first + count) * row);
        },
        array.values);
    part.arrays[path] = rows;
  }
  return part;
}

TEST(ResultsFileWriter, PartsInAnyOrderGiveTheWholeFile) {
  const test::TempDir scratch("results_writer");
  const ResultsData whole = make_results();
  std::map<std::string, ArrayLayout> row_shapes;
  for (const auto& [path, array] : whole.arrays)
    row_shapes[path] = {array.dtype(), array.shape};
  {
    ResultsFileWriter writer(scratch.file("parts.h5"), 3, row_shapes, 3);
    writer.write(2, rows_of(whole, 2, 1));
    writer.write(0, rows_of(whole, 0, 2));
    EXPECT_EQ(scratch.entries().size(), 1u);  // only the temporary file until commit
    writer.commit(whole.text_attributes, whole.int_attributes);
  }
  const ResultsData read = read_results_file(scratch.file("parts.h5"));
  expect_same_items(whole.items, read.items);
  for (const auto& [path, array] : whole.arrays) {
    EXPECT_EQ(read.arrays.at(path).shape, array.shape) << path;
    for (std::size_t i = 0; i < array.floats().size(); ++i) {
      const float a = array.floats()[i], b = read.arrays.at(path).floats()[i];
      EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << path << "[" << i << "]";
    }
  }
  EXPECT_EQ(read.int_attributes.at("seed"), 42);
}

TEST(ResultsFileWriter, RefusesRowsPastTheEndAndUnknownArraysAndLeavesNothingWithoutCommit) {
  const test::TempDir scratch("results_writer");
  const ResultsData whole = make_results();
  {
    ResultsFileWriter writer(scratch.file("bad.h5"), 2, {{"maps/grad_cam", {DType::kFloat32, {2, 2, 4}}}}, 3);
    ResultsData part = rows_of(whole, 0, 1);
    EXPECT_THROW(writer.write(0, part), IoError);  // holds arrays the layout lacks
    part.arrays = {{"maps/grad_cam", rows_of(whole, 0, 1).arrays.at("maps/grad_cam")}};
    EXPECT_NO_THROW(writer.write(1, part));
    EXPECT_THROW(writer.write(2, part), IoError);  // row 2 of 2
  }
  EXPECT_TRUE(scratch.entries().empty());
}

}  // namespace
}  // namespace pixab
