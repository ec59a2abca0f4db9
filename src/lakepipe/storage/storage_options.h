#pragma once

#include <string>
#include <vector>

#include <arrow/result.h>
#include <arrow/status.h>

#include "lakepipe/storage/uri.h"

namespace YAML {
class Node;
}

namespace lakepipe::common {
class YamlReader;
}

namespace lakepipe::storage {

/// How requests address a bucket on S3-compatible stores.
enum class UrlStyle {
  kAuto,     ///< path style when an endpoint is set (MinIO, moto), virtual hosts on AWS
  kPath,     ///< http://endpoint/bucket/key
  kVirtual,  ///< http://bucket.endpoint/key
};

/// Where credentials come from. Secrets are never stored in options: they are read
/// from the provider's standard chain when a filesystem is made.
enum class CredentialsSource {
  /// The provider's standard chain: AWS env/profile/instance role;
  /// GOOGLE_APPLICATION_CREDENTIALS / ADC; AZURE_STORAGE_CONNECTION_STRING,
  /// AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, then managed identity / Azure CLI.
  kDefault,
  /// No credentials: public buckets and emulators without auth.
  kAnonymous,
};

/// Settings of one provider. Empty strings mean "the provider's default".
struct ProviderOptions {
  /// Service endpoint with scheme, e.g. "http://127.0.0.1:9000"; "" = the public service.
  std::string endpoint;
  /// S3 region; "" = from the environment, else "us-east-1" with an endpoint.
  std::string region;
  /// S3 only.
  UrlStyle url_style = UrlStyle::kAuto;
  CredentialsSource credentials = CredentialsSource::kDefault;
  /// PEM bundle of CAs for TLS; "" = /etc/ssl/certs/ca-certificates.crt when present.
  std::string tls_ca_file;
  /// Off only for test endpoints with self-signed certificates.
  bool verify_tls = true;
  /// Azure storage account; "" = from the URI or AZURE_STORAGE_ACCOUNT.
  std::string account;
  /// GCS project (bucket creation only); "" = GOOGLE_CLOUD_PROJECT.
  std::string project;
};

/// Retries of failed storage requests: exponential backoff with jitter, bounded by both
/// an attempt count and a total deadline, whichever comes first.
struct RetryOptions {
  int max_attempts = 5;
  double initial_backoff_seconds = 0.2;
  double max_backoff_seconds = 5.0;
  /// Total time budget of one operation including its retries.
  double deadline_seconds = 60.0;
  /// Time to establish a connection before an attempt counts as failed.
  double connect_timeout_seconds = 5.0;
  /// How long past the deadline a storage call may still be running before it is taken
  /// as hung and the run stops (HungCallWatchdog): GCS and Azure clients take no request
  /// timeout from Arrow and can wait minutes on a stalled connection. Raise it on links
  /// slower than ~200 KB/s, where a writer's flush of 32 MiB takes longer than that.
  double hung_call_seconds = 120.0;
};

/// One storage configuration for every provider (DESIGN.md §5). In YAML:
///
///   storage:
///     endpoint: http://127.0.0.1:9000   # top-level keys apply to every provider
///     region: us-east-1
///     url_style: path                   # auto | path | virtual
///     credentials: default              # default | anonymous
///     tls_ca_file: /etc/ssl/certs/ca-certificates.crt
///     verify_tls: true
///     retry: { max_attempts: 5, deadline_seconds: 60, hung_call_seconds: 120 }
///     s3: { endpoint: ... }             # per-provider blocks override top-level keys
///     gcs: { endpoint: ..., credentials: anonymous }
///     azure: { account: devstoreaccount1, endpoint: ... }
///
/// Plain value type, immutable once a Storage is made from it.
struct StorageOptions {
  ProviderOptions s3;
  ProviderOptions gcs;
  ProviderOptions azure;
  RetryOptions retry;

  ProviderOptions& For(Provider provider);
  const ProviderOptions& For(Provider provider) const;

  /// Options from the standard environment variables: AWS_ENDPOINT_URL[_S3], AWS_REGION /
  /// AWS_DEFAULT_REGION; STORAGE_EMULATOR_HOST (GCS emulator: endpoint, anonymous),
  /// GOOGLE_CLOUD_PROJECT; AZURE_STORAGE_CONNECTION_STRING (endpoint and account only:
  /// the key stays in the environment), AZURE_STORAGE_ACCOUNT.
  static StorageOptions FromEnvironment();

  /// The same, reading through the document's reader (its errors name the file and line).
  arrow::Status MergeYaml(const common::YamlReader& reader, const YAML::Node& node);

  /// Reads a YAML file whose top level is a storage block, or has one under `storage:`.
  arrow::Status MergeYamlFile(const std::string& path);
};

}  // namespace lakepipe::storage
