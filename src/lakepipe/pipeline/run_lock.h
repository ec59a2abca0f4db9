#pragma once

#include <memory>
#include <string>

#include <arrow/result.h>

#include "lakepipe/common/file_lock.h"

namespace lakepipe::pipeline {

/// The lock that serializes runs of one pipeline on this machine: a FileLock on
/// <home>/locks/<pipeline>.lock. Runs of one pipeline from other home folders are kept
/// apart by the bucket (a run never recovers a live run's journal; local buckets lock each
/// table while it is written).
class RunLock {
 public:
  /// Takes the lock without waiting; IOError "pipeline '<name>' is already running" when
  /// another process has it.
  static arrow::Result<std::unique_ptr<FileLock>> Acquire(const std::string& locks_dir,
                                                          const std::string& pipeline);
};

}  // namespace lakepipe::pipeline
