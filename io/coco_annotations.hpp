// COCO's instances annotation file (one JSON for a whole split), parsed from memory: its images, their boxes
// and the categories.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/class_matcher.hpp"

namespace pixab {

struct CocoImage {
  std::int64_t id = 0;
  std::string file_name;
  // Boxes [x, y, w, h] as pixel edges [x, y, x + w, y + h], class names from the categories; zero-area boxes,
  // and crowd boxes when they are excluded, are left out.
  std::vector<AnnotatedObject> objects;
  // The image's first unusable annotation (unknown category, malformed bbox); "" when none.
  std::string problem;
};

struct CocoAnnotations {
  std::vector<CocoImage> images;        // in file order
  std::vector<std::string> categories;  // names, in file order
};

// Parses the JSON text of `path`, keeping only the keys pixab uses. ConfigError naming `path` for invalid
// JSON, a missing "images", "annotations" or "categories" array, an image without an integer id or a
// file_name, a repeated image or category, or an annotation of an image that "images" does not list. The one
// parser: the `coco` dataset and the fuzz target tests/fuzz/fuzz_coco_json.cpp both call it.
CocoAnnotations parse_coco_annotations(std::string_view json_text, const std::string& path,
                                       bool include_crowd);

}  // namespace pixab
