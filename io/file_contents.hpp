// Whole files in and durably out: a file read into memory for the parsers that take their input as text
// (annotation XML and JSON, CSV lists), and the fsync that every atomic write (temp, fsync, rename) needs.
#pragma once

#include <optional>
#include <string>

namespace pixab {

// The file's bytes, or nullopt when it cannot be opened; callers name the problem in their own terms. A
// folder opens and reads as empty: callers that must tell it apart check it first.
std::optional<std::string> read_file_contents(const std::string& path);

// fsync of a file (open_flags O_RDONLY) or a folder (O_RDONLY | O_DIRECTORY, after a rename in it). IoError
// naming the path on failure.
void fsync_path(const std::string& path, int open_flags);

// Writes `text` to `path` atomically (a temporary file beside it, fsync, rename, fsync of the folder): a reader
// sees the old file or the whole new one. IoError naming the path on failure.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace pixab
