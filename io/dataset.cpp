// Dataset kinds behind one interface; the run never needs to know which layout it reads.
#include "io/dataset.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>

#include "io/canvas_dataset.hpp"
#include "io/coco_dataset.hpp"
#include "io/error.hpp"
#include "io/imagenet_dataset.hpp"
#include "io/list_dataset.hpp"
#include "io/voc_dataset.hpp"

namespace pixab {

ClassMatcher Dataset::class_matcher(const ModelMeta& meta) const {
  return ClassMatcher::by_model_names(meta, {});
}

DecodedImage Dataset::read_image(const DatasetItem& item) const {
  return read_image_rgb8(item.image_path, max_pixels_);
}

void Dataset::sort_by_id(std::vector<DatasetItem>& items, const std::string& source) {
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  const auto duplicate = std::adjacent_find(items.begin(), items.end(),
                                            [](const auto& a, const auto& b) { return a.id == b.id; });
  if (duplicate != items.end())
    throw ConfigError("dataset " + source + " lists '" + duplicate->id + "' twice");
}

namespace {

bool has_image_extension(const std::string& path) {
  static constexpr std::array<const char*, 7> kExtensions = {".jpg", ".jpeg", ".png", ".bmp",
                                                             ".tif", ".tiff", ".webp"};
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), extension) != kExtensions.end();
}

}  // namespace

std::vector<std::string> find_image_files(const std::string& folder) {
  std::vector<std::string> files;
  namespace fs = std::filesystem;
  fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied), end;
  for (; it != end; ++it) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') {  // .git, .DS_Store, macOS's ._x.jpg companions
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && has_image_extension(name)) files.push_back(it->path().string());
  }
  return files;
}

std::unique_ptr<Dataset> open_dataset(const DatasetConfig& config, const DatasetSource& source) {
  if (config.kind == "canvas") return open_canvas_dataset(config);
  if (config.root.empty()) throw ConfigError("dataset.root is not set");
  if (config.max_pixels == 0) throw ConfigError("dataset.max_pixels must be positive");
  std::unique_ptr<Dataset> dataset;
  if (config.kind == "voc") {
    dataset = open_voc_dataset(config, source);
  } else if (config.kind == "imagenet") {
    dataset = open_imagenet_dataset(config, source);
  } else if (config.kind == "coco") {
    dataset = open_coco_dataset(config, source);
  } else if (config.kind == "list") {
    dataset = open_list_dataset(config, source);
  } else {
    throw ConfigError("dataset.kind '" + config.kind +
                      "' is not supported (supported: voc, imagenet, coco, list)");
  }
  if (dataset->items().empty())
    throw ConfigError("dataset " + config.root + " (" + config.kind + ") lists no images");
  return dataset;
}

}  // namespace pixab
