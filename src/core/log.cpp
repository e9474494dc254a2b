#include "prh/core/log.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace prh::log {

void init(const std::string& prefix, spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_color_mt("prh-" + prefix);
  logger->set_pattern("[%H:%M:%S] [" + prefix + "] %^%l%$: %v");
  // PRH_LOG_LEVEL (debug, info, warn, error) overrides the default level.
  if (const char* env = std::getenv("PRH_LOG_LEVEL")) level = spdlog::level::from_str(env);
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

}  // namespace prh::log
