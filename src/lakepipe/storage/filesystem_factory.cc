#include "lakepipe/storage/filesystem_factory.h"

#include <cstdlib>
#include <filesystem>

#include <arrow/filesystem/azurefs.h>
#include <arrow/filesystem/gcsfs.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/filesystem/s3fs.h>
#include <fmt/format.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/storage/azure_connection_string.h"
#include "lakepipe/storage/errors.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::storage {
namespace {

constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string CaFile(const ProviderOptions& provider) {
  if (!provider.tls_ca_file.empty()) return provider.tls_ca_file;
  return std::filesystem::exists(kSystemCaBundle) ? kSystemCaBundle : "";
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeS3(const StorageOptions& options) {
  ARROW_RETURN_NOT_OK(arrow::fs::EnsureS3Initialized());
  const ProviderOptions& p = options.s3;
  arrow::fs::S3Options s3 = p.credentials == CredentialsSource::kAnonymous
                                ? arrow::fs::S3Options::Anonymous()
                                : arrow::fs::S3Options::Defaults();
  if (!p.endpoint.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto endpoint, Endpoint::Parse(p.endpoint));
    s3.endpoint_override = endpoint.authority;
    s3.scheme = endpoint.scheme;
  }
  s3.region = p.region.empty() && !p.endpoint.empty() ? "us-east-1" : p.region;
  // An endpoint override gives path-style addressing; virtual only when asked for.
  s3.force_virtual_addressing = p.url_style == UrlStyle::kVirtual;
  s3.tls_ca_file_path = CaFile(p);
  s3.tls_verify_certificates = p.verify_tls;
  s3.connect_timeout = options.retry.connect_timeout_seconds;
  s3.request_timeout = std::max(options.retry.connect_timeout_seconds * 6, 30.0);
  s3.retry_strategy =
      arrow::fs::S3RetryStrategy::GetAwsStandardRetryStrategy(options.retry.max_attempts);
  return arrow::fs::S3FileSystem::Make(s3);
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeGcs(const StorageOptions& options) {
  const ProviderOptions& p = options.gcs;
  arrow::fs::GcsOptions gcs = p.credentials == CredentialsSource::kAnonymous
                                  ? arrow::fs::GcsOptions::Anonymous()
                                  : arrow::fs::GcsOptions::Defaults();
  if (!p.endpoint.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto endpoint, Endpoint::Parse(p.endpoint));
    gcs.endpoint_override = endpoint.authority;
    gcs.scheme = endpoint.scheme;
  }
  if (!p.project.empty()) gcs.project_id = p.project;
  // The client's own retry loop; left at its default a failure hangs for 15 minutes.
  // A quarter of the deadline: the client's last backoff and attempt run past its limit
  // (a call under a 3.3 s limit was seen taking 5 s against three 503s), and RetryPolicy
  // starts another call only when one as long still ends before the deadline, so a third
  // would often leave room for no second call at all.
  gcs.retry_limit_seconds = options.retry.deadline_seconds / 4;
  return arrow::fs::GcsFileSystem::Make(gcs);
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeAzure(const Uri& uri,
                                                                const StorageOptions& options) {
  const ProviderOptions& p = options.azure;
  arrow::fs::AzureOptions azure;
  std::optional<AzureConnectionString> connection;
  if (const std::string text = Env("AZURE_STORAGE_CONNECTION_STRING"); !text.empty()) {
    ARROW_ASSIGN_OR_RAISE(connection, AzureConnectionString::Parse(text));
  }
  azure.account_name = !uri.account().empty() ? uri.account()
                       : !p.account.empty()   ? p.account
                       : connection           ? connection->account_name
                                              : "";
  if (azure.account_name.empty()) {
    return Naming(arrow::Status::Invalid(fmt::format(
                      "'{}': no Azure storage account: set storage.azure.account, "
                      "AZURE_STORAGE_ACCOUNT or AZURE_STORAGE_CONNECTION_STRING, or use "
                      "abfs://container@account.dfs.core.windows.net/...",
                      uri.ToString())),
                  Subject::Uri(uri.ToString()));
  }
  std::string endpoint_text = p.endpoint;
  if (endpoint_text.empty() && connection) endpoint_text = connection->blob_endpoint;
  if (!endpoint_text.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto endpoint, Endpoint::Parse(endpoint_text));
    // Emulators (Azurite) put the account in the path: a fully qualified authority tells
    // Arrow to do that. Public endpoints "<account>.blob.<suffix>" become ".blob.<suffix>".
    std::string authority = endpoint.authority;
    const std::string prefix = azure.account_name + ".";
    if (authority.starts_with(prefix)) authority = authority.substr(azure.account_name.size());
    azure.blob_storage_authority = authority;
    azure.dfs_storage_authority = authority;
    azure.blob_storage_scheme = endpoint.scheme;
    azure.dfs_storage_scheme = endpoint.scheme;
  }
  const bool same_account = connection && connection->account_name == azure.account_name;
  const std::string key = same_account ? connection->account_key : Env("AZURE_STORAGE_KEY");
  const std::string sas = same_account ? connection->sas_token : Env("AZURE_STORAGE_SAS_TOKEN");
  if (p.credentials == CredentialsSource::kAnonymous) {
    ARROW_RETURN_NOT_OK(azure.ConfigureAnonymousCredential());
  } else if (!key.empty()) {
    ARROW_RETURN_NOT_OK(azure.ConfigureAccountKeyCredential(key));
  } else if (!sas.empty()) {
    ARROW_RETURN_NOT_OK(azure.ConfigureSASCredential(sas));
  } else {
    ARROW_RETURN_NOT_OK(azure.ConfigureDefaultCredential());
  }
  return arrow::fs::AzureFileSystem::Make(azure);
}

}  // namespace

arrow::Result<Endpoint> Endpoint::Parse(const std::string& text) {
  Endpoint out;
  std::string_view rest = text;
  const auto sep = rest.find("://");
  if (sep == std::string_view::npos) {
    out.scheme = "https";
  } else {
    out.scheme = std::string(rest.substr(0, sep));
    rest.remove_prefix(sep + 3);
  }
  if (out.scheme != "http" && out.scheme != "https") {
    return arrow::Status::Invalid(fmt::format("endpoint '{}': scheme must be http or https", text));
  }
  const auto slash = rest.find('/');
  out.authority = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  if (out.authority.empty()) {
    return arrow::Status::Invalid(fmt::format("endpoint '{}' has no host", text));
  }
  return out;
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeFileSystem(
    const Uri& uri, const StorageOptions& options) {
  arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> fs;
  switch (uri.provider()) {
    case Provider::kLocal:
      fs = std::make_shared<arrow::fs::LocalFileSystem>();
      break;
    case Provider::kS3:
      fs = MakeS3(options);
      break;
    case Provider::kGcs:
      fs = MakeGcs(options);
      break;
    case Provider::kAzure:
      fs = MakeAzure(uri, options);
      break;
  }
  // Errors that name the URI in their own words pass as they are.
  if (!fs.ok() && !HasSubject(fs.status(), Subject::Uri(uri.ToString()))) {
    return OperationFailed("opening", uri, fs.status());
  }
  return fs;
}

}  // namespace lakepipe::storage
