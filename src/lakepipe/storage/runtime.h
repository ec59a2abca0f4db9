#pragma once

#include <arrow/status.h>

namespace lakepipe::storage {

/// Process-wide setup of Arrow: compute kernels, TLS CA bundle, the S3 SDK. Create one
/// in main() before any storage call and keep it alive until exit: its destructor
/// finalizes the S3 SDK (which must not run from atexit). Not copyable.
class ArrowRuntime {
 public:
  static arrow::Status Initialize();
  ArrowRuntime() = default;
  ~ArrowRuntime();
  ArrowRuntime(const ArrowRuntime&) = delete;
  ArrowRuntime& operator=(const ArrowRuntime&) = delete;
};

}  // namespace lakepipe::storage
