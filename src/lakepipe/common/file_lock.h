#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <arrow/result.h>

namespace lakepipe {

/// An exclusive OS file lock (flock on `path`, made with its folder when missing), held
/// while the object lives and released when the process ends, even by SIGKILL. Holders in
/// other processes of this machine (and of others, over NFS v4) are kept out.
class FileLock {
 public:
  /// Takes the lock without waiting. `what` names what the lock guards in messages
  /// ("pipeline 'orders'"); when someone has it, IOError "<what> <busy> (another process
  /// holds '<path>')".
  static arrow::Result<std::unique_ptr<FileLock>> Acquire(const std::string& path,
                                                          const std::string& what,
                                                          const std::string& busy);
  /// Takes the lock, waiting for whoever has it, then records this process in the file
  /// as its holder (LockHolder, for the next waiter to name). With `what` ("the lock of
  /// stage 'raw' of flow 'shop' (instance dev)"), a wait is logged at warning level when it
  /// starts and again every `report_every` while it lasts, naming the holder
  /// (LockWaitReporter).
  static arrow::Result<std::unique_ptr<FileLock>> Wait(
      const std::string& path, const std::string& what = "",
      std::chrono::milliseconds report_every = std::chrono::minutes(1));
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  /// Opens (creating it and its folder) the lock file at `path`.
  static arrow::Result<int> Open(const std::string& path, const std::string& what);
  /// Writes this process into the lock file as its holder.
  static void RecordHolder(int fd);
  /// "held by <the holder the lock file records>".
  static std::string RecordedHolder(int fd);
  int fd_;
};

}  // namespace lakepipe
