// The HDF5 results file (docs/results-schema.md): one row per item in manifest order, maps and provenance.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/box.hpp"
#include "io/item_status.hpp"

namespace pixab {

inline constexpr int kSchemaVersion = 1;

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

// A float32 dataset: shape[0] is the item count for per-item arrays; values are row-major.
struct FloatArray {
  std::vector<std::uint64_t> shape;
  std::vector<float> values;
};

struct ResultsData {
  std::vector<ItemRecord> items;
  // In-file path (e.g. "maps/grad_cam") -> values. Groups are created as needed.
  std::map<std::string, FloatArray> arrays;
  // Provenance attributes on "/".
  std::map<std::string, std::string> text_attributes;
  std::map<std::string, std::int64_t> int_attributes;
};

// Writes `data` to `path` atomically: a temporary file beside it, flushed, fsynced, then renamed. IoError on
// failure.
void write_results_file(const std::string& path, const ResultsData& data);

// Writes a results file part by part (rows in any order), so that merging a large run holds one part in memory
// at a time. The file appears at `path` only on commit(), atomically, as with write_results_file; without
// commit() the temporary file is removed.
class ResultsFileWriter {
 public:
  // items: N rows of /items; array_shapes: array path -> its whole shape (per-item arrays: {N, row shape...});
  // box_capacity: B of /items/boxes (at least 1). IoError when the file cannot be created or a path is inside
  // /items.
  ResultsFileWriter(std::string path, std::uint64_t items,
                    const std::map<std::string, std::vector<std::uint64_t>>& array_shapes, std::size_t box_capacity);
  ~ResultsFileWriter();
  ResultsFileWriter(const ResultsFileWriter&) = delete;
  ResultsFileWriter& operator=(const ResultsFileWriter&) = delete;

  // Writes part.items and each of part's arrays ([rows, row shape...]) at rows first_row...; IoError for an
  // array not in the layout, a wrong row shape, rows past the end, or more boxes than B.
  void write(std::uint64_t first_row, const ResultsData& part);

  // Sets the root attributes (and schema_version), flushes, fsyncs and renames the file into place.
  void commit(const std::map<std::string, std::string>& text_attributes,
              const std::map<std::string, std::int64_t>& int_attributes);

 private:
  struct State;
  void create(const std::map<std::string, std::vector<std::uint64_t>>& array_shapes);
  std::unique_ptr<State> state_;
};

// Reads a whole results file back (items, every float dataset, the root attributes). IoError on failure.
ResultsData read_results_file(const std::string& path);

// Reads only the root attributes (text and integer) of a results file. IoError on failure.
ResultsData read_results_attributes(const std::string& path);

}  // namespace pixab
