// Typed arrays through the results file: uint8 / int32 / int64 kept as written, wrong types refused, selective
// reads, layouts without data, and a merge of typed chunk files.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/error.hpp"
#include "io/results_file.hpp"
#include "pipeline/job_files.hpp"
#include "pipeline/manifest.hpp"
#include "pipeline/merge.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

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

std::vector<ItemRecord> items_named(const std::vector<std::string>& ids) {
  std::vector<ItemRecord> items;
  for (const std::string& id : ids) {
    ItemRecord item;
    item.id = id;
    item.source = "/data/" + id;
    items.push_back(item);
  }
  return items;
}

// Three items; one array of each element type, values easy to check by eye.
ResultsData typed_results() {
  ResultsData data;
  data.items = items_named({"a.png", "b.png", "c.png"});
  data.arrays["masks/grad_cam"] = TypedArray({3, 2}, std::vector<std::uint8_t>{0, 1, 254, 255, 7, 8});
  data.arrays["ranks/grad_cam"] = TypedArray({3, 2}, std::vector<std::int32_t>{-1, 0, 2147483647, -2147483647, 5, 6});
  data.arrays["counts/grad_cam"] = TypedArray({3}, std::vector<std::int64_t>{std::int64_t{1} << 40, -3, 0});
  data.arrays["metrics/grad_cam/deletion_auc"] = TypedArray({3}, {0.5f, 0.25f, 0.125f});
  return data;
}

void expect_same_typed_arrays(const std::map<std::string, TypedArray>& expected,
                              const std::map<std::string, TypedArray>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& [path, array] : expected) {
    SCOPED_TRACE(path);
    const auto found = actual.find(path);
    ASSERT_NE(found, actual.end());
    EXPECT_EQ(found->second.dtype(), array.dtype());
    EXPECT_EQ(found->second.shape, array.shape);
    EXPECT_EQ(found->second.values, array.values);  // exact: no conversion on the way
  }
}

TEST(ResultsFileTyped, IntegerArraysRoundTripWithTheirElementType) {
  const test::TempDir scratch("results_typed");
  const ResultsData written = typed_results();
  write_results_file(scratch.file("typed.h5"), written);
  const ResultsData read = read_results_file(scratch.file("typed.h5"));
  expect_same_typed_arrays(written.arrays, read.arrays);
  EXPECT_EQ(read.arrays.at("masks/grad_cam").as<std::uint8_t>()[3], 255);
  EXPECT_EQ(read.arrays.at("counts/grad_cam").as<std::int64_t>()[0], 1099511627776);
}

TEST(ResultsFileTyped, WriterTakesTypedPartsInAnyOrder) {
  const test::TempDir scratch("results_typed");
  const ResultsData whole = typed_results();
  std::map<std::string, ArrayLayout> layout;
  for (const auto& [path, array] : whole.arrays) layout[path] = {array.dtype(), array.shape};
  ResultsData last, first;
  last.items = {whole.items[2]};
  first.items = {whole.items[0], whole.items[1]};
  last.arrays["masks/grad_cam"] = TypedArray({1, 2}, std::vector<std::uint8_t>{7, 8});
  first.arrays["masks/grad_cam"] = TypedArray({2, 2}, std::vector<std::uint8_t>{0, 1, 254, 255});
  last.arrays["ranks/grad_cam"] = TypedArray({1, 2}, std::vector<std::int32_t>{5, 6});
  first.arrays["ranks/grad_cam"] = TypedArray({2, 2}, std::vector<std::int32_t>{-1, 0, 2147483647, -2147483647});
  last.arrays["counts/grad_cam"] = TypedArray({1}, std::vector<std::int64_t>{0});
  first.arrays["counts/grad_cam"] = TypedArray({2}, std::vector<std::int64_t>{std::int64_t{1} << 40, -3});
  last.arrays["metrics/grad_cam/deletion_auc"] = TypedArray({1}, {0.125f});
  first.arrays["metrics/grad_cam/deletion_auc"] = TypedArray({2}, {0.5f, 0.25f});
  {
    ResultsFileWriter writer(scratch.file("parts.h5"), 3, layout, 1);
    writer.write(2, last);
    writer.write(0, first);
    writer.commit({}, {});
  }
  expect_same_typed_arrays(whole.arrays, read_results_file(scratch.file("parts.h5")).arrays);
}

TEST(ResultsFileTyped, WriterRefusesAPartOfAnotherTypeOrRowShapeNamingTheArray) {
  const test::TempDir scratch("results_typed");
  ResultsFileWriter writer(scratch.file("bad.h5"), 2, {{"ranks/grad_cam", {DType::kInt32, {2, 3}}}}, 1);
  ResultsData part;
  part.items = items_named({"a.png"});

  part.arrays["ranks/grad_cam"] = TypedArray({1, 3}, {1.0f, 2.0f, 3.0f});
  const std::string wrong_type = io_error_message([&] { writer.write(0, part); });
  EXPECT_NE(wrong_type.find("ranks/grad_cam"), std::string::npos) << wrong_type;
  EXPECT_NE(wrong_type.find("float32"), std::string::npos) << wrong_type;
  EXPECT_NE(wrong_type.find("int32"), std::string::npos) << wrong_type;

  part.arrays["ranks/grad_cam"] = TypedArray({1, 2}, std::vector<std::int32_t>{1, 2});
  const std::string wrong_shape = io_error_message([&] { writer.write(0, part); });
  EXPECT_NE(wrong_shape.find("ranks/grad_cam"), std::string::npos) << wrong_shape;
  EXPECT_NE(wrong_shape.find("[1, 2]"), std::string::npos) << wrong_shape;
  EXPECT_NE(wrong_shape.find("[1, 3]"), std::string::npos) << wrong_shape;
}

// A results file with one more dataset, of float64, written with the HDF5 C API as another tool might.
std::string results_with_float64_dataset(const test::TempDir& scratch) {
  const std::string path = scratch.file("float64.h5");
  write_results_file(path, typed_results());
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  const hsize_t dims[1] = {3};
  const double values[3] = {1.0, 2.0, 3.0};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  const hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  const hid_t dataset =
      H5Dcreate2(file, "extra/doubles", H5T_IEEE_F64LE, space, links, H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_GE(dataset, 0);
  EXPECT_GE(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), 0);
  H5Dclose(dataset);
  H5Pclose(links);
  H5Sclose(space);
  H5Fclose(file);
  return path;
}

TEST(ResultsFileTyped, ReaderRefusesAFloat64DatasetNamingItAndItsType) {
  const test::TempDir scratch("results_typed");
  const std::string path = results_with_float64_dataset(scratch);
  for (const std::string& message : {io_error_message([&] { read_results_file(path); }),
                                     io_error_message([&] { read_results_layout(path); })}) {
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("/extra/doubles"), std::string::npos) << message;
    EXPECT_NE(message.find("float64"), std::string::npos) << message;
  }
}

TEST(ResultsFileTyped, SelectiveReadLoadsExactlyTheSelectedArrays) {
  const test::TempDir scratch("results_typed");
  const std::string path = scratch.file("typed.h5");
  write_results_file(path, typed_results());

  const ResultsData two =
      read_results_file(path, ArraySelection::paths({"ranks/grad_cam", "counts/grad_cam", "not/in/file"}));
  ASSERT_EQ(two.arrays.size(), 2u);
  EXPECT_EQ(two.arrays.at("ranks/grad_cam").as<std::int32_t>(),
            (std::vector<std::int32_t>{-1, 0, 2147483647, -2147483647, 5, 6}));
  EXPECT_EQ(two.arrays.at("counts/grad_cam").as<std::int64_t>(),
            (std::vector<std::int64_t>{std::int64_t{1} << 40, -3, 0}));
  EXPECT_EQ(two.items.size(), 3u);  // the item table is always read

  const ResultsData metrics = read_results_file(
      path, ArraySelection::matching([](const std::string& array) { return array.rfind("metrics/", 0) == 0; }));
  ASSERT_EQ(metrics.arrays.size(), 1u);
  EXPECT_EQ(metrics.arrays.at("metrics/grad_cam/deletion_auc").floats(), (std::vector<float>{0.5f, 0.25f, 0.125f}));
}

TEST(ResultsFileTyped, LayoutGivesEveryArraysTypeAndShape) {
  const test::TempDir scratch("results_typed");
  const std::string path = scratch.file("typed.h5");
  write_results_file(path, typed_results());
  const std::map<std::string, ArrayLayout> expected{
      {"counts/grad_cam", {DType::kInt64, {3}}},
      {"masks/grad_cam", {DType::kUInt8, {3, 2}}},
      {"metrics/grad_cam/deletion_auc", {DType::kFloat32, {3}}},
      {"ranks/grad_cam", {DType::kInt32, {3, 2}}}};
  EXPECT_EQ(read_results_layout(path), expected);
}

// Two chunks of a five-item manifest, chunk size 3, as commit_chunk writes them.
class TypedMergeTest : public ::testing::Test {
 protected:
  TypedMergeTest() : files_(scratch_.file("out.h5")) {
    for (const std::string id : {"a", "b", "c", "d", "e"}) {
      manifest_.items.push_back({id, "/data/" + id, ""});
      manifest_.rows.push_back({manifest_.items.back(), id, 0});
    }
    manifest_.sha256 = "feedface";
    manifest_.chunk_size = 3;
  }

  void write_chunk(std::size_t chunk, std::map<std::string, TypedArray> arrays) {
    const auto [first, count] = manifest_.chunk_rows(chunk);
    ResultsData data;
    for (std::size_t row = first; row < first + count; ++row) data.items.push_back(items_named({manifest_.rows[row].id})[0]);
    data.items[0].status = chunk == 1 ? ItemStatus::kMissing : ItemStatus::kOk;
    data.arrays = std::move(arrays);
    data.int_attributes["first_row"] = static_cast<std::int64_t>(first);
    data.int_attributes["chunk"] = static_cast<std::int64_t>(chunk);
    data.text_attributes["manifest_sha256"] = manifest_.sha256;
    write_results_file(files_.chunk_path(chunk), data);
  }

  test::TempDir scratch_{"results_typed_merge"};
  JobFiles files_;
  Manifest manifest_;
};

TEST_F(TypedMergeTest, MergeKeepsElementTypes) {
  write_chunk(0, {{"masks/m", TypedArray({3, 2}, std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6})},
                  {"ranks/m", TypedArray({3}, std::vector<std::int32_t>{-1, -2, -3})},
                  {"counts/m", TypedArray({3}, std::vector<std::int64_t>{10, 20, 30})},
                  {"metrics/m/x", TypedArray({3}, {0.5f, 1.5f, 2.5f})}});
  write_chunk(1, {{"masks/m", TypedArray({2, 2}, std::vector<std::uint8_t>{7, 8, 9, 255})},
                  {"ranks/m", TypedArray({2}, std::vector<std::int32_t>{-4, -5})},
                  {"counts/m", TypedArray({2}, std::vector<std::int64_t>{40, std::int64_t{1} << 33})},
                  {"metrics/m/x", TypedArray({2}, {3.5f, 4.5f})}});
  const MergeCounts counts = merge_chunks(files_, manifest_, {{"task", "natural"}}, {});
  EXPECT_EQ(counts.items_ok, 4);
  EXPECT_EQ(counts.items_failed, 1);

  const ResultsData merged = read_results_file(files_.out());
  ASSERT_EQ(merged.items.size(), 5u);
  EXPECT_EQ(merged.items[3].id, "d");
  EXPECT_EQ(merged.items[3].status, ItemStatus::kMissing);
  EXPECT_EQ(merged.arrays.at("masks/m").shape, (std::vector<std::uint64_t>{5, 2}));
  EXPECT_EQ(merged.arrays.at("masks/m").as<std::uint8_t>(), (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 255}));
  EXPECT_EQ(merged.arrays.at("ranks/m").as<std::int32_t>(), (std::vector<std::int32_t>{-1, -2, -3, -4, -5}));
  EXPECT_EQ(merged.arrays.at("counts/m").as<std::int64_t>(),
            (std::vector<std::int64_t>{10, 20, 30, 40, std::int64_t{1} << 33}));
  EXPECT_EQ(merged.arrays.at("metrics/m/x").floats(), (std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f, 4.5f}));
  EXPECT_EQ(merged.int_attributes.at("items_total"), 5);
}

TEST_F(TypedMergeTest, ChunksDisagreeingOnAnArraysTypeAreRefused) {
  write_chunk(0, {{"ranks/m", TypedArray({3}, std::vector<std::int32_t>{1, 2, 3})}});
  write_chunk(1, {{"ranks/m", TypedArray({2}, std::vector<std::int64_t>{4, 5})}});
  const std::string message = io_error_message([&] { merge_chunks(files_, manifest_, {}, {}); });
  EXPECT_NE(message.find(files_.chunk_path(1)), std::string::npos) << message;
  EXPECT_NE(message.find("ranks/m"), std::string::npos) << message;
}

// Task::per_item_arrays: one row per source item, from the item's first row that holds it (ok or
// attack_failed), across chunks. Items x (rows x#t0, x#t1) and y (y#t0, y#t1, y#t2) in chunks of 3: y's first
// row, in chunk 0, failed in the model, so y's image comes from y#t1 in chunk 1.
TEST_F(TypedMergeTest, PerItemArraysKeepEachItemsFirstRowThatHoldsThem) {
  manifest_.items = {{"x", "", ""}, {"y", "", ""}};
  manifest_.rows = {{manifest_.items[0], "x#t0", 0, 0}, {manifest_.items[0], "x#t1", 1, 0},
                    {manifest_.items[1], "y#t0", 0, 1}, {manifest_.items[1], "y#t1", 1, 1},
                    {manifest_.items[1], "y#t2", 2, 1}};
  const auto chunk = [&](std::size_t index, std::vector<ItemStatus> statuses, std::vector<std::uint8_t> images) {
    const auto [first, count] = manifest_.chunk_rows(index);
    ResultsData data;
    for (std::size_t row = 0; row < count; ++row) {
      data.items.push_back(items_named({manifest_.rows[first + row].id})[0]);
      data.items.back().status = statuses[row];
    }
    data.arrays = {{"adversarial/image", TypedArray({count, 2}, std::move(images))},
                   {"adversarial/image_index", TypedArray({count}, std::vector<std::int32_t>(count, 0))}};
    data.int_attributes["first_row"] = static_cast<std::int64_t>(first);
    data.text_attributes["manifest_sha256"] = manifest_.sha256;
    write_results_file(files_.chunk_path(index), data);
  };
  chunk(0, {ItemStatus::kOk, ItemStatus::kAttackFailed, ItemStatus::kModelError}, {1, 1, 2, 2, 0, 0});
  chunk(1, {ItemStatus::kOk, ItemStatus::kOk}, {7, 7, 8, 8});
  merge_chunks(files_, manifest_, {}, {}, {"adversarial/image"});
  const ResultsData merged = read_results_file(files_.out());
  EXPECT_EQ(merged.arrays.at("adversarial/image").shape, (std::vector<std::uint64_t>{2, 2}));
  EXPECT_EQ(merged.arrays.at("adversarial/image").as<std::uint8_t>(), (std::vector<std::uint8_t>{1, 1, 7, 7}));
  EXPECT_EQ(merged.arrays.at("adversarial/image_index").shape, (std::vector<std::uint64_t>{5}));
}

}  // namespace
}  // namespace pixab
