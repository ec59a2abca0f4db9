#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/c/abi.h>
#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/status.h>

#include "lakepipe/storage/storage_options.h"

namespace lakepipe::duckdb {

/// A query's result as text, for small results (metadata, CLI output, checks).
struct TextResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

/// An in-process DuckDB database (file or memory) with one connection. The vendor types
/// stay inside the .cc file. Not thread-safe: one Database per thread, or synchronize.
class Database {
 public:
  struct Options {
    /// File path; "" = in memory.
    std::string path;
    bool read_only = false;
    /// Folder with the pinned .duckdb_extension files; "" = LAKEPIPE_DUCKDB_EXTENSIONS,
    /// else the folder install-deps filled at build time.
    std::string extension_dir;
  };

  /// Opens the database. On error nothing is open and the message names the path.
  static arrow::Result<std::unique_ptr<Database>> Open(const Options& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Runs one or more statements; errors carry DuckDB's message (with its position).
  arrow::Status Execute(std::string_view sql);
  /// Runs a query and returns every value as text (NULL as nullopt).
  arrow::Result<TextResult> QueryText(std::string_view sql);
  /// Runs a query and streams its result as Arrow batches (one DuckDB chunk at a time).
  /// The reader must not outlive this Database.
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> QueryArrow(std::string_view sql);

  /// Makes `stream` readable as the view `name` until the view is dropped; DuckDB reads
  /// the stream once. The caller keeps the stream alive while the view is used, and
  /// releases it after: `stream` is wrapped in place, so that also releases the schemas
  /// DuckDB took from it.
  arrow::Status RegisterArrowView(const std::string& name, struct ArrowArrayStream* stream);

  /// Loads an extension ("httpfs", "azure", "postgres_scanner") by absolute path from the
  /// pinned extension folder; loading twice is a no-op.
  arrow::Status LoadExtension(std::string_view name);

  /// Loads httpfs and azure and creates temporary (in-memory, never persisted) secrets
  /// for S3, GCS and Azure from the same options and credential chains the storage layer
  /// uses, so `read_parquet('s3://…')` reaches the same endpoints.
  arrow::Status ConfigureStorage(const storage::StorageOptions& options);

  /// OK when `sql` is exactly one SELECT (SHOW, DESCRIBE, SUMMARIZE, VALUES and table
  /// PRAGMAs are SELECTs to DuckDB); otherwise Invalid naming the statement's kind. Every
  /// other kind can change something: COPY and EXPORT write files, ATTACH and INSTALL open
  /// or fetch them, SET undoes restrictions, and EXPLAIN ANALYZE runs its statement.
  /// Parse errors come back as DuckDB reports them.
  arrow::Status CheckReadOnly(std::string_view sql);

  /// From now on DuckDB opens only the database file and what lies under `directories`
  /// (local folders and bucket prefixes as DuckDB spells them, "/data/x/", "s3://b/p/"):
  /// sets allowed_directories, turns enable_external_access off, then locks the
  /// configuration so no statement can undo it. Call after LoadExtension and
  /// ConfigureStorage, which need the access this removes.
  arrow::Status RestrictFileAccess(const std::vector<std::string>& directories);

  /// DuckDB's version string, e.g. "v1.5.5".
  static std::string LibraryVersion();

 private:
  struct Handles;
  explicit Database(std::unique_ptr<Handles> handles, std::string extension_dir);

  std::unique_ptr<Handles> handles_;
  std::string extension_dir_;
  std::vector<std::string> loaded_;
};

/// `text` as a single-quoted SQL string literal.
std::string SqlString(std::string_view text);

}  // namespace lakepipe::duckdb
