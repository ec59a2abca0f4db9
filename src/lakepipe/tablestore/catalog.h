#pragma once

#include <memory>
#include <string>

#include <arrow/result.h>
#include <arrow/status.h>

#include "lakepipe/storage/storage_options.h"
#include "lakepipe/storage/uri.h"
#include "lakepipe/tablestore/metadata.h"

namespace lakepipe {
class FileLock;
}
namespace lakepipe::duckdb {
class Database;
}

namespace lakepipe::tablestore {

/// Where an instance's catalog goes and what its views point at.
struct CatalogTarget {
  std::string path;  ///< the DuckDB file users open (local)
  storage::Uri base;
  /// The flow and instance the catalog belongs to: recorded in it, and a catalog recorded
  /// for another flow or instance is never overwritten.
  std::string flow;
  std::string instance;
  /// Used to reach object stores while the views are bound; never written to the file.
  storage::StorageOptions storage_options;
};

/// One publication of the catalog (TABLESTORE.md §4): the next catalog is built in a new
/// file beside `target.path`, then renamed into place, so a client holding the old file
/// open is never blocked and never blocks. The catalog holds per committed slot a schema
/// "<stage>__<slot>" of views reading an explicit list of files (never a glob: a
/// half-written file is never read), per stage a schema "<stage>" of views aliasing the
/// committed slot, a schema "lakepipe" with copies of the metadata (stages, tasks, tables,
/// runs) and the flow and instance it belongs to; schemas users create are kept. The file
/// holds no secrets.
///
/// The object holds the catalog's publish lock (a file lock beside it) from Begin() until
/// it is destroyed, so publishers on this machine are serialized and a caller can build,
/// commit its metadata, then publish, with no other publication in between. Destroyed
/// without Publish(), it removes what it built and the published catalog stays as it was.
/// Not thread-safe.
class CatalogPublication {
 public:
  /// Takes the publish lock (waiting for another publisher on this machine).
  static arrow::Result<std::unique_ptr<CatalogPublication>> Begin(CatalogTarget target);
  ~CatalogPublication();
  CatalogPublication(const CatalogPublication&) = delete;
  CatalogPublication& operator=(const CatalogPublication&) = delete;

  /// Builds the catalog of `snapshot` beside the published one (from a copy of it, so
  /// unchanged views are not bound again). Fails, leaving the published catalog as it
  /// was, when DuckDB refuses a view or when the published catalog belongs to another
  /// flow or instance (the message names the file, both flows and the fix).
  arrow::Status Build(const MetadataSnapshot& snapshot);
  /// Renames the built file over the catalog. Before that it removes the catalog's WAL
  /// files: written by clients of the file being replaced, they would be replayed onto the
  /// new one (see catalog_wal.h).
  arrow::Status Publish();

 private:
  CatalogPublication(CatalogTarget target, std::unique_ptr<FileLock> lock);

  const CatalogTarget target_;
  std::unique_ptr<FileLock> lock_;
  std::string built_;  ///< the temp file Build() wrote; "" none
};

/// Begin(), Build(snapshot), Publish().
arrow::Status PublishCatalog(const CatalogTarget& target, const MetadataSnapshot& snapshot);

/// OK when the catalog open in `db` may be republished for `target`'s flow and instance:
/// it records them, or records no owner (a catalog written before catalogs recorded theirs
/// is adopted). Otherwise Invalid naming the file, both flows and instances, and the fix.
arrow::Status CheckCatalogOwner(duckdb::Database& db, const CatalogTarget& target);

/// How DuckDB names the file at `uri`: the local path, or the URI (s3://, gs://, az://).
std::string DuckDbPath(const storage::Uri& uri);

/// `name` quoted as a SQL identifier.
std::string SqlIdentifier(const std::string& name);

}  // namespace lakepipe::tablestore
