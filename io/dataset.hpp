// Datasets as the run sees them: a list of items (image + annotation paths) and, per item, its annotated
// objects.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/box.hpp"

namespace pixab {

struct DatasetItem {
  std::string id;          // stable, dataset-relative (used as /items/id)
  std::string image_path;  // as read (/items/source)
  std::string annotation_path;
};

struct AnnotatedObject {
  std::string class_name;
  Box box;  // original image coordinates, pixel edges
  bool difficult = false;
};

struct DatasetConfig {
  std::string kind = "voc";
  std::string root;
  std::string split = "test";
  std::string label;  // the dataset's column heading in reports (e.g. IMGN, VOC); empty: the kind in capitals
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  // Items sorted by id: the manifest order, whatever order the dataset lists them in.
  virtual const std::vector<DatasetItem>& items() const = 0;
  // The item's annotated objects; ItemError (kBadAnnotation) when its annotation cannot be used.
  virtual std::vector<AnnotatedObject> objects(const DatasetItem& item) const = 0;
};

// ConfigError for an unknown kind or a dataset that cannot be listed.
std::unique_ptr<Dataset> open_dataset(const DatasetConfig& config);

}  // namespace pixab
