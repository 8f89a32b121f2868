// COCO's one big annotation file, parsed once with nlohmann-json, keeping only the keys pixab uses
// (instances_val2014.json is 160 MB, mostly segmentation polygons that a box-based reader never needs).
#include "io/coco_annotations.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "io/error.hpp"

namespace pixab {

namespace {

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

// COCO's own files nest 5 levels (annotations, an annotation, its segmentation, a polygon, a coordinate). The
// parser does not recurse, but printing a value does (the messages quote a bad "id" or "bbox"): an "id"
// nested 70,000 deep overflowed the stack (a crafted input run through tests/fuzz/fuzz_coco_json). Deeper
// files are refused while parsing, before anything is printed.
constexpr int kMaxDepth = 100;

// An id as COCO's 64-bit signed integers; nullopt for anything else. nlohmann-json keeps integers above
// INT64_MAX as unsigned, which get<std::int64_t>() would wrap onto negative ids (2^64 - 1 became -1).
std::optional<std::int64_t> id_value(const json& value) {
  if (value.is_number_unsigned()) {
    const auto id = value.get<std::uint64_t>();
    if (id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(id);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  return std::nullopt;
}

class CocoParser {
 public:
  CocoParser(std::string path, bool include_crowd) : path_(std::move(path)), include_crowd_(include_crowd) {}

  CocoAnnotations parse(std::string_view json_text) const {
    const json document = parse_json(json_text);
    const json& images = top_level_array(document, "images");
    const json& annotations = top_level_array(document, "annotations");
    const json& categories = top_level_array(document, "categories");
    CocoAnnotations parsed;

    std::unordered_map<std::int64_t, std::string> category_names;
    for (const json& category : categories) {
      const std::int64_t id = integer(category, "id", "a category");
      const std::string name = text(category, "name", "category " + std::to_string(id));
      if (!category_names.emplace(id, name).second)
        fail("category " + std::to_string(id) + " is listed twice");
      parsed.categories.push_back(name);
    }

    std::unordered_map<std::int64_t, std::size_t> index_of_image;  // COCO image id -> index in parsed.images
    for (const json& image : images) {
      CocoImage entry;
      entry.id = integer(image, "id", "an image");
      entry.file_name = text(image, "file_name", "image " + std::to_string(entry.id));
      if (!index_of_image.emplace(entry.id, parsed.images.size()).second)
        fail("image " + std::to_string(entry.id) + " is listed twice");
      parsed.images.push_back(std::move(entry));
    }

    for (const json& annotation : annotations) {
      const std::int64_t image_id = integer(annotation, "image_id", "an annotation");
      const auto image = index_of_image.find(image_id);
      if (image == index_of_image.end()) {
        fail("an annotation refers to image " + std::to_string(image_id) +
             ", which \"images\" does not list");
      }
      add_object(annotation, parsed.images[image->second], category_names);
    }
    return parsed;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw ConfigError("COCO annotation file " + path_ + ": " + problem);
  }

  json parse_json(std::string_view json_text) const {
    try {
      return json::parse(json_text, [this](int depth, json::parse_event_t event, json& parsed) {
        if (depth > kMaxDepth) fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
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
    const std::optional<std::int64_t> value =
        entry.is_object() && entry.contains(key) ? id_value(entry.at(key)) : std::nullopt;
    if (!value) fail(what + " has no integer \"" + key + "\"");
    return *value;
  }

  std::string text(const json& entry, const char* key, const std::string& what) const {
    if (!entry.contains(key) || !entry.at(key).is_string()) fail(what + " has no string \"" + key + "\"");
    return entry.at(key).get<std::string>();
  }

  // One annotation's box into its image's objects, or its problem into the image's (the first one counts).
  void add_object(const json& annotation, CocoImage& image,
                  const std::unordered_map<std::int64_t, std::string>& category_names) const {
    if (!image.problem.empty()) return;
    const std::string where =
        "COCO annotation file " + path_ + ": annotation " +
        (annotation.contains("id") ? annotation.at("id").dump() : std::string("without id"));
    const json* category = annotation.contains("category_id") ? &annotation.at("category_id") : nullptr;
    const std::optional<std::int64_t> category_id = category ? id_value(*category) : std::nullopt;
    if (!category_id || !category_names.count(*category_id)) {
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
    const std::optional<Box> box = box_from_coco((*bbox)[0].get<double>(), (*bbox)[1].get<double>(), w, h);
    if (!box) {
      image.problem = where + ": bbox " + bbox->dump() + " is out of range";
      return;
    }
    const bool crowd = annotation.contains("iscrowd") && annotation.at("iscrowd") == 1;
    if (crowd && !include_crowd_) return;
    if (box_is_empty(*box)) return;  // a zero-area box marks no pixel
    image.objects.push_back({category_names.at(*category_id), *box});
  }

  std::string path_;
  bool include_crowd_;
};

}  // namespace

CocoAnnotations parse_coco_annotations(std::string_view json_text, const std::string& path,
                                       bool include_crowd) {
  return CocoParser(path, include_crowd).parse(json_text);
}

}  // namespace pixab
