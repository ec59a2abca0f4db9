#include "lakepipe/duckdb/storage_secrets.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/storage/azure_connection_string.h"
#include "lakepipe/storage/filesystem_factory.h"

namespace lakepipe::duckdb {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// The parameters shared by DuckDB's S3-protocol secrets (s3 and gcs).
std::string S3ProtocolParams(const storage::ProviderOptions& p, const std::string& key_id,
                             const std::string& secret, const std::string& session_token) {
  std::string params;
  if (!key_id.empty() && p.credentials != storage::CredentialsSource::kAnonymous) {
    params += fmt::format(", KEY_ID {}, SECRET {}", SqlString(key_id), SqlString(secret));
    if (!session_token.empty())
      params += fmt::format(", SESSION_TOKEN {}", SqlString(session_token));
  }
  if (!p.endpoint.empty()) {
    auto endpoint = storage::Endpoint::Parse(p.endpoint);
    if (endpoint.ok()) {
      params += fmt::format(", ENDPOINT {}, USE_SSL {}", SqlString(endpoint->authority),
                            endpoint->scheme == "https" ? "true" : "false");
    }
  }
  const bool path_style = p.url_style == storage::UrlStyle::kPath ||
                          (p.url_style == storage::UrlStyle::kAuto && !p.endpoint.empty());
  params += fmt::format(", URL_STYLE {}", SqlString(path_style ? "path" : "vhost"));
  return params;
}

}  // namespace

std::vector<std::string> StorageSecretStatements(const storage::StorageOptions& options) {
  std::vector<std::string> statements;
  const auto& s3 = options.s3;
  std::string region = s3.region.empty() ? "us-east-1" : s3.region;
  statements.push_back(fmt::format(
      "CREATE OR REPLACE TEMPORARY SECRET lakepipe_s3 (TYPE s3, REGION {}{})", SqlString(region),
      S3ProtocolParams(s3, Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                       Env("AWS_SESSION_TOKEN"))));

  statements.push_back(fmt::format(
      "CREATE OR REPLACE TEMPORARY SECRET lakepipe_gcs (TYPE gcs{})",
      S3ProtocolParams(options.gcs, Env("GCS_HMAC_KEY_ID"), Env("GCS_HMAC_SECRET"), "")));

  // Azure: a connection string carries endpoint and key together, which is the only way
  // DuckDB's azure extension accepts a custom endpoint (Azurite).
  const auto& az = options.azure;
  std::string connection = Env("AZURE_STORAGE_CONNECTION_STRING");
  const std::string key = Env("AZURE_STORAGE_KEY");
  if (connection.empty() && !key.empty() && !az.account.empty()) {
    connection = fmt::format("AccountName={};AccountKey={}", az.account, key);
    if (!az.endpoint.empty()) {
      auto endpoint = storage::Endpoint::Parse(az.endpoint);
      if (endpoint.ok()) {
        connection += fmt::format(
            ";DefaultEndpointsProtocol={};BlobEndpoint={}", endpoint->scheme,
            endpoint->path.empty()
                ? fmt::format("{}://{}/{}", endpoint->scheme, endpoint->authority, az.account)
                : az.endpoint);
      }
    }
  }
  if (!connection.empty()) {
    statements.push_back(fmt::format(
        "CREATE OR REPLACE TEMPORARY SECRET lakepipe_azure (TYPE azure, CONNECTION_STRING {})",
        SqlString(connection)));
  } else if (!az.account.empty()) {
    statements.push_back(
        fmt::format("CREATE OR REPLACE TEMPORARY SECRET lakepipe_azure (TYPE azure, PROVIDER "
                    "credential_chain, ACCOUNT_NAME {})",
                    SqlString(az.account)));
  }
  return statements;
}

std::vector<std::string> StorageSettingStatements(const storage::StorageOptions& options) {
  const auto& retry = options.retry;
  const int attempts = std::max(1, retry.max_attempts);
  const double share = retry.deadline_seconds / attempts;
  const auto timeout = static_cast<int64_t>(std::max(1.0, std::floor(share)));
  const auto wait_ms = static_cast<int64_t>(std::max(0.0, retry.initial_backoff_seconds) * 1000);
  return {fmt::format("SET http_timeout = {}", timeout),
          fmt::format("SET http_retries = {}", attempts - 1),
          fmt::format("SET http_retry_wait_ms = {}", wait_ms),
          "SET http_retry_backoff = 2"};
}

}  // namespace lakepipe::duckdb
