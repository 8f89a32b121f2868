// The output lock (G8): a live holder refuses others; a stale lock (its process gone on this host) is taken
// over by exactly one of the processes racing for it, the others being refused as for a live holder.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
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
