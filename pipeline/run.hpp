// `pixab run`: the explanation job over a dataset, written to one HDF5 results file.
#pragma once

#include <functional>
#include <string>

#include "io/error.hpp"
#include "pipeline/cli_config.hpp"

namespace pixab {

// Exit codes (README): 0 all items ok, 1 usage/config error, 2 finished with item errors, 3 stopped by signal
// (resumable), 4 internal error.
enum ExitCode : int { kExitOk = 0, kExitConfig = 1, kExitItemErrors = 2, kExitSignal = 3, kExitInternal = 4 };

// Rank 0 refused the job (output locked, a changed config on resume, ...) and every rank knows: thrown on all
// ranks, with the message on rank 0 only (empty elsewhere).
class JobRefused : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// Collective over MPI_COMM_WORLD: runs `work` on rank 0 only. A ConfigError or ModelError there (a refusal
// before any work) is thrown as JobRefused on every rank; any other exception leaves rank 0 alone, whose
// failure ends the job (MPI_Abort).
void on_rank0_or_refused(const std::function<void()>& work);

// Runs the job on every rank of MPI_COMM_WORLD (one rank without mpirun); throws ConfigError/ModelError before
// any work for bad settings. Returns kExitOk, kExitItemErrors or kExitSignal (stopped, resumable) on every
// rank; kExitInternal when the merge failed.
int run_job(const RunConfig& config, const std::string& effective_config);

}  // namespace pixab
