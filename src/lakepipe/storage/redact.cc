#include "lakepipe/storage/redact.h"

#include <cctype>
#include <cstdlib>
#include <vector>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/storage/azure_connection_string.h"

namespace lakepipe::storage {
namespace {

std::vector<std::string> KnownSecrets() {
  std::vector<std::string> secrets;
  auto add = [&](const std::string& value) {
    // Very short values would redact ordinary words; real secrets are long.
    if (value.size() >= 6) secrets.push_back(value);
  };
  for (const char* name : {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY",
                           "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET",
                           "AZURE_STORAGE_CONNECTION_STRING", "PGPASSWORD"}) {
    if (const char* value = std::getenv(name)) add(value);
  }
  if (const char* connection = std::getenv("AZURE_STORAGE_CONNECTION_STRING")) {
    auto parsed = AzureConnectionString::Parse(connection);
    if (parsed.ok()) {
      add(parsed->account_key);
      add(parsed->sas_token);
    }
  }
  return secrets;
}

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

bool EndsUrl(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '`' ||
         c == '<' || c == '>';
}

}  // namespace

std::vector<UserInfoSpan> FindUriUserInfo(std::string_view text) {
  std::vector<UserInfoSpan> spans;
  for (size_t sep = text.find("://"); sep != std::string_view::npos;
       sep = text.find("://", sep + 3)) {
    size_t scheme_begin = sep;
    while (scheme_begin > 0 && IsSchemeChar(text[scheme_begin - 1])) --scheme_begin;
    if (scheme_begin == sep) continue;
    std::string scheme(text.substr(scheme_begin, sep - scheme_begin));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t begin = sep + 3;
    size_t url_end = begin;
    while (url_end < text.size() && !EndsUrl(text[url_end])) ++url_end;
    const std::string_view url = text.substr(begin, url_end - begin);
    const std::string_view authority = url.substr(0, url.find_first_of("/?#"));
    size_t at = authority.rfind('@');
    if (at == std::string_view::npos && authority.find(':') != std::string_view::npos) {
      at = url.rfind('@');  // "user:pass/word@host": the password holds a '/'
    }
    if (at == std::string_view::npos || at == 0) continue;
    const std::string_view user_info = url.substr(0, at);
    const bool bucket_scheme = scheme == "s3" || scheme == "s3a" || scheme == "gs" ||
                               scheme == "gcs" || scheme == "az" || scheme == "azure";
    if (!bucket_scheme && user_info.find(':') == std::string_view::npos) continue;
    spans.push_back({std::move(scheme), begin, begin + at});
  }
  return spans;
}

std::string RedactUriUserInfo(std::string_view text) {
  std::string out;
  size_t done = 0;
  for (const auto& span : FindUriUserInfo(text)) {
    if (span.begin < done) continue;
    out.append(text.substr(done, span.begin - done));
    out += "***";
    done = span.end;
  }
  out.append(text.substr(done));
  return out;
}

std::string RedactSecrets(std::string_view message) {
  std::string out = RedactUriUserInfo(message);
  for (const auto& secret : KnownSecrets()) {
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), "***");
    }
  }
  return out;
}

arrow::Status RedactSecrets(const arrow::Status& status) {
  if (status.ok()) return status;
  auto subjects = SubjectsOf(status);
  if (subjects.empty()) {
    return arrow::Status(status.code(), RedactSecrets(status.message()), status.detail());
  }
  // The subjects are data a caller may print: they are redacted like the message.
  for (auto& subject : subjects) subject.name = RedactSecrets(subject.name);
  return arrow::Status(
      status.code(), RedactSecrets(status.message()),
      std::make_shared<SubjectDetail>(std::move(subjects), CauseDetail(status)));
}

}  // namespace lakepipe::storage
