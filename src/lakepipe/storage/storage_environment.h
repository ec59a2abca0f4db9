#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "lakepipe/storage/storage_options.h"

namespace lakepipe::storage {

/// Reads one variable of our environment (std::getenv in production).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The environment variables that give a child program (an exec task, any user code) the
/// storage settings of `options` in each provider's standard variables, so the AWS, Google
/// and Azure libraries it uses (pyarrow.fs, boto3, DuckDB, the Azure SDKs) reach the same
/// stores as lakepipe without the user exporting anything:
///   S3:    AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_S3 (endpoint), AWS_REGION and
///          AWS_DEFAULT_REGION (region; us-east-1 with an endpoint and no region, as
///          lakepipe does), AWS_CA_BUNDLE (tls_ca_file);
///   GCS:   STORAGE_EMULATOR_HOST (an endpoint with anonymous credentials, i.e. an
///          emulator: the Google libraries send none there), GOOGLE_CLOUD_PROJECT;
///   Azure: AZURE_STORAGE_ACCOUNT (account), and, with an endpoint while our environment
///          has no AZURE_STORAGE_CONNECTION_STRING, one made of the account, the endpoint
///          and AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN when we have them.
/// Unset settings add nothing. There is no standard variable for the URL style or for
/// anonymous S3 access; credentials themselves are not copied: the child inherits our
/// environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, …), so
/// each provider's own chain finds them as ours does. The result may hold the Azure key
/// taken from `env`: pass it to a child's environment only, never log or write it.
std::map<std::string, std::string> StorageEnvironment(const StorageOptions& options,
                                                      const EnvLookup& env);

/// StorageEnvironment() over this process's environment.
std::map<std::string, std::string> StorageEnvironment(const StorageOptions& options);

}  // namespace lakepipe::storage
