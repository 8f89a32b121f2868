// Dataset kinds behind one interface; the run never needs to know which layout it reads.
#include "io/dataset.hpp"

#include <algorithm>
#include <filesystem>

#include "io/error.hpp"
#include "io/voc_dataset.hpp"

namespace pixab {

ClassMatcher Dataset::class_matcher(const ModelMeta& meta) const {
  return ClassMatcher::by_model_names(meta, {});
}

DecodedImage Dataset::read_image(const DatasetItem& item) const {
  return read_image_rgb8(item.image_path, max_pixels_);
}

void Dataset::sort_by_id(std::vector<DatasetItem>& items, const std::string& source) {
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  const auto duplicate = std::adjacent_find(items.begin(), items.end(),
                                            [](const auto& a, const auto& b) { return a.id == b.id; });
  if (duplicate != items.end())
    throw ConfigError("dataset " + source + " lists '" + duplicate->id + "' twice");
}

std::unique_ptr<Dataset> open_dataset(const DatasetConfig& config) {
  if (config.root.empty()) throw ConfigError("dataset.root is not set");
  if (config.max_pixels == 0) throw ConfigError("dataset.max_pixels must be positive");
  std::unique_ptr<Dataset> dataset;
  if (config.kind == "voc") {
    dataset = open_voc_dataset(config);
  } else {
    throw ConfigError("dataset.kind '" + config.kind + "' is not supported (supported: voc)");
  }
  if (dataset->items().empty())
    throw ConfigError("dataset " + config.root + " (" + config.kind + ") lists no images");
  return dataset;
}

}  // namespace pixab
