#include "lakepipe/storage/storage_environment.h"

#include <cstdlib>

namespace lakepipe::storage {
namespace {

std::string Lookup(const EnvLookup& env, const std::string& name) { return env(name).value_or(""); }

void AddS3(const ProviderOptions& s3, std::map<std::string, std::string>* out) {
  if (!s3.endpoint.empty()) {
    (*out)["AWS_ENDPOINT_URL"] = s3.endpoint;
    (*out)["AWS_ENDPOINT_URL_S3"] = s3.endpoint;
  }
  const std::string region = !s3.region.empty()     ? s3.region
                             : !s3.endpoint.empty() ? "us-east-1"
                                                    : "";
  if (!region.empty()) {
    (*out)["AWS_REGION"] = region;
    (*out)["AWS_DEFAULT_REGION"] = region;
  }
  if (!s3.tls_ca_file.empty()) (*out)["AWS_CA_BUNDLE"] = s3.tls_ca_file;
}

void AddGcs(const ProviderOptions& gcs, std::map<std::string, std::string>* out) {
  // The Google libraries send no credentials to STORAGE_EMULATOR_HOST: right for an
  // emulator (anonymous), wrong for an endpoint that wants them, which has no variable.
  if (!gcs.endpoint.empty() && gcs.credentials == CredentialsSource::kAnonymous) {
    (*out)["STORAGE_EMULATOR_HOST"] = gcs.endpoint;
  }
  if (!gcs.project.empty()) (*out)["GOOGLE_CLOUD_PROJECT"] = gcs.project;
}

void AddAzure(const ProviderOptions& azure, const EnvLookup& env,
              std::map<std::string, std::string>* out) {
  if (!azure.account.empty()) (*out)["AZURE_STORAGE_ACCOUNT"] = azure.account;
  // A connection string of ours is the user's own: it stays as it is.
  if (azure.endpoint.empty() || !Lookup(env, "AZURE_STORAGE_CONNECTION_STRING").empty()) return;
  const std::string protocol = azure.endpoint.starts_with("http://") ? "http" : "https";
  std::string connection = "DefaultEndpointsProtocol=" + protocol;
  if (!azure.account.empty()) connection += ";AccountName=" + azure.account;
  const std::string key = Lookup(env, "AZURE_STORAGE_KEY");
  const std::string sas = Lookup(env, "AZURE_STORAGE_SAS_TOKEN");
  if (!key.empty()) {
    connection += ";AccountKey=" + key;
  } else if (!sas.empty()) {
    connection += ";SharedAccessSignature=" + (sas.starts_with("?") ? sas.substr(1) : sas);
  }
  connection += ";BlobEndpoint=" + azure.endpoint;
  (*out)["AZURE_STORAGE_CONNECTION_STRING"] = connection;
}

}  // namespace

std::map<std::string, std::string> StorageEnvironment(const StorageOptions& options,
                                                      const EnvLookup& env) {
  std::map<std::string, std::string> out;
  AddS3(options.s3, &out);
  AddGcs(options.gcs, &out);
  AddAzure(options.azure, env, &out);
  return out;
}

std::map<std::string, std::string> StorageEnvironment(const StorageOptions& options) {
  return StorageEnvironment(options, [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace lakepipe::storage
