// ILSVRC2012 validation: images found by scanning, annotations read per item (a sample of 1,000 reads 1,000
// XML files, not 50,000), class indices from the model's wnids or the synset mapping file.
#include "io/imagenet_dataset.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "io/error.hpp"
#include "io/item_status.hpp"
#include "io/voc_dataset.hpp"

namespace pixab {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSynsetMappingFile = "LOC_synset_mapping.txt";

class ImagenetDataset : public Dataset {
 public:
  ImagenetDataset(const DatasetConfig& config, const DatasetSource& source) : Dataset(config) {
    const fs::path root = config.root;
    if (source.listed) {  // listed elsewhere: no folder scan
      items_ = *source.listed;
    } else {
      list_items(config);
    }
    const fs::path mapping = root / kSynsetMappingFile;
    if (fs::exists(mapping)) synsets_ = read_synset_mapping(mapping.string());
    mapping_path_ = mapping.string();
  }

  const std::vector<DatasetItem>& items() const override { return items_; }

  // Every object of an ILSVRC2012 validation XML names the image's class.
  ItemAnnotation annotation(const DatasetItem& item) const override {
    const VocAnnotation xml = read_item_voc_annotation(item.annotation_path);
    if (xml.objects.empty()) {
      throw ItemError(ItemStatus::kBadAnnotation,
                      "annotation " + item.annotation_path + ": no objects, so no label");
    }
    ItemAnnotation annotation;
    annotation.label = xml.objects.front().name;
    for (const VocObject& object : xml.objects) {
      if (object.name != annotation.label) {
        throw ItemError(ItemStatus::kBadAnnotation,
                        "annotation " + item.annotation_path + ": objects of classes '" + annotation.label +
                            "' and '" + object.name + "': an ImageNet image has one class");
      }
      annotation.objects.push_back({object.name, object.box, object.difficult});
    }
    return annotation;
  }

  bool has_labels() const override { return true; }

  // The model's wnids when it has them (the mapping file then only widens the known synsets); else the
  // mapping file's order, which is the class order of torchvision's ImageNet models.
  ClassMatcher class_matcher(const ModelMeta& meta) const override {
    if (!meta.wnids.empty()) return ClassMatcher::by_model_names(meta, synsets_);
    if (synsets_.empty()) {
      throw ConfigError(
          "ImageNet annotations name synsets (e.g. n01440764): the model's pixab.json has no 'wnids' "
          "and there is no " +
          mapping_path_);
    }
    if (static_cast<int>(synsets_.size()) != meta.num_classes) {
      throw ConfigError(mapping_path_ + " lists " + std::to_string(synsets_.size()) +
                        " synsets but the model has " + std::to_string(meta.num_classes) +
                        " classes and no 'wnids' to match them by");
    }
    std::unordered_map<std::string, int> by_synset;
    for (std::size_t i = 0; i < synsets_.size(); ++i) by_synset.emplace(synsets_[i], static_cast<int>(i));
    return ClassMatcher(std::move(by_synset), {});
  }

 private:
  // The items of the first layout found, by scanning its image folder.
  void list_items(const DatasetConfig& config) {
    const fs::path root = config.root;
    const std::pair<fs::path, fs::path> layouts[] = {
        {root / config.split, root / "bbox" / config.split},
        {root / "ILSVRC/Data/CLS-LOC" / config.split, root / "ILSVRC/Annotations/CLS-LOC" / config.split}};
    const auto* layout = std::find_if(std::begin(layouts), std::end(layouts),
                                      [](const auto& l) { return fs::is_directory(l.first); });
    if (layout == std::end(layouts)) {
      throw ConfigError("ImageNet dataset " + config.root + ": no image folder " + layouts[0].first.string() +
                        " or " + layouts[1].first.string() + " (dataset.split is normally \"val\")");
    }
    const auto& [image_dir, annotation_dir] = *layout;
    if (!fs::is_directory(annotation_dir)) {
      throw ConfigError("ImageNet dataset " + config.root + ": no bounding-box folder " +
                        annotation_dir.string());
    }
    for (const std::string& path : find_image_files(image_dir.string())) {
      const fs::path image = path;
      const fs::path annotation = annotation_dir / image.filename().replace_extension(".xml");
      items_.push_back({image.lexically_relative(root).generic_string(), path, annotation.string()});
    }
    sort_by_id(items_, image_dir.string());
  }

  std::vector<DatasetItem> items_;
  std::vector<std::string> synsets_;  // of the mapping file, in class order; empty without one
  std::string mapping_path_;
};

}  // namespace

std::vector<std::string> read_synset_mapping(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ConfigError("synset mapping " + path + " cannot be read");
  std::vector<std::string> synsets;
  std::unordered_map<std::string, int> first_line;
  std::string line;
  for (int line_number = 1; std::getline(file, line); ++line_number) {
    std::istringstream tokens(line);
    std::string synset;
    if (!(tokens >> synset)) continue;  // blank line
    if (!first_line.emplace(synset, line_number).second) {
      throw ConfigError("synset mapping " + path + " line " + std::to_string(line_number) + ": '" + synset +
                        "' already on line " + std::to_string(first_line[synset]));
    }
    synsets.push_back(synset);
  }
  if (synsets.empty()) throw ConfigError("synset mapping " + path + " lists no synsets");
  return synsets;
}

std::unique_ptr<Dataset> open_imagenet_dataset(const DatasetConfig& config, const DatasetSource& source) {
  return std::make_unique<ImagenetDataset>(config, source);
}

}  // namespace pixab
