// The HDF5 results file (docs/results-schema.md): one row per item in manifest order, maps and provenance.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
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

// Reads a whole results file back (items, every float dataset, the root attributes). IoError on failure.
ResultsData read_results_file(const std::string& path);

}  // namespace pixab
