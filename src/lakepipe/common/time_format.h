#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace lakepipe {

/// "2026-11-23T19:27:31.123456+00:00": ISO-8601 UTC with microseconds, the spelling of
/// Python's datetime.isoformat() that DataSpoc Pipe writes and Lens parses.
std::string IsoUtc(std::chrono::system_clock::time_point time);

/// The time IsoUtc() spelled ("+00:00" or "Z", fraction optional); nullopt for other text.
std::optional<std::chrono::system_clock::time_point> ParseIsoUtc(const std::string& text);

}  // namespace lakepipe
