// The unfinished run's files beside its output (see job_files.hpp).
#include "pipeline/job_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
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

OutputLock::OutputLock(const std::string& out) : path_(out + ".lock") {
  const std::string host = this_host();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const std::string content =
          host + " " + std::to_string(::getpid()) + " " + std::to_string(std::time(nullptr)) + "\n";
      const bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
      ::close(fd);
      if (!written) throw IoError("cannot write the lock file " + path_);
      return;
    }
    if (errno != EEXIST) throw ConfigError("cannot create the lock file " + path_ + ": " + std::strerror(errno));
    std::ifstream in(path_);
    std::string holder_host;
    long holder_pid = 0;
    in >> holder_host >> holder_pid;
    const bool dead_here = holder_host == host && holder_pid > 0 && ::kill(static_cast<pid_t>(holder_pid), 0) != 0 &&
                           errno == ESRCH;
    if (!dead_here || attempt > 0) {
      throw ConfigError("output " + out + " is locked by " + (holder_host.empty() ? "?" : holder_host) +
                        " pid " + std::to_string(holder_pid) + " (" + path_ +
                        "): another run is writing it. If that run is gone (e.g. on another host), remove the "
                        "lock file and start again with --resume");
    }
    spdlog::warn("output lock {}: its process {} on this host is gone; taking it over", path_, holder_pid);
    std::filesystem::remove(path_);
  }
}

OutputLock::~OutputLock() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace pixab
