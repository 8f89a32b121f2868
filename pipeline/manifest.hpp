// The manifest: the sorted (and, where configured, sampled) item list every rank builds identically, its
// hash, and its cut into fixed chunks of consecutive items whose content never depends on the rank count.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "io/dataset.hpp"

namespace pixab {

struct Manifest {
  std::vector<DatasetItem> items;
  std::string sha256;  // of "id \t image path \n" per item, in order
  std::size_t chunk_size = 16;

  std::size_t chunk_count() const { return (items.size() + chunk_size - 1) / chunk_size; }
  // The first row and the row count of chunk `chunk`.
  std::pair<std::size_t, std::size_t> chunk_rows(std::size_t chunk) const;
};

// The dataset's items (already sorted by id), sampled (sample_items with config.sample and config.seed, still
// sorted), then cut to the first `limit` when limit > 0. ConfigError for an empty list or chunk_size < 1.
Manifest build_manifest(const Dataset& dataset, const DatasetConfig& config, int limit, int chunk_size);

}  // namespace pixab
