#include "lakepipe/storage/errors.h"

#include <fmt/format.h>

#include "lakepipe/common/error_subject.h"
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
  if (auto detail = CauseDetail(cause)) message += fmt::format(" ({})", detail->ToString());
  for (auto& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return RedactSecrets(Naming(
      arrow::Status(cause.code(), fmt::format("{} '{}': {}", operation, uri.ToString(), message),
                    cause.detail()),
      Subject::Uri(uri.ToString())));
}

arrow::Status PathNotFound(const Uri& uri) {
  return RedactSecrets(
      Naming(arrow::Status::IOError(fmt::format("'{}' does not exist", uri.ToString())),
             Subject::Uri(uri.ToString())));
}

}  // namespace lakepipe::storage
