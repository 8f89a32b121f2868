// One logger for the whole process, named by rank, writing to stderr (and optionally to a file per rank).
#include "pipeline/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace pixab {

void setup_logging(int rank, bool verbose, const std::string& log_dir) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(verbose || rank == 0 ? spdlog::level::debug : spdlog::level::warn);
  std::vector<spdlog::sink_ptr> sinks{console};
  if (!log_dir.empty()) {
    std::filesystem::create_directories(log_dir);
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(
        log_dir + "/rank-" + std::to_string(rank) + ".log"));
  }
  auto logger = std::make_shared<spdlog::logger>("pixab", sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [rank " + std::to_string(rank) + "] [%^%l%$] %v");
  // The console sink filters by rank; the logger passes debug only where someone asked for it.
  logger->set_level(verbose || !log_dir.empty() ? spdlog::level::debug : spdlog::level::info);
  if (!verbose) console->set_level(rank == 0 ? spdlog::level::info : spdlog::level::warn);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace pixab
