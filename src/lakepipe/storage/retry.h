#pragma once

#include <atomic>
#include <functional>
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
/// Once a call has spent its whole budget on transient errors, the store is taken as down
/// and later calls try once each, until one succeeds. A run failing on a dead store then
/// ends within about one deadline, not one deadline per call of its failure path (the
/// cleanup of what it wrote, the upload of its log). Thread-safe.
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

  /// True after a call gave up on transient errors and no call has succeeded since.
  bool store_down() const { return store_down_.load(); }

 private:
  const RetryOptions options_;
  std::atomic<bool> store_down_{false};
};

}  // namespace lakepipe::storage
