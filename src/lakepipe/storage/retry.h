#pragma once

#include <functional>
#include <string>

#include <arrow/result.h>
#include <arrow/status.h>

#include "lakepipe/storage/storage_options.h"

namespace lakepipe::storage {

/// True when a failed storage call may succeed if tried again: network resets and
/// timeouts, throttling (429/503 SlowDown) and server errors (5xx). Refusals (no such
/// bucket, access denied, invalid arguments) are final.
bool IsTransient(const arrow::Status& status);

/// Runs `attempt` until it succeeds, fails with a final error, or the retry budget
/// (attempts and deadline) is spent. The returned error says how many attempts were made
/// over how long. `attempt` must be idempotent.
arrow::Status RetryCall(const RetryOptions& retry, const std::function<arrow::Status()>& attempt);

template <typename T>
arrow::Result<T> RetryCall(const RetryOptions& retry,
                           const std::function<arrow::Result<T>()>& attempt) {
  arrow::Result<T> result = arrow::Status::UnknownError("not attempted");
  arrow::Status status = RetryCall(retry, [&]() {
    result = attempt();
    return result.status();
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace lakepipe::storage
