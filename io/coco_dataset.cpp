// COCO's one big annotation file, read once at opening with nlohmann-json, keeping only the keys pixab uses
// (instances_val2014.json is 160 MB, mostly segmentation polygons that a box-based reader never needs).
#include "io/coco_dataset.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_map>
#include <utility>

#include "io/error.hpp"
#include "io/item_status.hpp"

namespace pixab {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Keys of the top-level object (depth 1) and of each image, annotation and category (depth 3) that are kept.
bool keep_key(int depth, const std::string& key) {
  static constexpr std::array<const char*, 3> kTopLevel = {"images", "annotations", "categories"};
  static constexpr std::array<const char*, 7> kEntry = {"id",   "file_name", "image_id", "category_id",
                                                        "bbox", "iscrowd",   "name"};
  const auto listed = [&](const auto& keys) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  if (depth == 1) return listed(kTopLevel);
  if (depth == 3) return listed(kEntry);
  return true;
}

class CocoDataset : public Dataset {
 public:
  explicit CocoDataset(const DatasetConfig& config) : Dataset(config), include_crowd_(config.include_crowd) {
    json_path_ = (fs::path(config.root) / "annotations" / ("instances_" + config.split + ".json")).string();
    const json document = parse_file();
    const json& images = top_level_array(document, "images");
    const json& annotations = top_level_array(document, "annotations");
    const json& categories = top_level_array(document, "categories");

    std::unordered_map<std::int64_t, std::string> category_names;
    for (const json& category : categories) {
      const std::int64_t id = integer(category, "id", "a category");
      const std::string name = text(category, "name", "category " + std::to_string(id));
      if (!category_names.emplace(id, name).second)
        fail("category " + std::to_string(id) + " is listed twice");
      category_list_.push_back(name);
    }

    const fs::path image_dir = fs::path(config.root) / config.split;
    std::unordered_map<std::int64_t, std::string> id_of_image;  // COCO image id -> item id
    for (const json& image : images) {
      const std::int64_t image_id = integer(image, "id", "an image");
      const std::string file_name = text(image, "file_name", "image " + std::to_string(image_id));
      const std::string id = (fs::path(config.split) / file_name).generic_string();
      if (!id_of_image.emplace(image_id, id).second)
        fail("image " + std::to_string(image_id) + " is listed twice");
      items_.push_back({id, (image_dir / file_name).string(), json_path_});
      annotations_[id];
    }
    sort_by_id(items_, json_path_);

    for (const json& annotation : annotations) {
      const std::int64_t image_id = integer(annotation, "image_id", "an annotation");
      const auto image = id_of_image.find(image_id);
      if (image == id_of_image.end()) {
        fail("an annotation refers to image " + std::to_string(image_id) +
             ", which \"images\" does not list");
      }
      add_object(annotation, annotations_[image->second], category_names);
    }
  }

  const std::vector<DatasetItem>& items() const override { return items_; }

  ItemAnnotation annotation(const DatasetItem& item) const override {
    const ImageAnnotations& found = annotations_.at(item.id);
    if (!found.problem.empty()) throw ItemError(ItemStatus::kBadAnnotation, found.problem);
    ItemAnnotation annotation;
    annotation.objects = found.objects;
    return annotation;
  }

  ClassMatcher class_matcher(const ModelMeta& meta) const override {
    return ClassMatcher::by_model_names(meta, category_list_);
  }

 private:
  struct ImageAnnotations {
    std::vector<AnnotatedObject> objects;
    std::string problem;  // the first unusable annotation of the image; "" when all are usable
  };

  [[noreturn]] void fail(const std::string& problem) const {
    throw ConfigError("COCO annotation file " + json_path_ + ": " + problem);
  }

  json parse_file() const {
    std::ifstream file(json_path_, std::ios::binary);
    if (!file) fail("missing or unreadable (dataset.split is normally \"val2014\")");
    const std::string content{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    try {
      return json::parse(content, [](int depth, json::parse_event_t event, json& parsed) {
        return event != json::parse_event_t::key || keep_key(depth, parsed.get_ref<const std::string&>());
      });
    } catch (const json::exception& e) {
      fail(std::string("not valid JSON: ") + e.what());
    }
  }

  const json& top_level_array(const json& document, const char* key) const {
    if (!document.is_object() || !document.contains(key) || !document.at(key).is_array()) {
      fail(std::string("no \"") + key + "\" array");
    }
    return document.at(key);
  }

  std::int64_t integer(const json& entry, const char* key, const std::string& what) const {
    if (!entry.is_object() || !entry.contains(key) || !entry.at(key).is_number_integer()) {
      fail(what + " has no integer \"" + key + "\"");
    }
    return entry.at(key).get<std::int64_t>();
  }

  std::string text(const json& entry, const char* key, const std::string& what) const {
    if (!entry.contains(key) || !entry.at(key).is_string()) fail(what + " has no string \"" + key + "\"");
    return entry.at(key).get<std::string>();
  }

  // One annotation's box into its image's objects, or its problem into the image's (the first one counts).
  void add_object(const json& annotation, ImageAnnotations& image,
                  const std::unordered_map<std::int64_t, std::string>& category_names) const {
    if (!image.problem.empty()) return;
    const std::string where =
        "COCO annotation file " + json_path_ + ": annotation " +
        (annotation.contains("id") ? annotation.at("id").dump() : std::string("without id"));
    const json* category = annotation.contains("category_id") ? &annotation.at("category_id") : nullptr;
    if (!category || !category->is_number_integer() || !category_names.count(category->get<std::int64_t>())) {
      image.problem =
          where + ": category_id " + (category ? category->dump() : "missing") + " is not a category";
      return;
    }
    const json* bbox = annotation.contains("bbox") ? &annotation.at("bbox") : nullptr;
    const bool four_numbers = bbox && bbox->is_array() && bbox->size() == 4 &&
                              std::all_of(bbox->begin(), bbox->end(), [](const json& v) {
                                return v.is_number() && std::isfinite(v.get<double>());
                              });
    if (!four_numbers) {
      image.problem = where + ": bbox " + (bbox ? bbox->dump() : "missing") + " is not [x, y, w, h]";
      return;
    }
    const double w = (*bbox)[2].get<double>(), h = (*bbox)[3].get<double>();
    if (w < 0 || h < 0) {
      image.problem = where + ": bbox " + bbox->dump() + " has a negative width or height";
      return;
    }
    const bool crowd = annotation.contains("iscrowd") && annotation.at("iscrowd") == 1;
    if (crowd && !include_crowd_) return;
    const Box box = box_from_coco((*bbox)[0].get<double>(), (*bbox)[1].get<double>(), w, h);
    if (box_is_empty(box)) return;  // a zero-area box marks no pixel
    image.objects.push_back({category_names.at(category->get<std::int64_t>()), box});
  }

  bool include_crowd_;
  std::string json_path_;
  std::vector<DatasetItem> items_;
  std::unordered_map<std::string, ImageAnnotations> annotations_;  // by item id
  std::vector<std::string> category_list_;
};

}  // namespace

std::unique_ptr<Dataset> open_coco_dataset(const DatasetConfig& config) {
  return std::make_unique<CocoDataset>(config);
}

}  // namespace pixab
