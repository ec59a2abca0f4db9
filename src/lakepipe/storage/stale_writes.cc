// Storage::SweepStaleWrites: what writers killed mid-write leave behind, removed by the
// next write into the same folder.

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "lakepipe/storage/storage.h"

namespace lakepipe::storage {
namespace {

std::chrono::system_clock::duration StaleWriteAge() {
  if (const char* seconds = std::getenv("LAKEPIPE_STALE_WRITE_SECONDS")) {
    return std::chrono::seconds(std::atoll(seconds));
  }
  return kStaleWriteAge;
}

}  // namespace

void Storage::SweepStaleWrites(const Uri& uri) {
  {
    std::lock_guard lock(mutex_);
    if (!swept_.insert(uri.ToString()).second) return;
  }
  auto temps = ListWriterTemps(uri);
  if (!temps.ok()) {
    spdlog::debug("looking for stale staging files: {}", temps.status().message());
    return;
  }
  const auto cutoff = std::chrono::system_clock::now() - StaleWriteAge();
  for (const auto& temp : *temps) {
    if (temp.is_dir || temp.modified > cutoff) continue;
    auto deleted = Delete(temp.uri);
    if (deleted.ok()) {
      spdlog::info("removed '{}', left by a writer that died", temp.uri.ToString());
    } else {
      spdlog::debug("removing a stale staging file: {}", deleted.message());
    }
  }
}

}  // namespace lakepipe::storage
