// Users' own collections: a CSV list (io/list_csv) or a folder scanned for images.
#include "io/list_dataset.hpp"

#include <filesystem>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "io/error.hpp"
#include "io/file_contents.hpp"
#include "io/item_status.hpp"
#include "io/list_csv.hpp"

namespace pixab {

namespace {

namespace fs = std::filesystem;

class ListDataset : public Dataset {
 public:
  ListDataset(const DatasetConfig& config, const DatasetSource& source) : Dataset(config) {
    std::error_code ec;
    if (fs::is_directory(config.root, ec)) {
      if (source.listed) {  // listed elsewhere: no folder scan
        items_ = *source.listed;
        return;
      }
      scan_folder(config.root);
    } else if (fs::is_regular_file(config.root, ec)) {
      read_csv(config.root, source.read);
    } else {
      throw ConfigError("list dataset " + config.root + ": no such file or folder");
    }
    sort_by_id(items_, config.root);
  }

  const std::vector<DatasetItem>& items() const override { return items_; }

  ItemAnnotation annotation(const DatasetItem& item) const override {
    const auto row = rows_.find(item.id);
    if (row == rows_.end()) return {};  // a scanned image: no annotation
    if (!row->second.problem.empty()) throw ItemError(ItemStatus::kBadAnnotation, row->second.problem);
    return row->second.annotation;
  }

  bool has_labels() const override { return has_labels_; }

  ClassMatcher class_matcher(const ModelMeta& meta) const override {
    return ClassMatcher::by_model_names(meta, {}, meta.num_classes);
  }

 private:
  void scan_folder(const std::string& root) {
    for (const std::string& path : find_image_files(root))
      items_.push_back({fs::path(path).lexically_relative(root).generic_string(), path, ""});
  }

  void read_csv(const std::string& csv_path, const DatasetFileReader& read) {
    const std::optional<std::string> text = read(csv_path);
    if (!text) throw ConfigError("list dataset " + csv_path + " cannot be read");
    const fs::path folder = fs::path(csv_path).parent_path();
    for (ListRow& row : parse_list_csv(*text, csv_path)) {
      const fs::path image = fs::path(row.path).is_absolute() ? fs::path(row.path) : folder / row.path;
      items_.push_back({row.id, image.string(), csv_path});
      has_labels_ = has_labels_ || !row.annotation.label.empty();
      rows_.emplace(row.id, std::move(row));
    }
  }

  std::vector<DatasetItem> items_;
  std::unordered_map<std::string, ListRow> rows_;  // by id
  bool has_labels_ = false;
};

}  // namespace

std::unique_ptr<Dataset> open_list_dataset(const DatasetConfig& config, const DatasetSource& source) {
  return std::make_unique<ListDataset>(config, source);
}

}  // namespace pixab
