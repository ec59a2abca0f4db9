#pragma once

// The catalog's write-ahead log, and why lakepipe removes it.
//
// DuckDB keeps a database's committed but not yet checkpointed writes in "<path>.wal" (and,
// while it checkpoints, "<path>.checkpoint.wal"), named after the path a client opened,
// not after the file. A client that opened the catalog read-write before a publication
// keeps its old file after the rename, but its WAL lands under the catalog's name, and
// every later opener of the new catalog replays it onto a file it was not written for.
// DuckDB 1.5 does not notice: catalogs use the storage format DuckDB writes by default,
// whose WAL header carries no database identifier, so a stale WAL either fails every
// opener ("Failure while replaying WAL file") or silently applies another file's writes.
// Files in storage v1.4.0 or later put the file's identifier and checkpoint iteration in
// the WAL header, but that would not do either: publications are copies and share the
// identifier (a stale client that checkpoints as often as the builds did matches again),
// DuckDB then still fails the opener rather than ignore the WAL, and clients older than
// DuckDB 1.4 could no longer read the catalog.
//
// Lakepipe never writes a published catalog in place, so every WAL beside it is a
// client's. Two rules keep a stale one from harming readers:
// - At each publication, under the publish lock, just before the rename, the WAL files go:
//   they were written against the file being replaced, whose writes the new file does not
//   carry (a WAL of the new file cannot exist yet: it is not in place).
// - Before lakepipe reads the catalog, a WAL that makes the open fail is judged: DuckDB
//   always replays a WAL it wrote for a file onto that file, so a WAL that fails on a
//   private copy of the catalog, while the copy opens without it, belongs to another file
//   and is removed. A WAL that replays is kept (it may be a client's of this very file).

#include <memory>
#include <string>

#include <arrow/result.h>

namespace lakepipe::duckdb {
class Database;
}

namespace lakepipe::tablestore {

/// Removes the WAL files DuckDB names after the catalog at `path` ("<path>.wal",
/// "<path>.checkpoint.wal"). Call with the publish lock held, just before a new catalog is
/// renamed over `path`. Best effort: a file that stays is judged by the next reader.
void RemoveCatalogWal(const std::string& path);

/// Opens the published catalog at `path` read-only. When that fails and a WAL lies beside
/// it, takes the publish lock, removes the WAL if it was not written for this catalog
/// (see above) and opens again; otherwise returns the first error.
arrow::Result<std::unique_ptr<duckdb::Database>> OpenPublishedCatalog(const std::string& path);

}  // namespace lakepipe::tablestore
