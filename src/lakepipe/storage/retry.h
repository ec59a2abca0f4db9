#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <arrow/result.h>
#include <arrow/status.h>

#include "lakepipe/storage/storage_options.h"

namespace lakepipe::storage {

/// True when a failed storage call may succeed if tried again: network resets and
/// timeouts, throttling (429/503 SlowDown) and server errors (5xx). Refusals (no such
/// bucket, access denied, invalid arguments) are final.
bool IsTransient(const arrow::Status& status);

/// The retries of the calls to one store: each call runs its `attempt` until it succeeds,
/// fails with a final error, or its budget (attempts and deadline) is spent; the error then
/// says how many attempts were made over how long. `attempt` must be idempotent.
///
/// Once a call has spent its whole budget on transient errors, the store is taken as down:
/// for the next deadline's length, calls fail at once without trying, naming the outage;
/// after that one attempt decides, and a success ends the outage. A run failing on a dead
/// store then ends within about one deadline, not one deadline per call of its failure
/// path (the cleanup of what it wrote, the upload of its log), while a store that comes
/// back is used again. Thread-safe.
class RetryPolicy {
 public:
  explicit RetryPolicy(RetryOptions options) : options_(std::move(options)) {}

  arrow::Status Call(const std::function<arrow::Status()>& attempt);

  template <typename T>
  arrow::Result<T> Call(const std::function<arrow::Result<T>()>& attempt) {
    arrow::Result<T> result = arrow::Status::UnknownError("not attempted");
    arrow::Status status = Call([&]() {
      result = attempt();
      return result.status();
    });
    if (!status.ok()) return status;
    return result;
  }

  /// Records a transient failure the provider's client already retried on its own (a
  /// write stream's, which is not retried here): the store is down as after a spent budget.
  void GaveUp(const arrow::Status& status);

  /// True while an outage is recorded (from a spent budget to the next success).
  bool store_down() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Outage {
    Clock::time_point since;
    std::string cause;
  };

  void Recovered();

  const RetryOptions options_;
  mutable std::mutex mutex_;
  std::optional<Outage> outage_;
};

}  // namespace lakepipe::storage
