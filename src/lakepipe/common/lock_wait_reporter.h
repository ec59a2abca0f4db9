#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace lakepipe {

/// Says, while a wait for a lock lasts, whom it waits for: on a thread of its own it logs
/// at warning level "waiting for <what>: <holder()>" at once, then "still waiting for
/// <what> after N s: <holder()>" every `every`, until destroyed. The waiter itself keeps
/// waiting the way it always does (in the kernel, in PostgreSQL's lock queue), so the
/// order in which waiters get a lock is unchanged. `holder` runs on that thread.
class LockWaitReporter {
 public:
  LockWaitReporter(std::string what, std::function<std::string()> holder,
                   std::chrono::milliseconds every = std::chrono::minutes(1));
  /// Stops reporting; returns once the thread has ended.
  ~LockWaitReporter();
  LockWaitReporter(const LockWaitReporter&) = delete;
  LockWaitReporter& operator=(const LockWaitReporter&) = delete;

 private:
  void Run();

  const std::string what_;
  const std::function<std::string()> holder_;
  const std::chrono::milliseconds every_;
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lakepipe
