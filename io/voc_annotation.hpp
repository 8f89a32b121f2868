// PASCAL VOC's annotation XML, one file per image (VOC's Annotations/, ImageNet's bounding-box files): the
// parser, from memory or from a file, and the writer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "io/box.hpp"

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

// Parses one annotation held in memory. InputError naming `path` (the file it came from) for malformed XML or
// a field that cannot be used. The one parser: read_voc_annotation and the fuzz target
// tests/fuzz/fuzz_voc_xml.cpp both call it.
VocAnnotation parse_voc_annotation(std::string_view xml, const std::string& path);

// Parses one annotation file. InputError naming the file for a missing or malformed file.
VocAnnotation read_voc_annotation(const std::string& path);

// The same for an item's annotation: a missing or malformed file fails only that item (ItemError,
// bad_annotation), as the VOC and ImageNet readers need.
VocAnnotation read_item_voc_annotation(const std::string& path);

// Writes one annotation in VOC's format (used by `pixab demo-data`); boxes are converted back to 1-based
// inclusive.
void write_voc_annotation(const std::string& path, const VocAnnotation& annotation);

}  // namespace pixab
