#pragma once

#include <string_view>

#include <arrow/status.h>

#include "lakepipe/storage/uri.h"

namespace lakepipe::storage {

/// "<operation> '<uri>': <provider message>", with credentials redacted. Every storage
/// error leaves the storage layer through here (or PathNotFound).
arrow::Status OperationFailed(std::string_view operation, const Uri& uri,
                              const arrow::Status& cause);

/// "'<uri>' does not exist", as an IOError.
arrow::Status PathNotFound(const Uri& uri);

}  // namespace lakepipe::storage
