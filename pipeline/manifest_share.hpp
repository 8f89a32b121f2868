// Rank 0 lists the dataset once and shares the manifest (pipeline.md, shape 1): the other ranks get its items
// (every DatasetItem field), hash and chunk size, and the dataset-level files rank 0 read, and open the
// dataset from those without listing it, so that a parallel filesystem sees one listing and one read of each
// file.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/dataset.hpp"
#include "pipeline/manifest.hpp"

namespace pixab {

// A manifest as bytes and back (length-prefixed fields, so any byte may appear in an id or a path);
// parse_manifest throws IoError for bytes that serialise_manifest did not write.
std::string serialise_manifest(const Manifest& manifest);
Manifest parse_manifest(const std::string& bytes);

// Dataset-level files (path -> contents) as bytes and back, likewise.
std::string serialise_files(const std::map<std::string, std::string>& files);
std::map<std::string, std::string> parse_files(const std::string& bytes);

struct SharedDataset {
  Manifest manifest;  // rank 0's, identical on every rank
  std::unique_ptr<Dataset>
      dataset;  // rank 0: opened and listed; the others: opened from rank 0's list and files
};

// Collective over MPI_COMM_WORLD. Rank 0 opens the dataset and builds the manifest (build_manifest); a
// ConfigError there (unreadable dataset, nothing listed) is JobRefused on every rank (run.hpp). The other
// ranks open it with DatasetSource{listed: the manifest's items, read: rank 0's copies of the files it read}.
SharedDataset share_dataset(const DatasetConfig& config, int limit, int chunk_size);

}  // namespace pixab
