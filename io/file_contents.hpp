// A whole file read into memory, for the parsers that take their input as text (annotation XML and JSON, CSV
// lists).
#pragma once

#include <optional>
#include <string>

namespace pixab {

// The file's bytes, or nullopt when it cannot be opened; callers name the problem in their own terms. A
// folder opens and reads as empty: callers that must tell it apart check it first.
std::optional<std::string> read_file_contents(const std::string& path);

}  // namespace pixab
