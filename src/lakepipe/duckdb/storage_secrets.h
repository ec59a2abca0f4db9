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

/// `SET` statements that give DuckDB's own HTTP client (httpfs: S3, GCS, http) the
/// storage's retry budget, so a query on a stalled or dead endpoint fails within about
/// retry.deadline_seconds plus the backoff waits, instead of DuckDB's defaults (30 s per
/// attempt, 4 attempts per request: 241 s seen for one listing). Each attempt gets an
/// equal share of the deadline (at least 1 s) as its connect and idle timeout; a
/// transfer that keeps moving is never cut. Azure reads go through the Azure SDK inside
/// DuckDB's azure extension, which takes no such settings.
std::vector<std::string> StorageSettingStatements(const storage::StorageOptions& options);

}  // namespace lakepipe::duckdb
