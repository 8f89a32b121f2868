// PASCAL VOC folder layout: JPEGImages/, Annotations/ (one XML per image), ImageSets/Main/<split>.txt.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "io/box.hpp"
#include "io/dataset.hpp"

namespace pixab {

struct VocObject {
  std::string name;  // class name as written in the XML
  Box box;           // pixel-edge coordinates of the original image (converted from VOC's 1-based inclusive)
  bool difficult = false;
  bool truncated = false;
};

struct VocAnnotation {
  std::string filename;  // as in <filename>
  int width = 0, height = 0, depth = 0;
  std::vector<VocObject> objects;
  std::string folder;  // as in <folder>: the dataset's name, e.g. "VOC2007"
};

// One entry of the image set: the image id and where its files are. The annotation is parsed later, per item,
// so that a malformed XML fails only its own item.
struct VocEntry {
  std::string id;               // e.g. "000001"
  std::string image_path;       // root/JPEGImages/<id>.jpg (or .png / .jpeg, whichever exists)
  std::string annotation_path;  // root/Annotations/<id>.xml
};

// Lists the ids of root/ImageSets/Main/<split>.txt in file order. ConfigError when the list file is missing.
std::vector<VocEntry> list_voc_split(const std::string& root, const std::string& split);

// Parses one annotation file. InputError naming the file for a missing or malformed file.
VocAnnotation read_voc_annotation(const std::string& path);

// The 20 classes of PASCAL VOC 2007: a VOC dataset's own class names (ClassMatcher), whatever the model.
inline constexpr std::array<const char*, 20> kVocClasses = {
    "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",      "car",
    "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",    "motorbike",
    "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};

// The `voc` dataset kind: items of the split list, ids relative to the root; objects from the XML, the
// difficult ones left out when config.include_difficult is false. ConfigError for a missing or empty list
// or a repeated id.
std::unique_ptr<Dataset> open_voc_dataset(const DatasetConfig& config);

// Writes one annotation in VOC's format (used by `pixab demo-data`); boxes are converted back to 1-based
// inclusive.
void write_voc_annotation(const std::string& path, const VocAnnotation& annotation);

}  // namespace pixab
