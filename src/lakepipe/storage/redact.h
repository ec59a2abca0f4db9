#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <arrow/status.h>

namespace lakepipe::storage {

/// Replaces every credential lakepipe can know of (the secret variables of the AWS, GCS
/// and Azure chains, and the key inside AZURE_STORAGE_CONNECTION_STRING) with "***", and
/// the user info of every URL in it (RedactUriUserInfo). Applied to every storage and
/// DuckDB error before it leaves its layer, because providers' SDKs and DuckDB's
/// extensions echo request details and the URLs they were given.
std::string RedactSecrets(std::string_view message);

/// Where a URL in some text carries user info: text[begin, end) is the user info (without
/// the '@'), `scheme` the URL's scheme in lower case.
struct UserInfoSpan {
  std::string scheme;
  size_t begin = 0;
  size_t end = 0;
};

/// The user info of the URLs in `text` ("scheme://user:password@host/…", the URL ending at
/// white space or a quote). User info holds a ':', or is any text before an '@' in an
/// s3://, gs:// or az:// URL (whose '@' can only mean credentials); "container@account" of
/// abfs and a bare user name are not secrets and do not count. A password with an unencoded
/// '/' is found whole: when the authority has a ':' but no '@', the user info runs to the
/// URL's last '@' (so "http://host:80/a@b" counts too: rare, and safe).
std::vector<UserInfoSpan> FindUriUserInfo(std::string_view text);

/// `text` with every span of FindUriUserInfo replaced by "***":
/// "s3://KEY:SECRET@bucket/x" → "s3://***@bucket/x".
std::string RedactUriUserInfo(std::string_view text);

/// The same status with its message and its subjects' names (error_subject.h) redacted.
arrow::Status RedactSecrets(const arrow::Status& status);

}  // namespace lakepipe::storage
