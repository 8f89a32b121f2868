// The list dataset's CSV (path[,label][,x1,y1,x2,y2,class]... per row), parsed from memory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "io/class_matcher.hpp"

namespace pixab {

struct ListRow {
  std::string path;  // as written: relative to the CSV's folder, or absolute
  std::string id;    // the path, lexically normalised: the item's id
  // The label and the boxes (pixel edges, zero-area ones left out); empty for a bad row.
  ItemAnnotation annotation;
  std::string problem;  // "list <csv> line <n>: ..." when the row cannot be used; "" when it can
};

// The rows of a CSV file's text, in file order; blank lines, '#' comments and a first row starting with the
// field "path" (a header) are skipped. Fields are RFC 4180 (double quotes, "" for a quote). A row that cannot
// be used keeps its path and gets a problem, so that it fails only its own item. ConfigError naming
// `csv_path` and the line for a row without a path or a path listed twice. The one parser: the `list` dataset
// and the fuzz target tests/fuzz/fuzz_list_csv.cpp both call it.
std::vector<ListRow> parse_list_csv(std::string_view text, const std::string& csv_path);

}  // namespace pixab
