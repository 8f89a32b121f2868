// Datasets as the run sees them: a list of items (image + annotation paths) and, per item, its annotation;
// `dataset.kind` picks the reader (docs/datasets.md describes each layout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/box.hpp"
#include "io/class_matcher.hpp"
#include "io/file_contents.hpp"
#include "io/image_reader.hpp"
#include "io/model_meta.hpp"

namespace pixab {

struct DatasetItem {
  std::string id;               // stable, dataset-relative (used as /items/id)
  std::string image_path;       // as read (/items/source)
  std::string annotation_path;  // the file that holds its annotation (empty: none), named in messages
};

struct DatasetConfig {
  std::string kind = "voc";  // voc, imagenet, coco, list
  std::string root;
  std::string split = "test";  // voc: ImageSets/Main/<split>.txt; imagenet: val; coco: val2014; list: unused
  std::string label;  // the dataset's column heading in reports (e.g. IMGN, VOC); empty: the kind in capitals
  bool include_difficult = true;  // voc: objects marked <difficult>1</difficult> (dataset.difficult)
  bool include_crowd = true;      // coco: boxes with iscrowd = 1 (dataset.crowd)
  std::size_t sample = 0;         // items drawn by sample_items (io/sampling.hpp); 0: every item
  std::uint64_t seed = 0;         // of the sample
  std::uint64_t max_pixels = kDefaultMaxPixels;  // larger images are too_large, refused from their header
  // kind "canvas" (a task that makes its own items, io/canvas_dataset.hpp): how many, and their size
  std::size_t canvas_count = 0;
  int canvas_width = 0, canvas_height = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  const std::string& kind() const { return kind_; }
  // Items sorted by id: the manifest order, whatever order the dataset lists them in (opened from items listed
  // elsewhere, DatasetSource::listed: those items).
  virtual const std::vector<DatasetItem>& items() const = 0;
  // The item's label and objects, with class names as the dataset writes them (resolved against a model by
  // ClassMatcher::resolve); ItemError (kBadAnnotation) when its annotation cannot be used.
  virtual ItemAnnotation annotation(const DatasetItem& item) const = 0;
  // Whether items carry an image-level label, which target = "label" needs.
  virtual bool has_labels() const { return false; }
  // How the dataset's class names map to the model's classes: by the model's labels and wnids, with the
  // dataset's own class names also accepted. ConfigError when this dataset cannot be matched to the model.
  virtual ClassMatcher class_matcher(const ModelMeta& meta) const;
  // The item's image as 8-bit RGB, refused over the configured pixel limit (read_image_rgb8).
  virtual DecodedImage read_image(const DatasetItem& item) const;

 protected:
  explicit Dataset(const DatasetConfig& config) : kind_(config.kind), max_pixels_(config.max_pixels) {}
  // Sorts by id; ConfigError naming `source` when two items share an id.
  static void sort_by_id(std::vector<DatasetItem>& items, const std::string& source);

 private:
  std::string kind_;
  std::uint64_t max_pixels_;
};

// The image files under a folder, recursively: names ending in .jpg, .jpeg, .png, .bmp, .tif, .tiff or .webp
// (any case); hidden files and folders (names starting with '.') are skipped. In no particular order.
std::vector<std::string> find_image_files(const std::string& folder);

// Reads a dataset-level file whole (a list's CSV, COCO's instances JSON); nullopt when it cannot be opened.
using DatasetFileReader = std::function<std::optional<std::string>(const std::string& path)>;

// Where opening a dataset gets what it reads at opening. By default it lists the items (scans folders, reads
// the image-set list, stats images) and reads its files from disk. The MPI ranks other than 0 open it from
// what rank 0 read (pipeline/manifest_share), so that a parallel filesystem sees one listing and one read:
//   listed: the items, listed elsewhere. voc, imagenet and a scanned list folder then scan and list nothing
//     and their items() are these (e.g. the manifest's); their annotations are per-item files, read when
//     asked. coco and a CSV list take their items from the file they parse anyway, through `read`.
//   read: the dataset-level files (COCO's JSON, a list's CSV), e.g. rank 0's copy of them. ImageNet's small
//     synset mapping file is read from disk by every opening.
struct DatasetSource {
  DatasetFileReader read = read_file_contents;
  std::optional<std::vector<DatasetItem>> listed;
};

// ConfigError for an unknown kind, an unreadable dataset-level file (list, annotation JSON, class mapping) or
// a dataset that lists nothing.
std::unique_ptr<Dataset> open_dataset(const DatasetConfig& config, const DatasetSource& source = {});

}  // namespace pixab
