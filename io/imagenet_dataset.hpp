// The `imagenet` dataset kind: ILSVRC2012 validation images with their per-image bounding-box XML files
// (PASCAL VOC format, synset ids as class names).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/dataset.hpp"

namespace pixab {

// Accepted layouts, the first whose image folder exists (split is normally "val"):
//   root/<split>/**/*.JPEG                  root/bbox/<split>/<image name>.xml         (ILSVRC2012 tarballs)
//   root/ILSVRC/Data/CLS-LOC/<split>/...    root/ILSVRC/Annotations/CLS-LOC/<split>/   (Kaggle's copy)
// plus an optional root/LOC_synset_mapping.txt ("n01440764 tench, Tinca tinca", one synset per line, in class
// order). Images may sit in synset sub-folders; an image's XML is found by its file name. The label is the
// synset of the XML's objects. ConfigError when no layout is found, or the mapping file is malformed.
std::unique_ptr<Dataset> open_imagenet_dataset(const DatasetConfig& config, const DatasetSource& source = {});

// The synsets of a LOC_synset_mapping.txt, in class order; ConfigError naming the file and line for a
// repeated synset or an unreadable file.
std::vector<std::string> read_synset_mapping(const std::string& path);

}  // namespace pixab
