#pragma once

#include <string>
#include <vector>

#include "lakepipe/storage/storage_options.h"

namespace lakepipe::duckdb {

/// `CREATE OR REPLACE TEMPORARY SECRET` statements that give DuckDB's httpfs and azure
/// extensions the endpoints and credentials the storage layer uses for the same options.
/// The statements hold secrets read from the environment: run them, never log or store
/// them. Temporary secrets live in memory only, so no catalog file ever holds one.
///
/// Limits of DuckDB's own clients, named so nobody is surprised: S3 keys come from
/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (profiles and instance
/// roles need DuckDB's aws extension, which we do not pin); GCS takes HMAC keys from
/// GCS_HMAC_KEY_ID / GCS_HMAC_SECRET (or none, for emulators).
std::vector<std::string> StorageSecretStatements(const storage::StorageOptions& options);

}  // namespace lakepipe::duckdb
