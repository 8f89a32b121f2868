// One logger for the whole process, named by rank, writing to stderr.
#include "pipeline/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace pixab {

void setup_logging(int rank, bool verbose) {
  auto logger = spdlog::stderr_color_mt("pixab");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [rank " + std::to_string(rank) + "] [%^%l%$] %v");
  if (verbose) {
    logger->set_level(spdlog::level::debug);
  } else {
    logger->set_level(rank == 0 ? spdlog::level::info : spdlog::level::warn);
  }
  spdlog::set_default_logger(logger);
}

}  // namespace pixab
