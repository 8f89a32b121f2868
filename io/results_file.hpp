// The HDF5 results file (docs/results-schema.md): one row per item in manifest order, maps and provenance.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/box.hpp"
#include "io/item_status.hpp"
#include "io/typed_array.hpp"

namespace pixab {

inline constexpr int kSchemaVersion = 2;

struct ItemRecord {
  std::string id;      // stable, dataset-relative
  std::string source;  // path as read
  ItemStatus status = ItemStatus::kOk;
  std::string message;  // empty when ok
  std::uint32_t flags = 0;
  std::int32_t width = 0, height = 0;  // original image size
  std::int32_t target = -1, top1 = -1;
  float target_prob = std::numeric_limits<float>::quiet_NaN();
  float top1_prob = std::numeric_limits<float>::quiet_NaN();
  std::vector<Box> boxes;  // target-class boxes in model-input coordinates
};

struct ResultsData {
  std::vector<ItemRecord> items;
  // In-file path (e.g. "maps/grad_cam") -> values, in their own element type (float32, uint8, int32 or int64).
  // Groups are created as needed.
  std::map<std::string, TypedArray> arrays;
  // Provenance attributes on "/".
  std::map<std::string, std::string> text_attributes;
  std::map<std::string, std::int64_t> int_attributes;
};

// An array's element type and whole shape (per-item arrays: {N, row shape...}), without its values.
struct ArrayLayout {
  DType dtype = DType::kFloat32;
  std::vector<std::uint64_t> shape;

  bool operator==(const ArrayLayout& other) const { return dtype == other.dtype && shape == other.shape; }
  bool operator!=(const ArrayLayout& other) const { return !(*this == other); }
};

// Writes `data` to `path` atomically: a temporary file beside it, flushed, fsynced, then renamed. IoError on
// failure.
void write_results_file(const std::string& path, const ResultsData& data);

// Writes a results file part by part (rows in any order), so that merging a large run holds one part in memory
// at a time. The file appears at `path` only on commit(), atomically, as with write_results_file; without
// commit() the temporary file is removed.
class ResultsFileWriter {
 public:
  // items: N rows of /items; layout: array path -> its element type and whole shape; box_capacity: B of
  // /items/boxes (at least 1). IoError when the file cannot be created or a path is inside /items.
  ResultsFileWriter(std::string path, std::uint64_t items, const std::map<std::string, ArrayLayout>& layout,
                    std::size_t box_capacity);
  ~ResultsFileWriter();
  ResultsFileWriter(const ResultsFileWriter&) = delete;
  ResultsFileWriter& operator=(const ResultsFileWriter&) = delete;

  // Writes part.items and each of part's arrays ([rows, row shape...]) at rows first_row...; IoError for an
  // array not in the layout, another element type or row shape than the layout's (naming the array, the
  // expected and the given ones), rows past the end, or more boxes than B.
  void write(std::uint64_t first_row, const ResultsData& part);
  // Writes one array's rows at first_row (as write does for each of part's arrays).
  void write_array(const std::string& path, std::uint64_t first_row, const TypedArray& array);

  // Sets the root attributes (and schema_version), flushes, fsyncs and renames the file into place.
  void commit(const std::map<std::string, std::string>& text_attributes,
              const std::map<std::string, std::int64_t>& int_attributes);

 private:
  struct State;
  void create(const std::map<std::string, ArrayLayout>& layout);
  std::unique_ptr<State> state_;
};

// Which arrays a read loads, by their path as in ResultsData::arrays ("maps/grad_cam"). The item table and the
// root attributes are always read; an array left out is neither read nor returned.
class ArraySelection {
 public:
  static ArraySelection all();
  // Exactly these paths; a path the file lacks is no error (the caller sees what was found).
  static ArraySelection paths(std::vector<std::string> paths);
  // The paths for which `wanted` is true.
  static ArraySelection matching(std::function<bool(const std::string&)> wanted);

  bool includes(const std::string& path) const { return wanted_(path); }

 private:
  explicit ArraySelection(std::function<bool(const std::string&)> wanted) : wanted_(std::move(wanted)) {}
  std::function<bool(const std::string&)> wanted_;
};

// Reads a results file back: the items, the selected arrays in their own element type, the root attributes.
// IoError on failure, and for any array (selected or not) whose element type is not float32, uint8, int32 or
// int64, naming the file, the dataset and its type: no array is skipped silently.
ResultsData read_results_file(const std::string& path, const ArraySelection& arrays = ArraySelection::all());

// Every array's element type and shape, from the file's metadata alone (no array data is read). IoError as
// read_results_file.
std::map<std::string, ArrayLayout> read_results_layout(const std::string& path);

// What the merge checks of a chunk file before copying it, without its arrays or its other item columns.
struct ResultsSummary {
  std::vector<std::string> ids;             // /items/id
  std::vector<std::size_t> box_counts;      // /items/box_count
  std::map<std::string, std::string> text_attributes;
  std::map<std::string, std::int64_t> int_attributes;
};

// Reads a results file's root attributes, item ids and box counts. IoError as read_results_file.
ResultsSummary read_results_summary(const std::string& path);

// Reads only the root attributes (text and integer) of a results file. IoError on failure.
ResultsData read_results_attributes(const std::string& path);

}  // namespace pixab
