#include "lakepipe/common/lock_wait_reporter.h"

#include <spdlog/spdlog.h>

namespace lakepipe {

LockWaitReporter::LockWaitReporter(std::string what, std::function<std::string()> holder,
                                   std::chrono::milliseconds every)
    : what_(std::move(what)), holder_(std::move(holder)), every_(every) {
  thread_ = std::thread([this] { Run(); });
}

LockWaitReporter::~LockWaitReporter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_changed_.notify_all();
  thread_.join();
}

void LockWaitReporter::Run() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  for (bool first = true; !stop_; first = false) {
    lock.unlock();
    const std::string by = holder_();
    lock.lock();
    if (stop_) break;  // the lock came while we looked: nothing to say any more
    if (first) {
      spdlog::warn("waiting for {}: {}", what_, by);
    } else {
      const auto waited = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::steady_clock::now() - start);
      spdlog::warn("still waiting for {} after {} s: {}", what_, waited.count(), by);
    }
    stop_changed_.wait_for(lock, every_, [this] { return stop_; });
  }
}

}  // namespace lakepipe
