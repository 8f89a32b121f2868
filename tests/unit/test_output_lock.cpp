// The output lock (G8): a live holder refuses others; a stale lock (its process gone on this host, or its pid
// now another process's) is taken over by exactly one of the processes racing for it, the others being
// refused as for a live holder. A resume waits, bounded, for a live holder on this host; a requeued Slurm job
// takes over the lock of its own earlier start from any host.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io/error.hpp"
#include "pipeline/job_files.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

// A pid that belonged to a process of this host and is gone: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

void write_stale_lock(const std::string& out) {
  std::ofstream(out + ".lock") << host_name() << " " << dead_pid() << " 0\n";
}

TEST(OutputLock, ALiveHolderIsRefusedAndTheLockIsRemovedAfterwards) {
  test::TempDir dir("lock-live");
  const std::string out = dir.file("out.h5");
  {
    const OutputLock held(out);
    try {
      OutputLock second(out);
      ADD_FAILURE() << "a second lock was granted";
    } catch (const ConfigError& e) {
      EXPECT_NE(
          std::string(e.what()).find("is locked by " + host_name() + " pid " + std::to_string(getpid())),
          std::string::npos)
          << e.what();
    }
  }
  EXPECT_FALSE(std::filesystem::exists(out + ".lock"));
  EXPECT_NO_THROW(OutputLock again(out));
}

TEST(OutputLock, AStaleLockIsTakenOver) {
  test::TempDir dir("lock-stale");
  const std::string out = dir.file("out.h5");
  write_stale_lock(out);
  const OutputLock taken(out);
  std::ifstream in(out + ".lock");
  std::string host;
  long pid = 0;
  in >> host >> pid;
  EXPECT_EQ(host, host_name());
  EXPECT_EQ(pid, static_cast<long>(getpid()));
}

std::string lock_text(const std::string& out) {
  std::ifstream in(out + ".lock");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The Slurm variables of a job's task for the lifetime of the object (removed afterwards).
class SlurmEnvironment {
 public:
  SlurmEnvironment(const std::string& job_id, int restart_count, const std::string& cluster = "gpu-cluster") {
    setenv("SLURM_JOB_ID", job_id.c_str(), 1);
    setenv("SLURM_RESTART_COUNT", std::to_string(restart_count).c_str(), 1);
    setenv("SLURM_CLUSTER_NAME", cluster.c_str(), 1);
  }
  ~SlurmEnvironment() {
    unsetenv("SLURM_JOB_ID");
    unsetenv("SLURM_RESTART_COUNT");
    unsetenv("SLURM_CLUSTER_NAME");
  }
  SlurmEnvironment(const SlurmEnvironment&) = delete;
  SlurmEnvironment& operator=(const SlurmEnvironment&) = delete;
};

bool refused(const std::string& out, std::chrono::seconds wait = std::chrono::seconds(0)) {
  try {
    const OutputLock lock(out, wait);
    return false;
  } catch (const ConfigError& e) {
    return std::string(e.what()).find("is locked by") != std::string::npos;
  }
}

TEST(OutputLock, ARequeuedSlurmJobTakesOverTheLockOfItsEarlierStartFromAnyHost) {
  test::TempDir dir("lock-requeue");
  const std::string out = dir.file("out.h5");
  std::ofstream(out + ".lock")
      << "node-17 4242 0 start=99 slurm_job=777 slurm_restart=0 slurm_cluster=gpu-cluster\n";
  {
    const SlurmEnvironment requeued("777", 1);
    const OutputLock taken(out);
    EXPECT_NE(lock_text(out).find(host_name() + " " + std::to_string(getpid()) + " "), std::string::npos);
    EXPECT_NE(lock_text(out).find("slurm_job=777 slurm_restart=1 slurm_cluster=gpu-cluster"),
              std::string::npos)
        << lock_text(out);
  }
  EXPECT_FALSE(std::filesystem::exists(out + ".lock"));
}

TEST(OutputLock, AnotherJobOrTheSameStartOfAJobOrAnotherClustersJobIsRefused) {
  test::TempDir dir("lock-other-job");
  const std::string out = dir.file("out.h5");
  std::ofstream(out + ".lock")
      << "node-17 4242 0 start=99 slurm_job=777 slurm_restart=1 slurm_cluster=gpu-cluster\n";
  {
    const SlurmEnvironment same_start("777", 1);
    EXPECT_TRUE(refused(out));
  }
  {
    const SlurmEnvironment other_job("778", 5);
    EXPECT_TRUE(refused(out));
  }
  {
    const SlurmEnvironment same_id_on_another_cluster("777", 5, "cpu-cluster");
    EXPECT_TRUE(refused(out));
  }
  EXPECT_TRUE(refused(out)) << "outside Slurm, a lock of another host is never taken";
  EXPECT_TRUE(std::filesystem::exists(out + ".lock"));
}

TEST(OutputLock, APidNowUsedByAnotherProcessIsStale) {
  test::TempDir dir("lock-pid-reuse");
  const std::string out = dir.file("out.h5");
  // This process is alive, but it started at another time than the lock says: the pid was reused.
  std::ofstream(out + ".lock") << host_name() << " " << getpid() << " 0 start=1\n";
  EXPECT_NO_THROW(OutputLock taken(out));
}

// A holder in a child process: takes the lock, tells the parent, holds it for `hold` and then ends, releasing
// it (or, with `killed`, dies holding it, as a rank killed with -9).
pid_t holder_process(const std::string& out, std::chrono::milliseconds hold, bool killed) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  const pid_t child = fork();
  if (child == 0) {
    close(ready[0]);
    {
      const OutputLock lock(out);
      if (write(ready[1], "x", 1) != 1) _exit(2);
      std::this_thread::sleep_for(hold);
      if (killed) _exit(0);  // no destructor: the lock file stays behind
    }
    _exit(0);
  }
  close(ready[1]);
  char byte = 0;
  if (read(ready[0], &byte, 1) != 1) ADD_FAILURE() << "the holder never took the lock";
  close(ready[0]);
  return child;
}

TEST(OutputLock, AResumeWaitsForALiveHolderHereToEnd) {
  for (const bool killed : {false, true}) {
    test::TempDir dir("lock-wait");
    const std::string out = dir.file("out.h5");
    const pid_t holder = holder_process(out, std::chrono::milliseconds(1500), killed);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_NO_THROW(OutputLock taken(out, std::chrono::seconds(30))) << (killed ? "killed" : "ended");
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GT(waited, 1.0) << "taken while the holder was alive";
    EXPECT_LT(waited, 10.0);
    waitpid(holder, nullptr, 0);
  }
}

TEST(OutputLock, TheWaitIsBoundedAndWithoutOneALiveHolderIsRefusedAtOnce) {
  test::TempDir dir("lock-wait-bounded");
  const std::string out = dir.file("out.h5");
  const pid_t holder = holder_process(out, std::chrono::milliseconds(6000), false);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(refused(out));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0.5);
  start = std::chrono::steady_clock::now();
  EXPECT_TRUE(refused(out, std::chrono::seconds(1)));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 1.0);
  EXPECT_LT(waited, 3.0);
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
}

// Child exit codes of the race below.
constexpr int kWon = 0, kRefused = 1, kOtherError = 2;

TEST(OutputLock, OfProcessesRacingForAStaleLockExactlyOneWins) {
  constexpr int kTakers = 8;
  for (int round = 0; round < 3; ++round) {
    test::TempDir dir("lock-race");
    const std::string out = dir.file("out.h5");
    write_stale_lock(out);
    int start[2];
    ASSERT_EQ(pipe(start), 0);
    std::vector<pid_t> takers;
    for (int t = 0; t < kTakers; ++t) {
      const pid_t child = fork();
      ASSERT_GE(child, 0);
      if (child == 0) {
        close(start[1]);
        char go = 0;
        if (read(start[0], &go, 1) < 0)
          _exit(kOtherError);  // every taker starts at once: when the pipe closes
        int code = kOtherError;
        try {
          const OutputLock lock(out);
          // The winner stays alive while the others look: a holder that is gone would be stale again.
          usleep(2000 * 1000);
          code = kWon;
        } catch (const ConfigError& e) {
          code = std::string(e.what()).find("is locked by") != std::string::npos ? kRefused : kOtherError;
        } catch (...) {
        }
        _exit(code);
      }
      takers.push_back(child);
    }
    close(start[0]);
    close(start[1]);
    int won = 0, refused = 0;
    for (const pid_t child : takers) {
      int status = 0;
      waitpid(child, &status, 0);
      ASSERT_TRUE(WIFEXITED(status));
      won += WEXITSTATUS(status) == kWon;
      refused += WEXITSTATUS(status) == kRefused;
    }
    EXPECT_EQ(won, 1) << "round " << round;
    EXPECT_EQ(refused, kTakers - 1) << "round " << round;
    EXPECT_FALSE(std::filesystem::exists(out + ".lock")) << "the winner released it";
  }
}

}  // namespace
}  // namespace pixab
