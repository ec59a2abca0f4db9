#include "lakepipe/pipeline/run_lock.h"

#include <fmt/format.h>

#include "lakepipe/common/error_subject.h"

namespace lakepipe::pipeline {

arrow::Result<std::unique_ptr<FileLock>> RunLock::Acquire(const std::string& locks_dir,
                                                          const std::string& pipeline) {
  auto lock = FileLock::Acquire(fmt::format("{}/{}.lock", locks_dir, pipeline),
                                fmt::format("pipeline '{}'", pipeline), "is already running");
  if (!lock.ok()) return Naming(lock.status(), Subject::Pipeline(pipeline));  // named in its text
  return lock;
}

}  // namespace lakepipe::pipeline
