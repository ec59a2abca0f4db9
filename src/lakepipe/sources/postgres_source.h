#pragma once

#include <atomic>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lakepipe/sources/ingest_source.h"

namespace lakepipe::sources {

/// The built-in `postgres` reader: one table (or view) read through DuckDB's
/// postgres_scanner extension (binary COPY, no JSON per row), streamed as Arrow batches.
/// Incremental with a replication key: rows with key >= the last bookmark, in key order
/// (NULL keys first; the ingest runner drops the rows at the bookmark that a committed run
/// holds); the new bookmark is the largest non-NULL key read, stored as Singer state
///   {"bookmarks": {"<stream>": {"replication_key": "<k>", "replication_key_value": v}}}.
class PostgresSource : public IngestSource {
 public:
  /// `url`: postgresql://user@host:port/db (a password comes from PGPASSWORD or
  /// ~/.pgpass, never from files we write; one in the URL is accepted and never shown:
  /// errors name the URL without it); `table`: "schema.table" or "table".
  PostgresSource(std::string url, std::string table, std::string stream,
                 std::string replication_key, std::optional<nlohmann::json> state)
      : url_(std::move(url)),
        table_(std::move(table)),
        stream_(std::move(stream)),
        replication_key_(std::move(replication_key)),
        state_(std::move(state)) {}

  arrow::Status Run(IngestSink* sink) override;
  void Cancel() override { cancelled_ = true; }

 private:
  std::optional<nlohmann::json> SavedBookmark() const;
  arrow::Status ReadAll(IngestSink* sink);
  /// `status` with url_'s password removed from its message.
  arrow::Status Redacted(const arrow::Status& status) const;

  std::string url_;
  std::string table_;
  std::string stream_;
  std::string replication_key_;
  std::optional<nlohmann::json> state_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace lakepipe::sources
