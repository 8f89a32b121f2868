// Logging set-up: spdlog to stderr with the MPI rank in every line (stdout is kept for reports).
#pragma once

#include <string>

namespace pixab {

// verbose: debug level. Ranks other than 0 log warnings and errors to the console only, unless verbose.
// log_dir (optional): every rank also writes its whole log (debug level) to <log_dir>/rank-<rank>.log.
void setup_logging(int rank, bool verbose, const std::string& log_dir = "");

}  // namespace pixab
