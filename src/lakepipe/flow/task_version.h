#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace lakepipe::flow {

/// A task's `version:` as it enters the task's cache key. Versions are text ("1.0.0", as
/// pipedag users write them); one that is an integer in canonical form ("2", "-1", "0",
/// the default) enters as the JSON number lakepipe used when versions were integers, so
/// cache keys recorded then still match.
nlohmann::json TaskVersionCacheValue(std::string_view version);

}  // namespace lakepipe::flow
