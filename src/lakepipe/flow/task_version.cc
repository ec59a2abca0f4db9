#include "lakepipe/flow/task_version.h"

#include <charconv>
#include <cstdint>
#include <string>

namespace lakepipe::flow {

nlohmann::json TaskVersionCacheValue(std::string_view version) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(version.data(), version.data() + version.size(), value);
  // Canonical only: "02", "+2" or " 2" stay text, so two spellings never share a key.
  if (error == std::errc() && end == version.data() + version.size() &&
      std::to_string(value) == version) {
    return value;
  }
  return std::string(version);
}

}  // namespace lakepipe::flow
