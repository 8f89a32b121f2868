// The `pixab` command line: subcommands, exit codes, and the top-level error handling.
#pragma once

namespace pixab {

// Parses the command line and runs the chosen subcommand; returns the process exit code (see run.hpp).
int main_cli(int argc, char** argv);

}  // namespace pixab
