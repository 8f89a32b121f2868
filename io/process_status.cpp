// /proc/self/status fields, in MiB.
#include "io/process_status.hpp"

#include <fstream>

namespace pixab {

double status_mb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;  // "N kB"
  }
  return 0;
}

}  // namespace pixab
