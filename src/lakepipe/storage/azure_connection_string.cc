#include "lakepipe/storage/azure_connection_string.h"

#include <fmt/format.h>

namespace lakepipe::storage {
namespace {

// Azurite's published development account; not a secret.
constexpr const char* kDevAccount = "devstoreaccount1";
constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

arrow::Result<AzureConnectionString> AzureConnectionString::Parse(std::string_view text) {
  AzureConnectionString out;
  std::string protocol = "https";
  std::string suffix;
  bool development = false;
  while (!text.empty()) {
    const auto semi = text.find(';');
    std::string_view part = Trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      return arrow::Status::Invalid(
          "AZURE_STORAGE_CONNECTION_STRING: a part has no '=' (expected Key=Value;...)");
    }
    const std::string key(Trim(part.substr(0, eq)));
    const std::string value(Trim(part.substr(eq + 1)));
    if (key == "AccountName") {
      out.account_name = value;
    } else if (key == "AccountKey") {
      out.account_key = value;
    } else if (key == "SharedAccessSignature") {
      out.sas_token = value;
    } else if (key == "BlobEndpoint") {
      out.blob_endpoint = value;
    } else if (key == "DefaultEndpointsProtocol") {
      protocol = value;
    } else if (key == "EndpointSuffix") {
      suffix = value;
    } else if (key == "UseDevelopmentStorage") {
      development = value == "true";
    }
    // Queue/Table/File endpoints and other keys do not concern blob storage.
  }
  if (development) {
    if (out.account_name.empty()) out.account_name = kDevAccount;
    if (out.account_key.empty()) out.account_key = kDevKey;
    if (out.blob_endpoint.empty()) out.blob_endpoint = "http://127.0.0.1:10000/" + out.account_name;
  }
  if (out.blob_endpoint.empty() && !suffix.empty() && !out.account_name.empty()) {
    out.blob_endpoint = fmt::format("{}://{}.blob.{}", protocol, out.account_name, suffix);
  }
  if (out.account_name.empty()) {
    return arrow::Status::Invalid("AZURE_STORAGE_CONNECTION_STRING has no AccountName");
  }
  if (out.account_key.empty() && out.sas_token.empty()) {
    return arrow::Status::Invalid(
        "AZURE_STORAGE_CONNECTION_STRING has neither AccountKey nor SharedAccessSignature");
  }
  return out;
}

}  // namespace lakepipe::storage
