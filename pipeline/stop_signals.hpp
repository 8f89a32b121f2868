// SIGUSR1 and SIGTERM (Slurm's warning before the time limit, preemption, scancel) as a request to stop: the
// handler only sets a flag, which the run reads before each batch and each model pass.
#pragma once

namespace pixab {

// Installs the handlers (idempotent).
void install_stop_signal_handlers();

// The signal that asked to stop, or 0.
int stop_signal_received();

}  // namespace pixab
