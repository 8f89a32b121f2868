// Reads this process's memory figures from /proc/self/status (Linux), for the run's log and `pixab bench`.
#pragma once

#include <string>

namespace pixab {

// A field of /proc/self/status in MiB (VmRSS: now, VmHWM: the peak since start or the last reset); 0 if
// unreadable.
double status_mb(const std::string& field);

}  // namespace pixab
