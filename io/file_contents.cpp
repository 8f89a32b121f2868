// Whole files in and out: read into memory for the parsers (so that the fuzz targets in tests/fuzz/ feed them
// the same way), and the fsync of an atomic write.
#include "io/file_contents.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "io/error.hpp"

namespace pixab {

std::optional<std::string> read_file_contents(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  return std::string{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void fsync_path(const std::string& path, int open_flags) {
  const int descriptor = ::open(path.c_str(), open_flags | O_CLOEXEC);
  if (descriptor < 0) throw IoError("cannot open '" + path + "' to sync it to disk: " + std::strerror(errno));
  const int sync_result = ::fsync(descriptor);
  const int sync_errno = errno;
  ::close(descriptor);
  if (sync_result != 0) throw IoError("cannot sync '" + path + "' to disk: " + std::strerror(sync_errno));
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text;
    if (!file.flush()) throw IoError("cannot write " + temporary);
  }
  fsync_path(temporary, O_RDONLY);
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) throw IoError("cannot rename " + temporary + " to " + path + ": " + error.message());
  const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
  fsync_path(folder.string(), O_RDONLY | O_DIRECTORY);
}

}  // namespace pixab
