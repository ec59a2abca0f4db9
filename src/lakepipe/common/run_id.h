#pragma once

#include <chrono>
#include <string>

namespace lakepipe {

/// A new run's id, the one spelling for ingest runs and flow runs:
/// "<UTC start, YYYYMMDDTHHMMSSZ>-<8 random hex digits>" ("20261202T044433Z-1a2b3c4d").
/// Safe as a file name on every store; runs of the same second differ by the random part.
/// (Flow runs recorded before this spelling read "2026-12-02T04-44-33-1a2b3c4d"; nothing
/// parses ids, runs are ordered by their start time.)
std::string NewRunId(std::chrono::system_clock::time_point start);

}  // namespace lakepipe
