// PASCAL VOC's annotation XML: a strict parser that names what is wrong, and the writer of the demo set's
// files.
#include "io/voc_annotation.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include <pugixml.hpp>

#include "io/error.hpp"
#include "io/item_status.hpp"
#include "io/file_contents.hpp"

namespace pixab {

namespace {

// Every failure names the file, so that a bad annotation fails only its own item.
[[noreturn]] void fail_annotation(const std::string& path, const std::string& problem) {
  throw InputError("annotation " + path + ": " + problem);
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

class AnnotationParser {
 public:
  explicit AnnotationParser(std::string path) : path_(std::move(path)) {}

  VocAnnotation parse(std::string_view xml) const {
    pugi::xml_document document;
    const pugi::xml_parse_result result = document.load_buffer(xml.data(), xml.size());
    if (result.status == pugi::status_out_of_memory)
      fail(std::string("cannot be read: ") + result.description());
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
  [[noreturn]] void fail(const std::string& problem) const { fail_annotation(path_, problem); }

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
    const std::optional<Box> box_edges = box_from_voc(xmin, ymin, xmax, ymax);
    if (!box_edges) fail(box_where + " has a coordinate out of range");
    parsed.box = *box_edges;
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

}  // namespace

VocAnnotation parse_voc_annotation(std::string_view xml, const std::string& path) {
  return AnnotationParser(path).parse(xml);
}

VocAnnotation read_voc_annotation(const std::string& path) {
  // Told apart from malformed XML: a folder would read as an empty document.
  std::error_code ignored;
  const std::filesystem::file_status file = std::filesystem::status(path, ignored);
  if (!std::filesystem::exists(file)) fail_annotation(path, "file is missing");
  if (!std::filesystem::is_regular_file(file)) fail_annotation(path, "is not a regular file");
  const std::optional<std::string> xml = read_file_contents(path);
  if (!xml) fail_annotation(path, "cannot be read");
  return parse_voc_annotation(*xml, path);
}

VocAnnotation read_item_voc_annotation(const std::string& path) {
  try {
    return read_voc_annotation(path);
  } catch (const InputError& e) {
    throw ItemError(ItemStatus::kBadAnnotation, e.what());
  }
}

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
