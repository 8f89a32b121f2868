// SHA-256 digests (OpenSSL) for provenance: model files, configs and manifests.
#pragma once

#include <string>

namespace pixab {

// Lower-case hex digest of a byte string.
std::string sha256_hex(const std::string& bytes);

// Lower-case hex digest of a file's content; IoError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace pixab
