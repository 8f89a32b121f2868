// COCO's layout: the images of a split, listed and annotated by the split's instances file
// (io/coco_annotations), read once at opening.
#include "io/coco_dataset.hpp"

#include <filesystem>
#include <optional>
#include <unordered_map>
#include <utility>

#include "io/coco_annotations.hpp"
#include "io/error.hpp"
#include "io/file_contents.hpp"
#include "io/item_status.hpp"

namespace pixab {

namespace {

namespace fs = std::filesystem;

class CocoDataset : public Dataset {
 public:
  CocoDataset(const DatasetConfig& config, const DatasetSource& source) : Dataset(config) {
    const std::string json_path =
        (fs::path(config.root) / "annotations" / ("instances_" + config.split + ".json")).string();
    const std::optional<std::string> json_text = source.read(json_path);
    if (!json_text) {
      throw ConfigError("COCO annotation file " + json_path +
                        ": missing or unreadable (dataset.split is normally \"val2014\")");
    }
    CocoAnnotations parsed = parse_coco_annotations(*json_text, json_path, config.include_crowd);
    categories_ = std::move(parsed.categories);

    const fs::path image_dir = fs::path(config.root) / config.split;
    for (CocoImage& image : parsed.images) {
      const std::string id = (fs::path(config.split) / image.file_name).generic_string();
      items_.push_back({id, (image_dir / image.file_name).string(), json_path});
      images_[id] = std::move(image);
    }
    sort_by_id(items_, json_path);  // also refuses two images with the same file_name
  }

  const std::vector<DatasetItem>& items() const override { return items_; }

  ItemAnnotation annotation(const DatasetItem& item) const override {
    const CocoImage& image = images_.at(item.id);
    if (!image.problem.empty()) throw ItemError(ItemStatus::kBadAnnotation, image.problem);
    ItemAnnotation annotation;
    annotation.objects = image.objects;
    return annotation;
  }

  ClassMatcher class_matcher(const ModelMeta& meta) const override {
    return ClassMatcher::by_model_names(meta, categories_);
  }

 private:
  std::vector<DatasetItem> items_;
  std::unordered_map<std::string, CocoImage> images_;  // by item id
  std::vector<std::string> categories_;
};

}  // namespace

std::unique_ptr<Dataset> open_coco_dataset(const DatasetConfig& config, const DatasetSource& source) {
  return std::make_unique<CocoDataset>(config, source);
}

}  // namespace pixab
