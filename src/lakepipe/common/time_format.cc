#include "lakepipe/common/time_format.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace lakepipe {

std::string IsoUtc(std::chrono::system_clock::time_point time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time - seconds).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}+00:00", seconds, micros);
}

}  // namespace lakepipe
