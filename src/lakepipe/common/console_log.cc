#include "lakepipe/common/console_log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace lakepipe {

void ConfigureConsoleLog(int verbose) {
  static auto logger = spdlog::stderr_color_mt("lakepipe");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("lakepipe: %l: %v");
  spdlog::set_level(verbose >= 2   ? spdlog::level::debug
                    : verbose == 1 ? spdlog::level::info
                                   : spdlog::level::warn);
}

}  // namespace lakepipe
