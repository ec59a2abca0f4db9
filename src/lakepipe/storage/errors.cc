#include "lakepipe/storage/errors.h"

#include <fmt/format.h>

#include "lakepipe/storage/redact.h"

namespace lakepipe::storage {

arrow::Status OperationFailed(std::string_view operation, const Uri& uri,
                              const arrow::Status& cause) {
  if (cause.ok()) return cause;
  // Arrow's messages repeat the path in its own form; keep them whole, they carry the
  // provider's error code. Multi-line SDK dumps are folded into one line.
  std::string message = cause.message();
  // The OS error ("[errno 28] No space left on device") travels as the status' detail,
  // which message() leaves out.
  if (cause.detail()) message += fmt::format(" ({})", cause.detail()->ToString());
  for (auto& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return RedactSecrets(
      cause.WithMessage(fmt::format("{} '{}': {}", operation, uri.ToString(), message)));
}

arrow::Status PathNotFound(const Uri& uri) {
  return arrow::Status::IOError(fmt::format("'{}' does not exist", uri.ToString()));
}

}  // namespace lakepipe::storage
