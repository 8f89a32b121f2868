// The unfinished run's files beside its output (see job_files.hpp).
#include "pipeline/job_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "io/error.hpp"
#include "io/file_contents.hpp"
#include "io/process_status.hpp"
#include "pipeline/slurm_job.hpp"

namespace pixab {

namespace fs = std::filesystem;

namespace {

std::string this_host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

}  // namespace

JobFiles::JobFiles(std::string out) : out_(std::move(out)) {}

std::string JobFiles::chunk_path(std::size_t chunk) const {
  char name[32];
  std::snprintf(name, sizeof name, "chunk-%07zu.h5", chunk);
  return parts_dir() + "/" + name;
}

bool JobFiles::has_state() const { return fs::exists(state_path()); }

JobState JobFiles::read_state() const {
  std::ifstream in(state_path());
  if (!in) throw IoError("cannot read " + state_path());
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    JobState state;
    state.identity.config_sha256 = j.at("config_sha256").get<std::string>();
    state.identity.model_sha256 = j.at("model_sha256").get<std::string>();
    state.identity.manifest_sha256 = j.at("manifest_sha256").get<std::string>();
    state.identity.items = j.at("items").get<std::uint64_t>();
    state.identity.chunk_size = j.at("chunk_size").get<std::uint64_t>();
    state.attempts = j.at("attempts").get<std::vector<std::string>>();
    return state;
  } catch (const nlohmann::json::exception& e) {
    throw IoError(state_path() + " is not a pixab job file: " + e.what());
  }
}

void JobFiles::write_state(const JobState& state) const {
  fs::create_directories(parts_dir());
  const nlohmann::json j{{"config_sha256", state.identity.config_sha256},
                         {"model_sha256", state.identity.model_sha256},
                         {"manifest_sha256", state.identity.manifest_sha256},
                         {"items", state.identity.items},
                         {"chunk_size", state.identity.chunk_size},
                         {"attempts", state.attempts}};
  write_file_atomically(state_path(), j.dump(2) + "\n");
}

std::vector<bool> JobFiles::committed_chunks(std::size_t count) const {
  std::vector<bool> done(count, false);
  for (std::size_t c = 0; c < count; ++c) done[c] = fs::exists(chunk_path(c));
  return done;
}

void JobFiles::remove_parts() const {
  std::error_code ec;
  fs::remove_all(parts_dir(), ec);
  if (ec) throw IoError("cannot remove " + parts_dir() + ": " + ec.message());
}

std::vector<std::string> identity_differences(const JobIdentity& recorded, const JobIdentity& now) {
  std::vector<std::string> differences;
  if (recorded.config_sha256 != now.config_sha256) differences.push_back("config");
  if (recorded.model_sha256 != now.model_sha256) differences.push_back("model file");
  if (recorded.manifest_sha256 != now.manifest_sha256 || recorded.items != now.items)
    differences.push_back("manifest (the item list)");
  if (recorded.chunk_size != now.chunk_size) differences.push_back("chunk_size");
  return differences;
}

namespace {

struct LockHolder {
  std::string host;
  long pid = 0;
  unsigned long long start = 0;  // 0: not recorded (a lock of an older pixab)
  std::string slurm_job;         // empty outside Slurm
  std::string slurm_cluster;
  int slurm_restart = -1;
};

// The lock's content, one line: "host pid time start=<ticks>[ slurm_job=<id> slurm_restart=<n>
// slurm_cluster=<name>]".
std::string lock_content(const std::string& host, const SlurmJob& slurm) {
  std::string text = host + " " + std::to_string(::getpid()) + " " + std::to_string(std::time(nullptr)) +
                     " start=" + std::to_string(process_stat(::getpid()).start);
  if (slurm.present())
    text += " slurm_job=" + slurm.job_id + " slurm_restart=" + std::to_string(slurm.restart_count) +
            " slurm_cluster=" + (slurm.cluster.empty() ? "-" : slurm.cluster);
  return text + "\n";
}

LockHolder read_holder(int fd) {
  std::string text(512, '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  LockHolder holder;
  std::istringstream line(text);
  std::string time;
  line >> holder.host >> holder.pid >> time;
  for (std::string field; line >> field;) {
    const auto equals = field.find('=');
    const std::string key = field.substr(0, equals), value = field.substr(equals + 1);
    try {
      if (key == "start") holder.start = std::stoull(value);
      if (key == "slurm_job") holder.slurm_job = value;
      if (key == "slurm_restart") holder.slurm_restart = std::stoi(value);
      if (key == "slurm_cluster") holder.slurm_cluster = value;
    } catch (const std::exception&) {  // an unreadable field says nothing
    }
  }
  return holder;
}

// Whether the holder's process still runs on this host: its pid exists, is not a zombie and, where the lock
// recorded it, has the same start time.
bool holder_alive_here(const LockHolder& holder) {
  if (holder.pid <= 0) return false;
  if (::kill(static_cast<pid_t>(holder.pid), 0) != 0 && errno == ESRCH) return false;
  const ProcessStat stat = process_stat(holder.pid);
  if (stat.state == 0) return true;  // no /proc to look in: the pid exists
  return stat.state != 'Z' && stat.state != 'X' && (holder.start == 0 || stat.start == holder.start);
}

// Whether the path still names the file open as `fd` (not removed or replaced since it was opened).
bool same_file(const std::string& path, int fd) {
  struct stat by_path = {};
  struct stat by_fd = {};
  return ::stat(path.c_str(), &by_path) == 0 && ::fstat(fd, &by_fd) == 0 && by_path.st_dev == by_fd.st_dev &&
         by_path.st_ino == by_fd.st_ino;
}

// Holds flock(LOCK_EX) on a file descriptor, closing it at the end.
class FlockedFile {
 public:
  explicit FlockedFile(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const int error = errno;
        ::close(fd_);
        throw IoError(std::string("cannot flock the lock file: ") + std::strerror(error));
      }
    }
  }
  ~FlockedFile() { ::close(fd_); }  // closing releases the flock
  FlockedFile(const FlockedFile&) = delete;
  FlockedFile& operator=(const FlockedFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// What a claimant does with an existing lock.
enum class LockVerdict {
  kTakeOverStale,     // its process is gone, here
  kTakeOverRequeued,  // held by an earlier start of this requeued Slurm job, from any host
  kWait,              // a live holder here, and the claimant may wait for it
  kRefuse,
};

}  // namespace

// A new lock is created exclusively and written in place. A stale one is taken over without ever removing it:
// takers serialise on an flock of the lock file itself, and each re-reads the holder under that flock, so the
// first rewrites it with its own line and every later taker finds a live holder and is refused.
// Removing and recreating it instead would let two takers that both saw it stale both proceed.
OutputLock::OutputLock(const std::string& out, std::chrono::seconds wait_for_live_holder)
    : path_(out + ".lock") {
  const std::string host = this_host();
  const SlurmJob slurm = slurm_job_from_environment();
  const auto waited_since = std::chrono::steady_clock::now();
  const auto deadline = waited_since + wait_for_live_holder;
  auto next_note = waited_since;
  const auto refuse = [&](const LockHolder& holder) {
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - waited_since).count();
    return ConfigError("output " + out + " is locked by " + (holder.host.empty() ? "?" : holder.host) +
                       " pid " + std::to_string(holder.pid) + " (" + path_ + "): another run is writing it" +
                       (waited >= 1 ? fmt::format(" (waited {:.0f} s for it to end)", waited) : std::string()) +
                       ". If that run is gone (e.g. on another host), remove the lock file and start again "
                       "with --resume");
  };
  const auto verdict = [&](const LockHolder& holder) {
    if (holder.host == host && !holder_alive_here(holder)) return LockVerdict::kTakeOverStale;
    if (slurm.present() && holder.slurm_job == slurm.job_id &&
        holder.slurm_cluster == (slurm.cluster.empty() ? "-" : slurm.cluster) && holder.slurm_restart >= 0 &&
        holder.slurm_restart < slurm.restart_count)
      return LockVerdict::kTakeOverRequeued;
    if (holder.host == host && std::chrono::steady_clock::now() < deadline) return LockVerdict::kWait;
    return LockVerdict::kRefuse;
  };
  // Each pass creates the lock, takes one over, refuses, or (waiting) looks again a little later; it also
  // starts again when the lock it found was removed (its run ended) before it could look inside.
  for (;; std::this_thread::sleep_for(std::chrono::milliseconds(100))) {
    const int created = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (created >= 0) {
      const std::string content = lock_content(host, slurm);
      const bool written =
          ::write(created, content.data(), content.size()) == static_cast<ssize_t>(content.size());
      ::close(created);
      if (!written) throw IoError("cannot write the lock file " + path_);
      return;
    }
    if (errno != EEXIST) throw ConfigError("cannot create the lock file " + path_ + ": " + std::strerror(errno));
    const int existing = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (existing < 0) {
      if (errno == ENOENT) continue;  // removed in between: its run ended
      throw ConfigError("cannot open the lock file " + path_ + ": " + std::strerror(errno));
    }
    const FlockedFile lock_file(existing);
    if (!same_file(path_, lock_file.fd())) continue;  // removed or replaced while we waited for the flock
    const LockHolder holder = read_holder(lock_file.fd());
    const LockVerdict decision = verdict(holder);
    if (decision == LockVerdict::kRefuse) throw refuse(holder);
    if (decision == LockVerdict::kWait) {
      if (std::chrono::steady_clock::now() >= next_note) {
        spdlog::info("output lock {}: waiting up to {} s for pid {} on this host (a run of this output) to end",
                     path_, wait_for_live_holder.count(), holder.pid);
        next_note += std::chrono::seconds(10);
      }
      continue;
    }
    const std::string content = lock_content(host, slurm);
    if (::ftruncate(lock_file.fd(), 0) != 0 ||
        ::pwrite(lock_file.fd(), content.data(), content.size(), 0) != static_cast<ssize_t>(content.size()) ||
        ::fsync(lock_file.fd()) != 0) {
      throw IoError("cannot write the lock file " + path_ + ": " + std::strerror(errno));
    }
    const LockHolder now = read_holder(lock_file.fd());  // verify: the file says this process holds it
    if (now.host != host || now.pid != static_cast<long>(::getpid())) throw refuse(now);
    if (decision == LockVerdict::kTakeOverStale) {
      spdlog::warn("output lock {}: its process {} on this host is gone; taking it over", path_, holder.pid);
    } else {
      spdlog::warn("output lock {}: held by start {} of this Slurm job {} ({} pid {}), now requeued as start {}; "
                   "taking it over",
                   path_, holder.slurm_restart, slurm.job_id, holder.host, holder.pid, slurm.restart_count);
    }
    return;
  }
}

OutputLock::~OutputLock() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace pixab
