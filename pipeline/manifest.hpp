// The manifest: the sorted (and, where configured, sampled) item list every rank builds identically, its
// hash, and its cut into fixed chunks of consecutive items whose content never depends on the rank count.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "io/dataset.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {

struct Manifest {
  std::vector<DatasetItem> items;  // the source items
  std::vector<TaskRow> rows;       // the task's rows of the items, in item order: the results file's rows
  std::string sha256;              // of "id \t image path \n" per item, in order
  std::size_t chunk_size = 16;     // rows per chunk

  std::size_t chunk_count() const { return (rows.size() + chunk_size - 1) / chunk_size; }
  // The first row and the row count of chunk `chunk`.
  std::pair<std::size_t, std::size_t> chunk_rows(std::size_t chunk) const;
};

// The dataset's items (already sorted by id), sampled (sample_items with config.sample and config.seed, still
// sorted), then cut to the first `limit` when limit > 0. ConfigError for an empty list or chunk_size < 1. The
// rows are left to the caller (the task's rows of the items: ItemProcessor::rows_of); the hash covers the
// items, since the rows follow from them and the recorded config.
Manifest build_manifest(const Dataset& dataset, const DatasetConfig& config, int limit, int chunk_size);

}  // namespace pixab
