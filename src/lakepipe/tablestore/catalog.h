#pragma once

#include <string>

#include <arrow/status.h>

#include "lakepipe/storage/storage_options.h"
#include "lakepipe/storage/uri.h"
#include "lakepipe/tablestore/metadata.h"

namespace lakepipe::tablestore {

/// Where an instance's catalog goes and what its views point at.
struct CatalogTarget {
  std::string path;  ///< the DuckDB file users open (local)
  storage::Uri base;
  std::string instance;
  /// Used to reach object stores while the views are bound; never written to the file.
  storage::StorageOptions storage_options;
};

/// Builds the catalog of `snapshot` (TABLESTORE.md §4) in a new file beside `target.path`
/// and renames it into place, so a client holding the old file open is never blocked and
/// never blocks: per committed slot a schema "<stage>__<slot>" of views reading an explicit
/// list of files (never a glob: a half-written file is never read), per stage a schema
/// "<stage>" of views aliasing the committed slot, and a schema "lakepipe" with copies of
/// the metadata (stages, tasks, tables, runs). Publishers on this machine are serialized
/// by a file lock beside the catalog. The file holds no secrets.
arrow::Status PublishCatalog(const CatalogTarget& target, const MetadataSnapshot& snapshot);

/// How DuckDB names the file at `uri`: the local path, or the URI (s3://, gs://, az://).
std::string DuckDbPath(const storage::Uri& uri);

/// `name` quoted as a SQL identifier.
std::string SqlIdentifier(const std::string& name);

}  // namespace lakepipe::tablestore
