#include "lakepipe/pipeline/run_lock.h"

#include <fmt/format.h>

namespace lakepipe::pipeline {

arrow::Result<std::unique_ptr<FileLock>> RunLock::Acquire(const std::string& locks_dir,
                                                          const std::string& pipeline) {
  return FileLock::Acquire(fmt::format("{}/{}.lock", locks_dir, pipeline),
                           fmt::format("pipeline '{}'", pipeline), "is already running");
}

}  // namespace lakepipe::pipeline
