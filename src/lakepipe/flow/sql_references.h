#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/table_store.h"

namespace lakepipe::flow {

/// The `stage.table` references of a SQL query, found by DuckDB's own parser
/// (json_serialize_sql), never by pattern matching: names inside strings, comments and
/// CTEs are not references; a CTE shadows nothing with a schema. Sorted, unique.
/// A syntax error is Invalid with DuckDB's message and position.
arrow::Result<std::vector<tablestore::TableRef>> TableReferences(duckdb::Database& db,
                                                                 const std::string& sql);

/// A file a SQL query reads by itself: a constant path argument of a table function that
/// reads files (read_csv, read_csv_auto, read_parquet, parquet_scan, read_json*,
/// read_ndjson*, read_text, read_blob; each item of a list argument), or a file named in
/// FROM ('orders.csv'). Found by DuckDB's parser: a path built by an expression is not
/// one.
struct SqlFileReference {
  std::string path;  ///< as written: a local path (maybe relative, maybe a glob) or a URI
  size_t offset;     ///< byte offset of its literal in the SQL text
};

/// Every file reference of the single statement `sql`, in text order. Errors as
/// TableReferences().
arrow::Result<std::vector<SqlFileReference>> FileReferences(duckdb::Database& db,
                                                            const std::string& sql);

/// FileReferences() of each SQL text, parsed once: a run asks for a task's files for its
/// cache key and again to execute it. Thread-safe (tasks run on threads); the parser
/// database is opened on first use.
class FileReferenceCache {
 public:
  arrow::Result<std::vector<SqlFileReference>> Get(const std::string& sql);

 private:
  std::mutex mutex_;
  std::unique_ptr<duckdb::Database> parser_;
  std::map<std::string, std::vector<SqlFileReference>> files_;  ///< by SQL text
};

/// Where a SQL task's file reference points: URIs (s3://, https://, …) and absolute paths
/// as written, ~/… under $HOME (as DuckDB expands it), a relative local path under `dir`
/// (the flow file's folder, as for read tasks), wherever lakepipe runs.
std::string ResolveSqlFile(const std::string& path, const std::string& dir);

/// `sql` with each reference of `files` whose path is relative written as the absolute
/// path ResolveSqlFile() gives it, so DuckDB reads the file the cache key fingerprints.
/// A relative path not written as a '…' or "…" literal ($$…$$) is Invalid.
arrow::Result<std::string> SqlWithResolvedFiles(const std::string& sql,
                                                const std::vector<SqlFileReference>& files,
                                                const std::string& dir);

}  // namespace lakepipe::flow
