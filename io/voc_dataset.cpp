// PASCAL VOC's folder layout: the image-set list, then per item its image and its annotation file.
#include "io/voc_dataset.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "io/error.hpp"
#include "io/item_status.hpp"

namespace pixab {

namespace fs = std::filesystem;

namespace {

// VOC 2007 ships .jpg only; VOC-layout sets made by other tools (and the demo set) use the others.
constexpr std::array<const char*, 6> kImageExtensions = {".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"};

std::string image_path_for(const fs::path& image_dir, const std::string& id) {
  for (const char* extension : kImageExtensions) {
    const fs::path candidate = image_dir / (id + extension);
    std::error_code ignored;
    if (fs::is_regular_file(candidate, ignored)) return candidate.string();
  }
  // A missing image is that item's error when it is read, not a reason to refuse the whole list.
  return (image_dir / (id + kImageExtensions.front())).string();
}

class VocLayoutDataset : public Dataset {
 public:
  VocLayoutDataset(const DatasetConfig& config, const DatasetSource& source)
      : Dataset(config), include_difficult_(config.include_difficult) {
    if (source.listed) {  // listed elsewhere: no list file read, no image stat
      items_ = *source.listed;
      return;
    }
    // The id is the image's path relative to the root (results-schema.md), which stays the same wherever the
    // dataset is mounted.
    for (const auto& entry : list_voc_split(config.root, config.split)) {
      const auto id = fs::path(entry.image_path).lexically_relative(config.root).generic_string();
      items_.push_back({id, entry.image_path, entry.annotation_path});
    }
    sort_by_id(items_, config.root + ": image set '" + config.split + "'");
  }

  const std::vector<DatasetItem>& items() const override { return items_; }

  ItemAnnotation annotation(const DatasetItem& item) const override {
    const VocAnnotation annotation = read_item_voc_annotation(item.annotation_path);
    ItemAnnotation out;
    for (const auto& object : annotation.objects) {
      if (object.difficult && !include_difficult_) continue;
      out.objects.push_back({object.name, object.box, object.difficult});
    }
    return out;
  }

  ClassMatcher class_matcher(const ModelMeta& meta) const override {
    return ClassMatcher::by_model_names(meta, {kVocClasses.begin(), kVocClasses.end()});
  }

 private:
  std::vector<DatasetItem> items_;
  bool include_difficult_;
};

}  // namespace

std::unique_ptr<Dataset> open_voc_dataset(const DatasetConfig& config, const DatasetSource& source) {
  return std::make_unique<VocLayoutDataset>(config, source);
}

std::vector<VocEntry> list_voc_split(const std::string& root, const std::string& split) {
  const fs::path list_path = fs::path(root) / "ImageSets" / "Main" / (split + ".txt");
  std::ifstream list(list_path);
  if (!list) throw ConfigError("VOC image set list " + list_path.string() + " is missing or unreadable");

  const fs::path image_dir = fs::path(root) / "JPEGImages";
  const fs::path annotation_dir = fs::path(root) / "Annotations";
  std::vector<VocEntry> entries;
  std::string line;
  while (std::getline(list, line)) {
    // The first token only: per-class lists such as aeroplane_test.txt read "000001  1".
    std::istringstream tokens(line);
    std::string id;
    if (!(tokens >> id)) continue;  // also skips blank lines and a stray CR of a Windows-written list
    entries.push_back(VocEntry{id, image_path_for(image_dir, id), (annotation_dir / (id + ".xml")).string()});
  }
  if (entries.empty()) throw ConfigError("VOC image set list " + list_path.string() + " lists no image ids");
  return entries;
}

}  // namespace pixab
