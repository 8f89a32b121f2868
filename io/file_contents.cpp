// Reading a whole file: the parsers work on memory so that the fuzz targets (tests/fuzz/) feed them the same
// way.
#include "io/file_contents.hpp"

#include <fstream>
#include <iterator>

namespace pixab {

std::optional<std::string> read_file_contents(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  return std::string{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace pixab
