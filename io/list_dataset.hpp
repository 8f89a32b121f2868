// The `list` dataset kind: a user's own collection (the paper's MOD set), as a CSV file of
// path[,label][,x1,y1,x2,y2,class]... rows or as a folder scanned recursively for images.
#pragma once

#include <memory>

#include "io/dataset.hpp"

namespace pixab {

// dataset.root is the CSV file or the folder. CSV paths are relative to the CSV's folder (or absolute) and
// are the items' ids; boxes are pixel edges [x1, y1, x2, y2]; labels and classes are model class names
// (labels or wnids) or indices. A row that cannot be used becomes a bad_annotation item with a one-line
// message; ConfigError for an unreadable file, a row without an image path, or a repeated path.
std::unique_ptr<Dataset> open_list_dataset(const DatasetConfig& config, const DatasetSource& source = {});

}  // namespace pixab
