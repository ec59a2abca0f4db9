#include "lakepipe/storage/storage_options.h"

#include <cstdlib>
#include <functional>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "lakepipe/storage/azure_connection_string.h"

namespace lakepipe::storage {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

arrow::Status YamlError(const std::string& where, const YAML::Node& node, const std::string& what) {
  const auto mark = node.Mark();
  if (mark.line >= 0) {
    return arrow::Status::Invalid(fmt::format("{}:{}: {}", where, mark.line + 1, what));
  }
  return arrow::Status::Invalid(fmt::format("{}: {}", where, what));
}

// The text of a key of the map `path`; a list or a map as a key is an error.
arrow::Result<std::string> KeyOf(const YAML::Node& key, const std::string& where,
                                 const std::string& path) {
  if (key.IsMap() || key.IsSequence()) {
    return YamlError(where, key, fmt::format("keys of '{}' must be strings", path));
  }
  return key.as<std::string>();
}

arrow::Result<std::string> ScalarOf(const YAML::Node& node, const std::string& where,
                                    const std::string& key) {
  if (!node.IsScalar()) return YamlError(where, node, fmt::format("'{}' must be a value", key));
  return node.Scalar();
}

arrow::Result<bool> BoolOf(const YAML::Node& node, const std::string& where,
                           const std::string& key) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    return YamlError(where, node, fmt::format("'{}' must be true or false", key));
  }
  return value;
}

arrow::Result<double> NumberOf(const YAML::Node& node, const std::string& where,
                               const std::string& key) {
  double value = 0;
  // !(value >= 0) also refuses .nan.
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) || !(value >= 0)) {
    return YamlError(where, node, fmt::format("'{}' must be a non-negative number", key));
  }
  return value;
}

// Applies one provider-level key; returns false when `key` is not a provider key.
arrow::Result<bool> ApplyProviderKey(ProviderOptions* out, const std::string& key,
                                     const YAML::Node& value, const std::string& where) {
  if (key == "endpoint") {
    ARROW_ASSIGN_OR_RAISE(out->endpoint, ScalarOf(value, where, key));
  } else if (key == "region") {
    ARROW_ASSIGN_OR_RAISE(out->region, ScalarOf(value, where, key));
  } else if (key == "url_style") {
    ARROW_ASSIGN_OR_RAISE(auto style, ScalarOf(value, where, key));
    if (style == "auto") {
      out->url_style = UrlStyle::kAuto;
    } else if (style == "path") {
      out->url_style = UrlStyle::kPath;
    } else if (style == "virtual" || style == "vhost") {
      out->url_style = UrlStyle::kVirtual;
    } else {
      return YamlError(where, value,
                       fmt::format("url_style '{}': use auto, path or virtual", style));
    }
  } else if (key == "credentials") {
    ARROW_ASSIGN_OR_RAISE(auto source, ScalarOf(value, where, key));
    if (source == "default") {
      out->credentials = CredentialsSource::kDefault;
    } else if (source == "anonymous") {
      out->credentials = CredentialsSource::kAnonymous;
    } else {
      return YamlError(where, value,
                       fmt::format("credentials '{}': use default or anonymous (secrets are "
                                   "read from the provider's environment, never from files)",
                                   source));
    }
  } else if (key == "anonymous") {
    ARROW_ASSIGN_OR_RAISE(bool anonymous, BoolOf(value, where, key));
    out->credentials = anonymous ? CredentialsSource::kAnonymous : CredentialsSource::kDefault;
  } else if (key == "tls_ca_file") {
    ARROW_ASSIGN_OR_RAISE(out->tls_ca_file, ScalarOf(value, where, key));
  } else if (key == "verify_tls") {
    ARROW_ASSIGN_OR_RAISE(out->verify_tls, BoolOf(value, where, key));
  } else if (key == "account") {
    ARROW_ASSIGN_OR_RAISE(out->account, ScalarOf(value, where, key));
  } else if (key == "project") {
    ARROW_ASSIGN_OR_RAISE(out->project, ScalarOf(value, where, key));
  } else {
    return false;
  }
  return true;
}

arrow::Status ApplyRetry(RetryOptions* out, const YAML::Node& node, const std::string& where) {
  if (!node.IsMap()) return YamlError(where, node, "'retry' must be a map");
  for (const auto& item : node) {
    ARROW_ASSIGN_OR_RAISE(const auto key, KeyOf(item.first, where, "storage.retry"));
    ARROW_ASSIGN_OR_RAISE(double value, NumberOf(item.second, where, "retry." + key));
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
      return YamlError(where, item.first, fmt::format("unknown key 'storage.retry.{}'", key));
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

arrow::Status StorageOptions::MergeYaml(const YAML::Node& node, const std::string& where) {
  if (!node || node.IsNull()) return arrow::Status::OK();
  if (!node.IsMap()) return YamlError(where, node, "'storage' must be a map");
  // Top-level keys first so that provider blocks override them, whatever their order.
  for (const auto& item : node) {
    ARROW_ASSIGN_OR_RAISE(const auto key, KeyOf(item.first, where, "storage"));
    if (key == "s3" || key == "gcs" || key == "azure") continue;
    if (key == "retry") {
      ARROW_RETURN_NOT_OK(ApplyRetry(&retry, item.second, where));
      continue;
    }
    for (ProviderOptions* provider : {&s3, &gcs, &azure}) {
      ARROW_ASSIGN_OR_RAISE(bool known, ApplyProviderKey(provider, key, item.second, where));
      if (!known) {
        return YamlError(where, item.first, fmt::format("unknown key 'storage.{}'", key));
      }
    }
  }
  for (const auto& [name, provider] :
       {std::pair{"s3", &s3}, std::pair{"gcs", &gcs}, std::pair{"azure", &azure}}) {
    const YAML::Node block = node[name];
    if (!block) continue;
    if (!block.IsMap())
      return YamlError(where, block, fmt::format("'storage.{}' must be a map", name));
    for (const auto& item : block) {
      ARROW_ASSIGN_OR_RAISE(const auto key,
                            KeyOf(item.first, where, fmt::format("storage.{}", name)));
      ARROW_ASSIGN_OR_RAISE(bool known, ApplyProviderKey(provider, key, item.second, where));
      if (!known) {
        return YamlError(where, item.first, fmt::format("unknown key 'storage.{}.{}'", name, key));
      }
    }
  }
  return arrow::Status::OK();
}

arrow::Status StorageOptions::MergeYamlFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return arrow::Status::IOError(fmt::format("cannot read storage config '{}'", path));
  } catch (const YAML::Exception& e) {
    return arrow::Status::Invalid(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  if (root.IsMap() && root["storage"]) return MergeYaml(root["storage"], path);
  return MergeYaml(root, path);
}

}  // namespace lakepipe::storage
