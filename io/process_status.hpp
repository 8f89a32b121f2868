// This process's resources (Linux): its memory figures from /proc/self/status, for the run's log and `pixab
// bench`, and the CPUs it may run on, from which the default thread counts follow.
#pragma once

#include <string>
#include <vector>

namespace pixab {

// A field of /proc/self/status in MiB (VmRSS: now, VmHWM: the peak since start or the last reset); 0 if
// unreadable.
double status_mb(const std::string& field);

// The CPUs this process may run on (sched_getaffinity: what Slurm's allocation, `mpirun --bind-to` or
// `taskset` leave it), in increasing order; every CPU the machine reports when the call fails.
std::vector<int> allowed_cpus();

}  // namespace pixab
