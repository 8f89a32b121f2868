// What a run keeps beside its output while it is unfinished: `<out>.parts/` with the job's identity and
// attempts (job.json) and one HDF5 file per committed chunk; and the output lock `<out>.lock`. A chunk is
// done exactly when its file exists under its final name.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pixab {

// What a resume must find unchanged, and the history of starts.
struct JobIdentity {
  std::string config_sha256, model_sha256, manifest_sha256;
  std::uint64_t items = 0, chunk_size = 0;
};

struct JobState {
  JobIdentity identity;
  std::vector<std::string> attempts;  // one line per start or resume
};

class JobFiles {
 public:
  explicit JobFiles(std::string out);

  const std::string& out() const { return out_; }
  std::string parts_dir() const { return out_ + ".parts"; }
  std::string state_path() const { return parts_dir() + "/job.json"; }
  std::string chunk_path(std::size_t chunk) const;

  bool has_state() const;
  JobState read_state() const;                    // IoError naming the file when unreadable
  void write_state(const JobState& state) const;  // atomic: temp, fsync, rename
  // Which of the `count` chunks have their file.
  std::vector<bool> committed_chunks(std::size_t count) const;
  // Removes the chunk files, temporary files left by killed writers, job.json and the folder.
  void remove_parts() const;

 private:
  std::string out_;
};

// Which fields of two identities differ ("config", "model", "manifest", ...), empty when none.
std::vector<std::string> identity_differences(const JobIdentity& recorded, const JobIdentity& now);

// `<out>.lock`, created exclusively, holding "host pid time start=<ticks>" and, under Slurm, the job id,
// restart count and cluster name. A lock whose process is gone on this host (no such pid, a zombie, or a pid
// with another start time) is stale; so is one held by an earlier start of this same Slurm job, from any host
// (a requeued job after a node failure). Either is taken over with a warning, atomically (rewritten in place
// under an flock of the file, so that of several processes racing for one stale lock exactly one wins). A
// live holder on this host is waited for, up to `wait_for_live_holder` (a resume right after a failed run
// whose rank 0 is still shutting down), with a log line every 10 s. Any other existing lock is refused with a
// ConfigError naming its holder (a lock from another host cannot be checked: the message says how to remove
// it).
class OutputLock {
 public:
  explicit OutputLock(const std::string& out,
                      std::chrono::seconds wait_for_live_holder = std::chrono::seconds(0));
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string path_;
};

}  // namespace pixab
