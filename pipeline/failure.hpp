// What an exception that reached the top of a subcommand means for the user: its exit code and its message.
// main_cli and the run command both map through here, so that a bug is never reported as a user error.
#pragma once

#include <exception>
#include <string>

#include "pipeline/run.hpp"

namespace pixab {

// kOneShot: report, render, explain, the demo builders, bench; a pixab::Error there is about the input the
// user gave. kJob: `pixab run`; an IoError or InputError that stops the job is the job failing (exit 4).
enum class FailureContext { kOneShot, kJob };

struct Failure {
  ExitCode code = kExitInternal;
  std::string message;            // one line to print; empty for a JobRefused on ranks other than 0
  bool every_rank_knows = false;  // JobRefused: every rank of the job raised it, no MPI_Abort needed
};

// The mapping (README, exit codes): JobRefused, ConfigError and ModelError are usage/config errors (1); other
// pixab::Error subclasses are 1 in a one-shot command and 4 in a job; anything else (std::logic_error,
// std::out_of_range, std::bad_alloc, c10::Error, a thrown non-exception) is an internal error (4), its
// message prefixed "internal error: ".
Failure classify_failure(const std::exception_ptr& error, FailureContext context);

}  // namespace pixab
