#include "lakepipe/storage/storage_options.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "lakepipe/common/yaml_reader.h"
#include "lakepipe/storage/azure_connection_string.h"

namespace lakepipe::storage {
namespace {

using common::YamlReader;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// Applies one provider-level key; returns false when `key` is not a provider key.
arrow::Result<bool> ApplyProviderKey(const YamlReader& r, ProviderOptions* out,
                                     const std::string& key, const YAML::Node& value) {
  if (key == "endpoint") {
    ARROW_ASSIGN_OR_RAISE(out->endpoint, r.Value(value, key));
  } else if (key == "region") {
    ARROW_ASSIGN_OR_RAISE(out->region, r.Value(value, key));
  } else if (key == "url_style") {
    ARROW_ASSIGN_OR_RAISE(auto style, r.Value(value, key));
    if (style == "auto") {
      out->url_style = UrlStyle::kAuto;
    } else if (style == "path") {
      out->url_style = UrlStyle::kPath;
    } else if (style == "virtual" || style == "vhost") {
      out->url_style = UrlStyle::kVirtual;
    } else {
      return r.Error(value,
                       fmt::format("url_style '{}': use auto, path or virtual", style));
    }
  } else if (key == "credentials") {
    ARROW_ASSIGN_OR_RAISE(auto source, r.Value(value, key));
    if (source == "default") {
      out->credentials = CredentialsSource::kDefault;
    } else if (source == "anonymous") {
      out->credentials = CredentialsSource::kAnonymous;
    } else {
      return r.Error(value,
                       fmt::format("credentials '{}': use default or anonymous (secrets are "
                                   "read from the provider's environment, never from files)",
                                   source));
    }
  } else if (key == "anonymous") {
    ARROW_ASSIGN_OR_RAISE(bool anonymous, r.Bool(value, key));
    out->credentials = anonymous ? CredentialsSource::kAnonymous : CredentialsSource::kDefault;
  } else if (key == "tls_ca_file") {
    ARROW_ASSIGN_OR_RAISE(out->tls_ca_file, r.Value(value, key));
  } else if (key == "verify_tls") {
    ARROW_ASSIGN_OR_RAISE(out->verify_tls, r.Bool(value, key));
  } else if (key == "account") {
    ARROW_ASSIGN_OR_RAISE(out->account, r.Value(value, key));
  } else if (key == "project") {
    ARROW_ASSIGN_OR_RAISE(out->project, r.Value(value, key));
  } else {
    return false;
  }
  return true;
}

arrow::Status ApplyRetry(const YamlReader& r, RetryOptions* out, const YAML::Node& node) {
  if (!node.IsMap()) return r.Error(node, "'retry' must be a map");
  for (const auto& item : node) {
    ARROW_ASSIGN_OR_RAISE(const auto key, r.Key(item.first, "storage.retry"));
    ARROW_ASSIGN_OR_RAISE(double value, r.Number(item.second, "retry." + key));
    if (key == "max_attempts") {
      // Clamped before the cast: a double beyond int's range does not convert.
      out->max_attempts =
          std::max(1, static_cast<int>(std::min<double>(value, std::numeric_limits<int>::max())));
    } else if (key == "initial_backoff_seconds") {
      out->initial_backoff_seconds = value;
    } else if (key == "max_backoff_seconds") {
      out->max_backoff_seconds = value;
    } else if (key == "deadline_seconds") {
      out->deadline_seconds = value;
    } else if (key == "connect_timeout_seconds") {
      out->connect_timeout_seconds = value;
    } else if (key == "hung_call_seconds") {
      out->hung_call_seconds = value;
    } else {
      return r.Error(item.first, fmt::format("unknown key 'storage.retry.{}'", key));
    }
  }
  return arrow::Status::OK();
}

}  // namespace

ProviderOptions& StorageOptions::For(Provider provider) {
  return const_cast<ProviderOptions&>(std::as_const(*this).For(provider));
}

const ProviderOptions& StorageOptions::For(Provider provider) const {
  switch (provider) {
    case Provider::kGcs:
      return gcs;
    case Provider::kAzure:
      return azure;
    default:
      return s3;
  }
}

StorageOptions StorageOptions::FromEnvironment() {
  StorageOptions options;
  options.s3.endpoint = Env("AWS_ENDPOINT_URL_S3");
  if (options.s3.endpoint.empty()) options.s3.endpoint = Env("AWS_ENDPOINT_URL");
  options.s3.region = Env("AWS_REGION");
  if (options.s3.region.empty()) options.s3.region = Env("AWS_DEFAULT_REGION");

  // The variable every Google client library honours for emulators; it has no auth.
  std::string emulator = Env("STORAGE_EMULATOR_HOST");
  if (!emulator.empty()) {
    if (emulator.find("://") == std::string::npos) emulator = "http://" + emulator;
    options.gcs.endpoint = emulator;
    options.gcs.credentials = CredentialsSource::kAnonymous;
  }
  options.gcs.project = Env("GOOGLE_CLOUD_PROJECT");

  options.azure.account = Env("AZURE_STORAGE_ACCOUNT");
  const std::string connection = Env("AZURE_STORAGE_CONNECTION_STRING");
  if (!connection.empty()) {
    auto parsed = AzureConnectionString::Parse(connection);
    // A malformed string is reported when an Azure filesystem is made; here it only
    // contributes what it can.
    if (parsed.ok()) {
      if (options.azure.account.empty()) options.azure.account = parsed->account_name;
      options.azure.endpoint = parsed->blob_endpoint;
    }
  }
  return options;
}

arrow::Status StorageOptions::MergeYaml(const common::YamlReader& r, const YAML::Node& node) {
  if (!node || node.IsNull()) return arrow::Status::OK();
  if (!node.IsMap()) return r.Error(node, "'storage' must be a map");
  // Top-level keys first so that provider blocks override them, whatever their order.
  for (const auto& item : node) {
    ARROW_ASSIGN_OR_RAISE(const auto key, r.Key(item.first, "storage"));
    if (key == "s3" || key == "gcs" || key == "azure") continue;
    if (key == "retry") {
      ARROW_RETURN_NOT_OK(ApplyRetry(r, &retry, item.second));
      continue;
    }
    for (ProviderOptions* provider : {&s3, &gcs, &azure}) {
      ARROW_ASSIGN_OR_RAISE(bool known, ApplyProviderKey(r, provider, key, item.second));
      if (!known) return r.Error(item.first, fmt::format("unknown key 'storage.{}'", key));
    }
  }
  for (const auto& [name, provider] :
       {std::pair{"s3", &s3}, std::pair{"gcs", &gcs}, std::pair{"azure", &azure}}) {
    const YAML::Node block = node[name];
    if (!block) continue;
    if (!block.IsMap()) return r.Error(block, fmt::format("'storage.{}' must be a map", name));
    for (const auto& item : block) {
      ARROW_ASSIGN_OR_RAISE(const auto key, r.Key(item.first, fmt::format("storage.{}", name)));
      ARROW_ASSIGN_OR_RAISE(bool known, ApplyProviderKey(r, provider, key, item.second));
      if (!known) {
        return r.Error(item.first, fmt::format("unknown key 'storage.{}.{}'", name, key));
      }
    }
  }
  return arrow::Status::OK();
}

arrow::Status StorageOptions::MergeYamlFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return arrow::Status::IOError(fmt::format("cannot read storage config '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return arrow::Status::Invalid(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  const YamlReader r(path, text.str());
  if (root.IsMap() && root["storage"]) return MergeYaml(r, root["storage"]);
  return MergeYaml(r, root);
}

}  // namespace lakepipe::storage
