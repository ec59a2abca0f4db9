#pragma once

#include <memory>
#include <string>

#include <arrow/result.h>

namespace lakepipe::pipeline {

/// An exclusive OS file lock that serializes runs of one pipeline on this machine
/// (flock on <home>/locks/<pipeline>.lock, released when the object dies or the process
/// ends, even by SIGKILL). Runs of one pipeline on several machines need the team
/// metadata store's locks; the bucket layout stays consistent either way.
class RunLock {
 public:
  /// Takes the lock without waiting; IOError "already running" when another process has it.
  static arrow::Result<std::unique_ptr<RunLock>> Acquire(const std::string& locks_dir,
                                                         const std::string& pipeline);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace lakepipe::pipeline
