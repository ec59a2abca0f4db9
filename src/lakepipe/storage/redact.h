#pragma once

#include <string>
#include <string_view>

#include <arrow/status.h>

namespace lakepipe::storage {

/// Replaces every credential lakepipe can know of (the secret variables of the AWS, GCS
/// and Azure chains, and the key inside AZURE_STORAGE_CONNECTION_STRING) with "***".
/// Applied to every storage error before it leaves the storage layer, because providers'
/// SDKs sometimes echo request details.
std::string RedactSecrets(std::string_view message);

/// The same status with its message redacted.
arrow::Status RedactSecrets(const arrow::Status& status);

}  // namespace lakepipe::storage
