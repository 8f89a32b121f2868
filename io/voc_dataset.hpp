// PASCAL VOC folder layout: JPEGImages/, Annotations/ (one XML per image), ImageSets/Main/<split>.txt.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "io/dataset.hpp"
#include "io/voc_annotation.hpp"  // the annotation files: VocAnnotation, read_voc_annotation

namespace pixab {

// One entry of the image set: the image id and where its files are. The annotation is parsed later, per item,
// so that a malformed XML fails only its own item.
struct VocEntry {
  std::string id;               // e.g. "000001"
  std::string image_path;       // root/JPEGImages/<id>.jpg (or .png / .jpeg, whichever exists)
  std::string annotation_path;  // root/Annotations/<id>.xml
};

// Lists the ids of root/ImageSets/Main/<split>.txt in file order. ConfigError when the list file is missing.
std::vector<VocEntry> list_voc_split(const std::string& root, const std::string& split);

// The 20 classes of PASCAL VOC 2007: a VOC dataset's own class names (ClassMatcher), whatever the model.
inline constexpr std::array<const char*, 20> kVocClasses = {
    "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",      "car",
    "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",    "motorbike",
    "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};

// The `voc` dataset kind: items of the split list, ids relative to the root; objects from the XML, the
// difficult ones left out when config.include_difficult is false. ConfigError for a missing or empty list
// or a repeated id.
std::unique_ptr<Dataset> open_voc_dataset(const DatasetConfig& config, const DatasetSource& source = {});

}  // namespace pixab
