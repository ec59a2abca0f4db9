#include "lakepipe/storage/runtime.h"

#include <filesystem>
#include <mutex>

#include <arrow/compute/initialize.h>
#include <arrow/filesystem/filesystem.h>
#include <arrow/filesystem/s3fs.h>

namespace lakepipe::storage {

arrow::Status ArrowRuntime::Initialize() {
  static std::once_flag once;
  static arrow::Status status;
  std::call_once(once, [] {
    status = arrow::compute::Initialize();
    if (!status.ok()) return;
    // A C++ program does not inherit Python's CA settings: name the system bundle.
    arrow::fs::FileSystemGlobalOptions global;
    constexpr const char* kBundle = "/etc/ssl/certs/ca-certificates.crt";
    if (std::filesystem::exists(kBundle)) global.tls_ca_file_path = kBundle;
    status = arrow::fs::Initialize(global);
  });
  return status;
}

ArrowRuntime::~ArrowRuntime() {
  // Safe when S3 was never initialized; required before exit when it was.
  (void)arrow::fs::EnsureS3Finalized();
}

}  // namespace lakepipe::storage
