#include "lakepipe/storage/redact.h"

#include <cstdlib>
#include <vector>

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

}  // namespace

std::string RedactSecrets(std::string_view message) {
  std::string out(message);
  for (const auto& secret : KnownSecrets()) {
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), "***");
    }
  }
  return out;
}

arrow::Status RedactSecrets(const arrow::Status& status) {
  if (status.ok()) return status;
  return arrow::Status(status.code(), RedactSecrets(status.message()), status.detail());
}

}  // namespace lakepipe::storage
