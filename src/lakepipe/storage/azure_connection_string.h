#pragma once

#include <string>
#include <string_view>

#include <arrow/result.h>

namespace lakepipe::storage {

/// The parts of an Azure Storage connection string that lakepipe uses. Arrow's Azure
/// filesystem does not read connection strings, so we split one into account, key and
/// endpoint. `UseDevelopmentStorage=true` means Azurite's well-known account.
///
/// Holds a secret (account_key / sas_token): never log or print it.
struct AzureConnectionString {
  std::string account_name;
  std::string account_key;
  std::string sas_token;
  /// "http://127.0.0.1:10000/devstoreaccount1" style; "" = the public service.
  std::string blob_endpoint;

  /// Errors name the key that is wrong, never the string (it holds a secret).
  static arrow::Result<AzureConnectionString> Parse(std::string_view text);
};

}  // namespace lakepipe::storage
