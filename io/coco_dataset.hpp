// The `coco` dataset kind: COCO 2014 val images and the instances annotation file.
#pragma once

#include <memory>

#include "io/dataset.hpp"

namespace pixab {

// Layout: root/<split>/<file_name> and root/annotations/instances_<split>.json (split normally "val2014").
// Boxes [x, y, w, h] become pixel edges [x, y, x + w, y + h]; zero-area boxes are dropped; crowd boxes
// (iscrowd = 1) are kept unless config.include_crowd is false; class names are the categories' names.
// ConfigError (before any work) for a missing or malformed JSON file, or entries that name no item (an
// image without id or file_name, a repeated image, an annotation of an image not in "images"); an
// annotation with an unknown category or a malformed bbox makes only its image a bad_annotation item.
std::unique_ptr<Dataset> open_coco_dataset(const DatasetConfig& config, const DatasetSource& source = {});

}  // namespace pixab
