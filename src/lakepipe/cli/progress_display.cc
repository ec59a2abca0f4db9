#include "lakepipe/cli/progress_display.h"

#include <iostream>

#include <fmt/format.h>

#include "lakepipe/cli/cli_context.h"

namespace lakepipe::cli {

void ProgressDisplay::Update(const std::map<std::string, pipeline::StreamProgress>& streams) {
  if (!enabled_) return;
  streams_ = streams;
  const auto now = Clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Draw();
}

void ProgressDisplay::Draw() {
  const double seconds =
      std::max(1e-3, std::chrono::duration<double>(Clock::now() - start_).count());
  std::string out;
  if (lines_drawn_ > 0) out += fmt::format("\x1b[{}F", lines_drawn_);  // back to the first line
  for (const auto& [stream, p] : streams_) {
    out += fmt::format("\x1b[2K  {}/{}: {} records  {}  {:.0f} rec/s\n", pipeline_, stream,
                       p.records, HumanBytes(static_cast<double>(p.bytes)), p.records / seconds);
  }
  lines_drawn_ = streams_.size();
  std::cerr << out << std::flush;
}

void ProgressDisplay::Done() {
  if (enabled_ && !streams_.empty()) Draw();
}

}  // namespace lakepipe::cli
