#pragma once

#include <chrono>
#include <map>
#include <string>

#include "lakepipe/pipeline/ingest_runner.h"

namespace lakepipe::cli {

/// Per-stream progress of a run on a terminal (records, bytes, rate), redrawn in place at
/// most ten times a second; silent when not on a terminal.
class ProgressDisplay {
 public:
  ProgressDisplay(std::string pipeline, bool enabled)
      : pipeline_(std::move(pipeline)), enabled_(enabled), start_(Clock::now()) {}
  void Update(const std::map<std::string, pipeline::StreamProgress>& streams);
  /// Draws the final state and moves below it.
  void Done();

 private:
  using Clock = std::chrono::steady_clock;
  void Draw();

  std::string pipeline_;
  bool enabled_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  std::map<std::string, pipeline::StreamProgress> streams_;
  size_t lines_drawn_ = 0;
};

}  // namespace lakepipe::cli
