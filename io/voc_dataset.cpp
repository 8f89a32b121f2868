// PASCAL VOC's folder layout and annotation XML: a strict reader that names what is wrong, and a writer.
#include "io/voc_dataset.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include <pugixml.hpp>

#include "io/error.hpp"
#include "io/item_status.hpp"

namespace pixab {

namespace fs = std::filesystem;

namespace {

// VOC 2007 ships .jpg only; VOC-layout sets made by other tools (and the demo set) use the others.
constexpr std::array<const char*, 6> kImageExtensions = {".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"};

std::string image_path_for(const fs::path& image_dir, const std::string& id) {
  for (const char* extension : kImageExtensions) {
    const fs::path candidate = image_dir / (id + extension);
    std::error_code ignored;
    if (fs::is_regular_file(candidate, ignored)) return candidate.string();
  }
  // A missing image is that item's error when it is read, not a reason to refuse the whole list.
  return (image_dir / (id + kImageExtensions.front())).string();
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// Parses one annotation file; every failure is an InputError that names the file, so a bad annotation fails
// only its own item.
class AnnotationParser {
 public:
  explicit AnnotationParser(std::string path) : path_(std::move(path)) {}

  VocAnnotation parse() const {
    // Checked first because pugixml reports a directory as "Could not allocate memory".
    std::error_code ignored;
    const fs::file_status file = fs::status(path_, ignored);
    if (!fs::exists(file)) fail("file is missing");
    if (!fs::is_regular_file(file)) fail("is not a regular file");

    pugi::xml_document document;
    const pugi::xml_parse_result result = document.load_file(path_.c_str());
    if (result.status == pugi::status_file_not_found || result.status == pugi::status_io_error ||
        result.status == pugi::status_out_of_memory) {
      fail(std::string("cannot be read: ") + result.description());
    }
    if (!result) {
      fail(std::string("malformed XML: ") + result.description() + " at offset " +
           std::to_string(result.offset));
    }
    const pugi::xml_node root = document.child("annotation");
    if (!root) fail("no <annotation> root element");

    VocAnnotation annotation;
    annotation.folder = trimmed(root.child_value("folder"));
    annotation.filename = trimmed(root.child_value("filename"));
    const pugi::xml_node size = required_child(root, "size", "<annotation>");
    annotation.width = size_value(size, "width", /*required=*/true);
    annotation.height = size_value(size, "height", /*required=*/true);
    annotation.depth = size_value(size, "depth", /*required=*/false);

    int index = 0;
    for (const pugi::xml_node object : root.children("object")) {
      annotation.objects.push_back(parse_object(object, ++index));
    }
    return annotation;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError("annotation " + path_ + ": " + problem);
  }

  pugi::xml_node required_child(const pugi::xml_node parent, const char* name,
                                const std::string& where) const {
    const pugi::xml_node child = parent.child(name);
    if (!child) fail(where + " has no <" + name + ">");
    return child;
  }

  // Real numbers are accepted because some VOC-layout files write coordinates like "273.5".
  double number(const pugi::xml_node node, const std::string& where) const {
    const std::string text = trimmed(node.child_value());
    double value = 0;
    // from_chars, unlike strtod, does not depend on the process locale's decimal separator.
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
      fail(where + " is not a number: \"" + text + "\"");
    }
    return value;
  }

  int size_value(const pugi::xml_node size, const char* field, bool required) const {
    const pugi::xml_node node = size.child(field);
    if (!node) {
      if (required) fail(std::string("<size> has no <") + field + ">");
      return 0;
    }
    const std::string where = std::string("<size><") + field + ">";
    const double value = number(node, where);
    if (value < 0 || value != std::floor(value) || value > 1e9) {
      fail(where + " is not a non-negative integer: " + trimmed(node.child_value()));
    }
    return static_cast<int>(value);
  }

  // <difficult> and <truncated> are absent from some VOC-layout files; VOC's own files always write 0 or 1.
  bool flag(const pugi::xml_node object, const char* field, const std::string& where) const {
    const pugi::xml_node node = object.child(field);
    if (!node || trimmed(node.child_value()).empty()) return false;
    return number(node, where + " <" + field + ">") != 0;
  }

  VocObject parse_object(const pugi::xml_node object, int index) const {
    const std::string where = "object " + std::to_string(index);
    VocObject parsed;
    parsed.name = trimmed(object.child_value("name"));
    if (parsed.name.empty()) fail(where + " has no <name>");
    parsed.difficult = flag(object, "difficult", where);
    parsed.truncated = flag(object, "truncated", where);

    // Only the object's own <bndbox>: a <part> (head, hand, foot) has one of its own.
    const std::string box_where = where + " (" + parsed.name + ") <bndbox>";
    const pugi::xml_node box = required_child(object, "bndbox", where + " (" + parsed.name + ")");
    const auto coordinate = [&](const char* field) {
      return number(required_child(box, field, box_where), box_where + " <" + field + ">");
    };
    const double xmin = coordinate("xmin"), ymin = coordinate("ymin");
    const double xmax = coordinate("xmax"), ymax = coordinate("ymax");
    if (xmin > xmax) fail(box_where + " has xmin > xmax");
    if (ymin > ymax) fail(box_where + " has ymin > ymax");
    parsed.box = box_from_voc(xmin, ymin, xmax, ymax);
    return parsed;
  }

  std::string path_;
};

// Shortest text that reads back as the same float: "4" for the integer boxes of VOC and the demo set.
std::string voc_coordinate_text(float value) {
  std::array<char, 32> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  (void)error;  // 32 characters hold any float
  return std::string(buffer.data(), end);
}

void append_text_child(pugi::xml_node parent, const char* name, const std::string& text) {
  parent.append_child(name).text().set(text.c_str());
}

class VocLayoutDataset : public Dataset {
 public:
  explicit VocLayoutDataset(const DatasetConfig& config)
      : Dataset(config), include_difficult_(config.include_difficult) {
    // The id is the image's path relative to the root (results-schema.md), which stays the same wherever the
    // dataset is mounted.
    for (const auto& entry : list_voc_split(config.root, config.split)) {
      const auto id = fs::path(entry.image_path).lexically_relative(config.root).generic_string();
      items_.push_back({id, entry.image_path, entry.annotation_path});
    }
    sort_by_id(items_, config.root + ": image set '" + config.split + "'");
  }

  const std::vector<DatasetItem>& items() const override { return items_; }

  ItemAnnotation annotation(const DatasetItem& item) const override {
    VocAnnotation annotation;
    try {
      annotation = read_voc_annotation(item.annotation_path);
    } catch (const InputError& e) {
      throw ItemError(ItemStatus::kBadAnnotation, e.what());
    }
    ItemAnnotation out;
    for (const auto& object : annotation.objects) {
      if (object.difficult && !include_difficult_) continue;
      out.objects.push_back({object.name, object.box, object.difficult});
    }
    return out;
  }

  ClassMatcher class_matcher(const ModelMeta& meta) const override {
    return ClassMatcher::by_model_names(meta, {kVocClasses.begin(), kVocClasses.end()});
  }

 private:
  std::vector<DatasetItem> items_;
  bool include_difficult_;
};

}  // namespace

std::unique_ptr<Dataset> open_voc_dataset(const DatasetConfig& config) {
  return std::make_unique<VocLayoutDataset>(config);
}

std::vector<VocEntry> list_voc_split(const std::string& root, const std::string& split) {
  const fs::path list_path = fs::path(root) / "ImageSets" / "Main" / (split + ".txt");
  std::ifstream list(list_path);
  if (!list) throw ConfigError("VOC image set list " + list_path.string() + " is missing or unreadable");

  const fs::path image_dir = fs::path(root) / "JPEGImages";
  const fs::path annotation_dir = fs::path(root) / "Annotations";
  std::vector<VocEntry> entries;
  std::string line;
  while (std::getline(list, line)) {
    // The first token only: per-class lists such as aeroplane_test.txt read "000001  1".
    std::istringstream tokens(line);
    std::string id;
    if (!(tokens >> id)) continue;  // also skips blank lines and a stray CR of a Windows-written list
    entries.push_back(VocEntry{id, image_path_for(image_dir, id), (annotation_dir / (id + ".xml")).string()});
  }
  if (entries.empty()) throw ConfigError("VOC image set list " + list_path.string() + " lists no image ids");
  return entries;
}

VocAnnotation read_voc_annotation(const std::string& path) { return AnnotationParser(path).parse(); }

void write_voc_annotation(const std::string& path, const VocAnnotation& annotation) {
  pugi::xml_document document;
  pugi::xml_node root = document.append_child("annotation");
  append_text_child(root, "folder", annotation.folder);
  append_text_child(root, "filename", annotation.filename);
  append_text_child(root.append_child("source"), "database", "pixab");

  pugi::xml_node size = root.append_child("size");
  append_text_child(size, "width", std::to_string(annotation.width));
  append_text_child(size, "height", std::to_string(annotation.height));
  append_text_child(size, "depth", std::to_string(annotation.depth));
  append_text_child(root, "segmented", "0");

  for (const VocObject& object : annotation.objects) {
    pugi::xml_node node = root.append_child("object");
    append_text_child(node, "name", object.name);
    append_text_child(node, "pose", "Unspecified");
    append_text_child(node, "truncated", object.truncated ? "1" : "0");
    append_text_child(node, "difficult", object.difficult ? "1" : "0");
    // Back to VOC's 1-based inclusive pixels: the inverse of box_from_voc.
    pugi::xml_node box = node.append_child("bndbox");
    append_text_child(box, "xmin", voc_coordinate_text(object.box.x1 + 1.0f));
    append_text_child(box, "ymin", voc_coordinate_text(object.box.y1 + 1.0f));
    append_text_child(box, "xmax", voc_coordinate_text(object.box.x2));
    append_text_child(box, "ymax", voc_coordinate_text(object.box.y2));
  }

  // VOC's own files have no XML declaration and indent with tabs.
  if (!document.save_file(path.c_str(), "\t", pugi::format_indent | pugi::format_no_declaration)) {
    throw IoError("cannot write VOC annotation " + path);
  }
}

}  // namespace pixab
