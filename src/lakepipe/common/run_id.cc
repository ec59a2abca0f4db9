#include "lakepipe/common/run_id.h"

#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace lakepipe {

std::string NewRunId(std::chrono::system_clock::time_point start) {
  std::random_device random;
  return fmt::format("{:%Y%m%dT%H%M%S}Z-{:08x}", std::chrono::floor<std::chrono::seconds>(start),
                     random());
}

}  // namespace lakepipe
