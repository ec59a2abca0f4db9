#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace lakepipe::storage {

/// Stops the process when a storage call hangs. Arrow's GCS and Azure filesystems take
/// no request timeout, and their SDKs wait minutes on a connection that stays open but
/// never answers; a run must not. Every storage call is watched from start to end; one
/// still running after the limit ends the process with exit code 1 and one error line
/// naming the call and its URI.
///
/// Why end the process rather than fail the call: the stuck thread cannot be interrupted,
/// and returning while it still uses the caller's data would be unsafe. Ending is what a
/// crash does, and every commit survives a crash (the next run recovers from its journal:
/// RELIABILITY.md); the store is unreachable anyway, so there is nothing to clean up.
///
/// Thread-safe. One patrol thread per watchdog, started by the first call watched.
class HungCallWatchdog {
 public:
  explicit HungCallWatchdog(std::chrono::duration<double> limit) : limit_(limit) {}
  ~HungCallWatchdog();

  HungCallWatchdog(const HungCallWatchdog&) = delete;
  HungCallWatchdog& operator=(const HungCallWatchdog&) = delete;

  /// Watches one call while alive: `what` says it for the error ("writing 's3://b/k'").
  class [[nodiscard]] Watch {
   public:
    Watch(Watch&& other) noexcept : watchdog_(other.watchdog_), id_(other.id_) {
      other.watchdog_ = nullptr;
    }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    Watch& operator=(Watch&&) = delete;
    ~Watch();

   private:
    friend class HungCallWatchdog;
    Watch(HungCallWatchdog* watchdog, uint64_t id) : watchdog_(watchdog), id_(id) {}
    HungCallWatchdog* watchdog_;
    uint64_t id_;
  };

  Watch Start(std::string what);

 private:
  struct Call {
    std::string what;
    std::chrono::steady_clock::time_point started;
  };

  void Patrol();
  [[noreturn]] void StopProcess(const Call& call);

  const std::chrono::duration<double> limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<uint64_t, Call> calls_;
  uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::thread patrol_;
};

}  // namespace lakepipe::storage
