#pragma once

// How the engine's errors and long calls meet Python: an arrow::Status becomes
// lakepipe.LakepipeError with the message the CLI prints; a long call runs without the GIL
// and stops cleanly on Ctrl-C.

#include <atomic>
#include <functional>

#include <arrow/result.h>
#include <arrow/status.h>

namespace lakepipe::python {

/// Raises lakepipe.LakepipeError (KeyboardInterrupt for a cancelled call) carrying the
/// status' message, redacted as the CLI redacts it, when `status` is an error.
void ThrowIfError(const arrow::Status& status);

template <typename T>
T ValueOrThrow(arrow::Result<T> result) {
  ThrowIfError(result.status());
  return std::move(result).ValueUnsafe();
}

/// Runs `call` on a worker thread with the GIL released, checking for Python signals every
/// 100 ms; on Ctrl-C it sets the flag `call` was given, waits for it to end, and raises
/// KeyboardInterrupt. A run stopped this way commits nothing, as a cancelled CLI run.
arrow::Status RunInterruptible(const std::function<arrow::Status(const std::atomic<bool>*)>& call);

}  // namespace lakepipe::python
