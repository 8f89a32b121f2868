// Dataset kinds behind one interface; the run never needs to know which layout it reads.
#include "io/dataset.hpp"

#include <algorithm>
#include <filesystem>

#include "io/error.hpp"
#include "io/item_status.hpp"
#include "io/voc_dataset.hpp"

namespace pixab {

namespace {

class VocLayoutDataset : public Dataset {
 public:
  explicit VocLayoutDataset(const DatasetConfig& config) {
    // The id is the image's path relative to the root (results-schema.md), which stays the same wherever the
    // dataset is mounted.
    for (const auto& entry : list_voc_split(config.root, config.split)) {
      const auto id = std::filesystem::path(entry.image_path).lexically_relative(config.root).generic_string();
      items_.push_back({id, entry.image_path, entry.annotation_path});
    }
    std::sort(items_.begin(), items_.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    const auto duplicate = std::adjacent_find(items_.begin(), items_.end(),
                                              [](const auto& a, const auto& b) { return a.id == b.id; });
    if (duplicate != items_.end()) {
      throw ConfigError("dataset " + config.root + ": image set '" + config.split + "' lists '" +
                        duplicate->id + "' twice");
    }
  }

  const std::vector<DatasetItem>& items() const override { return items_; }

  std::vector<AnnotatedObject> objects(const DatasetItem& item) const override {
    VocAnnotation annotation;
    try {
      annotation = read_voc_annotation(item.annotation_path);
    } catch (const InputError& e) {
      throw ItemError(ItemStatus::kBadAnnotation, e.what());
    }
    std::vector<AnnotatedObject> objects;
    for (const auto& object : annotation.objects)
      objects.push_back({object.name, object.box, object.difficult});
    return objects;
  }

 private:
  std::vector<DatasetItem> items_;
};

}  // namespace

std::unique_ptr<Dataset> open_dataset(const DatasetConfig& config) {
  if (config.root.empty()) throw ConfigError("dataset.root is not set");
  if (config.kind == "voc") return std::make_unique<VocLayoutDataset>(config);
  throw ConfigError("dataset.kind '" + config.kind + "' is not supported (supported: voc)");
}

}  // namespace pixab
