// CSV lists of a user's own images: the forgiving parser, where a bad row fails only its own item.
#include "io/list_csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <unordered_set>
#include <utility>

#include "io/error.hpp"

namespace pixab {

namespace {

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
    const std::optional<Box> box = box_from_edges(c[0], c[1], c[2], c[3]);
    if (!box) return where + ": a coordinate is out of range";
    if (box_is_empty(*box)) continue;  // a zero-area box marks no pixel: dropped, as COCO's are
    annotation.objects.push_back({class_name, *box});
  }
  return {};
}

}  // namespace

std::vector<ListRow> parse_list_csv(std::string_view text, const std::string& csv_path) {
  std::vector<ListRow> rows;
  std::unordered_set<std::string> ids;
  bool first_row = true;
  int line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t newline = std::min(text.find('\n', start), text.size());
    const std::string content = trimmed(std::string(text.substr(start, newline - start)));
    start = newline + 1;
    ++line_number;
    if (content.empty() || content.front() == '#') continue;
    std::vector<std::string> fields;
    const std::string quoting_problem = split_csv_row(content, fields);
    const std::string where = "list " + csv_path + " line " + std::to_string(line_number);
    ListRow row;
    row.path = fields.front();
    if (first_row && quoting_problem.empty() && row.path == "path") {  // a header row
      first_row = false;
      continue;
    }
    first_row = false;
    if (row.path.empty()) throw ConfigError(where + ": no image path");

    row.id = std::filesystem::path(row.path).lexically_normal().generic_string();
    if (!ids.insert(row.id).second) throw ConfigError(where + ": '" + row.id + "' is listed twice");
    const std::string problem =
        quoting_problem.empty() ? parse_row_annotation(fields, row.annotation) : quoting_problem;
    if (!problem.empty()) {
      row.annotation = ItemAnnotation{};  // nothing of a bad row is used
      row.problem = where + ": " + problem;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pixab
