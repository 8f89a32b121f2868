// Logging set-up: spdlog to stderr with the MPI rank in every line (stdout is kept for reports).
#pragma once

namespace pixab {

// verbose: debug level. Ranks other than 0 log warnings and errors only, unless verbose.
void setup_logging(int rank, bool verbose);

}  // namespace pixab
