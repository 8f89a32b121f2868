// CSV lists and scanned folders: the forgiving reader for users' own collections; a bad row fails only its
// own item.
#include "io/list_dataset.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "io/error.hpp"
#include "io/item_status.hpp"

namespace pixab {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kBoxFields = 5;  // x1, y1, x2, y2, class

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// RFC 4180 fields: a field may be double-quoted (then it may hold commas, and "" is a quote). Returns the
// problem with the row's quoting, or "".
std::string split_csv_row(const std::string& line, std::vector<std::string>& fields) {
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      bool closed = false;
      for (++i; i < line.size(); ++i) {
        if (line[i] != '"') {
          field += line[i];
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          closed = true;
          ++i;
          break;
        }
      }
      fields.push_back(field);
      if (!closed) return "unterminated quote";
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      if (i < line.size() && line[i] != ',') return "text after a closing quote";
    } else {
      const std::size_t comma = line.find(',', i);
      fields.push_back(trimmed(line.substr(i, comma == std::string::npos ? std::string::npos : comma - i)));
      i = comma == std::string::npos ? line.size() : comma;
    }
    if (i >= line.size()) return {};
    ++i;  // the comma
  }
}

// Coordinates may be real numbers; from_chars does not depend on the locale's decimal separator.
bool parse_number(const std::string& text, double& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

// The annotation of one row's fields after the path; returns the row's problem, or "" when it is usable.
std::string parse_row_annotation(const std::vector<std::string>& fields, ItemAnnotation& annotation) {
  const std::size_t after_path = fields.size() - 1;
  std::size_t next = 1;
  if (after_path % kBoxFields == 1) {
    annotation.label = fields[next++];
  } else if (after_path % kBoxFields != 0) {
    return "expected path[,label] then groups of x1,y1,x2,y2,class; got " + std::to_string(after_path) +
           " fields after the path";
  }
  for (int box_number = 1; next < fields.size(); next += kBoxFields, ++box_number) {
    const std::string where = "box " + std::to_string(box_number);
    static constexpr const char* kCoordinateNames[] = {"x1", "y1", "x2", "y2"};
    double c[4];
    for (std::size_t k = 0; k < 4; ++k) {
      if (!parse_number(fields[next + k], c[k]))
        return where + ": " + kCoordinateNames[k] + " is not a number: \"" + fields[next + k] + "\"";
    }
    const std::string& class_name = fields[next + 4];
    if (class_name.empty()) return where + ": no class";
    if (c[0] > c[2]) return where + ": x1 > x2";
    if (c[1] > c[3]) return where + ": y1 > y2";
    const Box box{static_cast<float>(c[0]), static_cast<float>(c[1]), static_cast<float>(c[2]),
                  static_cast<float>(c[3])};
    if (box_is_empty(box)) continue;  // a zero-area box marks no pixel: dropped, as COCO's are
    annotation.objects.push_back({class_name, box});
  }
  return {};
}

class ListDataset : public Dataset {
 public:
  explicit ListDataset(const DatasetConfig& config) : Dataset(config) {
    std::error_code ec;
    if (fs::is_directory(config.root, ec)) {
      scan_folder(config.root);
    } else if (fs::is_regular_file(config.root, ec)) {
      read_csv(config.root);
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
  struct Row {
    ItemAnnotation annotation;
    std::string problem;  // why the row cannot be used; "" when it can
  };

  void scan_folder(const std::string& root) {
    for (const std::string& path : find_image_files(root))
      items_.push_back({fs::path(path).lexically_relative(root).generic_string(), path, ""});
  }

  void read_csv(const std::string& csv_path) {
    std::ifstream file(csv_path, std::ios::binary);
    if (!file) throw ConfigError("list dataset " + csv_path + " cannot be read");
    const fs::path folder = fs::path(csv_path).parent_path();
    std::string line;
    bool first_row = true;
    for (int line_number = 1; std::getline(file, line); ++line_number) {
      const std::string content = trimmed(line);
      if (content.empty() || content.front() == '#') continue;
      std::vector<std::string> fields;
      const std::string quoting_problem = split_csv_row(content, fields);
      const std::string where = "list " + csv_path + " line " + std::to_string(line_number);
      const std::string path = fields.front();
      if (first_row && quoting_problem.empty() && path == "path") {  // a header row
        first_row = false;
        continue;
      }
      first_row = false;
      if (path.empty()) throw ConfigError(where + ": no image path");

      const fs::path image = fs::path(path).is_absolute() ? fs::path(path) : folder / path;
      const std::string id = fs::path(path).lexically_normal().generic_string();
      items_.push_back({id, image.string(), csv_path});
      Row row;
      const std::string problem =
          quoting_problem.empty() ? parse_row_annotation(fields, row.annotation) : quoting_problem;
      if (!problem.empty()) {
        row.annotation = ItemAnnotation{};  // nothing of a bad row is used
        row.problem = where + ": " + problem;
      }
      has_labels_ = has_labels_ || !row.annotation.label.empty();
      if (!rows_.emplace(id, std::move(row)).second)
        throw ConfigError(where + ": '" + id + "' is listed twice");
    }
  }

  std::vector<DatasetItem> items_;
  std::unordered_map<std::string, Row> rows_;  // by id
  bool has_labels_ = false;
};

}  // namespace

std::unique_ptr<Dataset> open_list_dataset(const DatasetConfig& config) {
  return std::make_unique<ListDataset>(config);
}

}  // namespace pixab
