#pragma once

#include <string_view>

#include <arrow/status.h>

#include "lakepipe/storage/uri.h"

namespace lakepipe::storage {

/// "<operation> '<uri>': <provider message>", with credentials redacted, carrying
/// Subject::Uri(uri) (error_subject.h) so callers above know the URI is named. Every
/// storage error leaves the storage layer through here (or PathNotFound).
arrow::Status OperationFailed(std::string_view operation, const Uri& uri,
                              const arrow::Status& cause);

/// "'<uri>' does not exist", as an IOError carrying Subject::Uri(uri). For callers that
/// require the object; those that do not ask StatIfExists or ReadIfExists.
arrow::Status PathNotFound(const Uri& uri);

}  // namespace lakepipe::storage
