// Building the manifest (see manifest.hpp).
#include "pipeline/manifest.hpp"

#include <algorithm>

#include "io/error.hpp"
#include "io/sampling.hpp"
#include "io/sha256.hpp"

namespace pixab {

std::pair<std::size_t, std::size_t> Manifest::chunk_rows(std::size_t chunk) const {
  const std::size_t first = chunk * chunk_size;
  return {first, std::min(chunk_size, rows.size() - first)};
}

Manifest build_manifest(const Dataset& dataset, const DatasetConfig& config, int limit, int chunk_size) {
  if (chunk_size < 1) throw ConfigError("chunk_size must be at least 1");
  Manifest manifest;
  manifest.chunk_size = static_cast<std::size_t>(chunk_size);
  manifest.items = sample_items(dataset.items(), config.sample, config.seed);
  if (limit > 0 && static_cast<std::size_t>(limit) < manifest.items.size())
    manifest.items.resize(static_cast<std::size_t>(limit));
  if (manifest.items.empty()) throw ConfigError("the dataset lists no items");
  std::string text;
  for (const auto& item : manifest.items) text += item.id + "\t" + item.image_path + "\n";
  manifest.sha256 = sha256_hex(text);
  return manifest;
}

}  // namespace pixab
