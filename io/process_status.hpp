// What Linux says of processes: this process's memory figures from /proc/self/status, for the run's log and
// `pixab bench`, the CPUs it may run on, from which the default thread counts follow, and any process's state and
// start time, by which the output lock tells a live holder from a gone or reused pid.
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

// What /proc/<pid>/stat says of a process: its state (field 3; 'Z' for a zombie, which is gone but not yet
// reaped) and its start time (field 22, clock ticks since boot), which with the pid names one process for good:
// a pid reused by a later process has another start time. Empty (state 0) when there is no such process or no
// /proc.
struct ProcessStat {
  char state = 0;
  unsigned long long start = 0;
};
ProcessStat process_stat(long pid);

}  // namespace pixab
