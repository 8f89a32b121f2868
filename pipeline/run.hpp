// `pixab run`: the explanation job over a dataset, written to one HDF5 results file.
#pragma once

#include <string>

#include "pipeline/cli_config.hpp"

namespace pixab {

// Exit codes (README): 0 all items ok, 1 usage/config error, 2 finished with item errors, 3 stopped by signal
// (resumable), 4 internal error.
enum ExitCode : int { kExitOk = 0, kExitConfig = 1, kExitItemErrors = 2, kExitSignal = 3, kExitInternal = 4 };

// Runs the job; throws ConfigError/ModelError before any work for bad settings. Returns kExitOk or
// kExitItemErrors.
int run_job(const RunConfig& config, const std::string& effective_config);

}  // namespace pixab
