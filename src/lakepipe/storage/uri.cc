#include "lakepipe/storage/uri.h"

#include <cctype>
#include <filesystem>

#include <fmt/format.h>

#include "lakepipe/storage/redact.h"

namespace lakepipe::storage {
namespace {

// Shown with its user info as "***": a URI we refuse may still hold credentials.
arrow::Status InvalidUri(std::string_view text, std::string_view why) {
  return arrow::Status::Invalid(fmt::format("invalid URI '{}': {}", RedactUriUserInfo(text), why));
}

constexpr std::string_view kNoCredentials =
    "credentials are not accepted in URIs; use the provider's environment or profile "
    "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, "
    "AZURE_STORAGE_KEY, ...) with the storage block";

bool IsBucketScheme(std::string_view scheme) {
  for (std::string_view s : {"s3", "s3a", "gs", "gcs", "az", "azure", "abfs", "abfss"}) {
    if (scheme == s) return true;
  }
  return false;
}

// Removes duplicate and trailing slashes from an object key; keys have no leading '/'.
std::string NormalizeKey(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '/' && (out.empty() || out.back() == '/')) continue;
    out.push_back(c);
  }
  if (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

// A local path in normal form without trailing slashes: "/" for the root, which
// lexically_normal() leaves as "//" or "///".
std::string NormalizeLocalPath(const std::filesystem::path& path) {
  std::string out = path.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

std::string_view ProviderName(Provider provider) {
  switch (provider) {
    case Provider::kLocal:
      return "file";
    case Provider::kS3:
      return "s3";
    case Provider::kGcs:
      return "gs";
    case Provider::kAzure:
      return "az";
  }
  return "?";
}

arrow::Status CheckNoUriCredentials(std::string_view text) {
  for (const auto& span : FindUriUserInfo(text)) {
    if (!IsBucketScheme(span.scheme)) continue;
    // Name the offending URI alone (redacted), not the whole text around it.
    const size_t begin = text.rfind("://", span.begin) - span.scheme.size();
    size_t end = span.end;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
           text[end] != '\'' && text[end] != '"' && text[end] != '`') {
      ++end;
    }
    return InvalidUri(text.substr(begin, end - begin), kNoCredentials);
  }
  return arrow::Status::OK();
}

arrow::Result<Uri> Uri::Parse(std::string_view text) {
  if (text.empty()) return InvalidUri(text, "empty");
  ARROW_RETURN_NOT_OK(CheckNoUriCredentials(text));
  Uri uri;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    // A plain local path, relative to the current directory.
    std::error_code ec;
    auto abs = std::filesystem::absolute(std::filesystem::path(text), ec);
    if (ec) return InvalidUri(text, ec.message());
    uri.key_ = NormalizeLocalPath(abs);
    return uri;
  }
  std::string scheme(text.substr(0, sep));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = text.substr(sep + 3);
  if (scheme == "file") {
    // '?' and '#' are plain characters of a local path (and a glob's '?'), as in the plain
    // path form, whose canonical text is this form.
    if (rest.starts_with("localhost/")) rest.remove_prefix(9);
    if (!rest.starts_with("/")) return InvalidUri(text, "file URIs need an absolute path");
    uri.key_ = NormalizeLocalPath(std::filesystem::path(rest));
    return uri;
  }
  if (rest.find('?') != std::string_view::npos || rest.find('#') != std::string_view::npos) {
    // Name the URI without its query: a SAS token or signature must not reach a message.
    return InvalidUri(text.substr(0, text.find_first_of("?#")),
                      "query strings and fragments are not accepted; put settings in "
                      "the storage block");
  }
  const auto slash = rest.find('/');
  std::string authority(rest.substr(0, slash));
  uri.key_ = NormalizeKey(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  if (scheme == "s3" || scheme == "s3a") {
    uri.provider_ = Provider::kS3;
  } else if (scheme == "gs" || scheme == "gcs") {
    uri.provider_ = Provider::kGcs;
  } else if (scheme == "az" || scheme == "azure") {
    uri.provider_ = Provider::kAzure;
  } else if (scheme == "abfs" || scheme == "abfss") {
    uri.provider_ = Provider::kAzure;
    // container@account.dfs.core.windows.net, or a bare container (the same as az://, so
    // only the form with an account is kept: equal locations compare equal).
    const auto at = authority.find('@');
    if (at != std::string::npos) {
      std::string host = authority.substr(at + 1);
      authority = authority.substr(0, at);
      const auto dot = host.find('.');
      uri.account_ = host.substr(0, dot);
      if (uri.account_.empty()) return InvalidUri(text, "no storage account after '@'");
      uri.abfs_form_ = true;
    }
  } else {
    return InvalidUri(text, fmt::format("unknown scheme '{}' (use a path, file://, s3://, "
                                        "gs://, az:// or abfs://)",
                                        scheme));
  }
  if (authority.empty()) return InvalidUri(text, "no bucket or container");
  if (authority.find(':') != std::string::npos) {
    return InvalidUri(text, "a bucket name has no port; set the endpoint in the storage block");
  }
  uri.bucket_ = std::move(authority);
  return uri;
}

std::string Uri::ToString() const {
  if (provider_ == Provider::kLocal) return "file://" + key_;
  std::string out;
  if (abfs_form_ && !account_.empty()) {
    out = fmt::format("abfs://{}@{}.dfs.core.windows.net", bucket_, account_);
  } else {
    out = fmt::format("{}://{}", ProviderName(provider_), bucket_);
  }
  if (!key_.empty()) out += "/" + key_;
  return out;
}

std::string Uri::FileSystemPath() const {
  if (provider_ == Provider::kLocal) return key_;
  return key_.empty() ? bucket_ : bucket_ + "/" + key_;
}

Uri Uri::Join(std::string_view relative) const {
  Uri out = *this;
  std::string tail = NormalizeKey(relative);
  if (tail.empty()) return out;
  if (provider_ == Provider::kLocal) {
    out.key_ = (std::filesystem::path(key_) / tail).lexically_normal().string();
  } else {
    out.key_ = key_.empty() ? tail : key_ + "/" + tail;
  }
  return out;
}

std::string Uri::Name() const {
  const auto slash = key_.rfind('/');
  return slash == std::string::npos ? key_ : key_.substr(slash + 1);
}

Uri Uri::Parent() const {
  Uri out = *this;
  const auto slash = key_.rfind('/');
  if (slash == std::string::npos) {
    out.key_.clear();
  } else {
    out.key_ = key_.substr(0, provider_ == Provider::kLocal && slash == 0 ? 1 : slash);
  }
  return out;
}

}  // namespace lakepipe::storage
