// The unfinished run's files beside its output (see job_files.hpp).
#include "pipeline/job_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/error.hpp"
#include "io/file_contents.hpp"

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
  const std::string temporary = state_path() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream outfile(temporary);
    outfile << j.dump(2) << "\n";
    if (!outfile.flush()) throw IoError("cannot write " + temporary);
  }
  fsync_path(temporary, O_RDONLY);
  fs::rename(temporary, state_path());
  fsync_path(parts_dir(), O_RDONLY | O_DIRECTORY);
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

// The lock's content: "host pid time".
std::string lock_content(const std::string& host) {
  return host + " " + std::to_string(::getpid()) + " " + std::to_string(std::time(nullptr)) + "\n";
}

struct LockHolder {
  std::string host;
  long pid = 0;
};

LockHolder read_holder(int fd) {
  std::string text(256, '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  LockHolder holder;
  std::istringstream(text) >> holder.host >> holder.pid;
  return holder;
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

}  // namespace

// A new lock is created exclusively and written in place. A stale one is taken over without ever removing it:
// takers serialise on an flock of the lock file itself, and each re-reads the holder under that flock, so the
// first rewrites it with its own "host pid time" and every later taker finds a live holder and is refused.
// Removing and recreating it instead would let two takers that both saw it stale both proceed.
OutputLock::OutputLock(const std::string& out) : path_(out + ".lock") {
  const std::string host = this_host();
  const auto refuse = [&](const LockHolder& holder) {
    return ConfigError("output " + out + " is locked by " + (holder.host.empty() ? "?" : holder.host) +
                       " pid " + std::to_string(holder.pid) + " (" + path_ +
                       "): another run is writing it. If that run is gone (e.g. on another host), remove the "
                       "lock file and start again with --resume");
  };
  // Each pass either creates the lock, takes a stale one over, or refuses; it starts again only when the lock
  // it found was removed (its run ended) before it could look inside.
  for (;;) {
    const int created = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (created >= 0) {
      const std::string content = lock_content(host);
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
    const bool dead_here = holder.host == host && holder.pid > 0 &&
                           ::kill(static_cast<pid_t>(holder.pid), 0) != 0 && errno == ESRCH;
    if (!dead_here) throw refuse(holder);
    const std::string content = lock_content(host);
    if (::ftruncate(lock_file.fd(), 0) != 0 ||
        ::pwrite(lock_file.fd(), content.data(), content.size(), 0) != static_cast<ssize_t>(content.size()) ||
        ::fsync(lock_file.fd()) != 0) {
      throw IoError("cannot write the lock file " + path_ + ": " + std::strerror(errno));
    }
    const LockHolder now = read_holder(lock_file.fd());  // verify: the file says this process holds it
    if (now.host != host || now.pid != static_cast<long>(::getpid())) throw refuse(now);
    spdlog::warn("output lock {}: its process {} on this host is gone; taking it over", path_, holder.pid);
    return;
  }
}

OutputLock::~OutputLock() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace pixab
