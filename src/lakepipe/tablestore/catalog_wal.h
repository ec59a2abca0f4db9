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
// Lakepipe never writes a published catalog in place, and the catalog is lakepipe's: users
// read it (their own tables go in a file of theirs that ATTACHes it READ_ONLY). So no
// client may leave a WAL under its name:
// - Each publication, under the publish lock, just before the rename, makes "<path>.wal"
//   a symbolic link to /dev/null (an atomic rename over whatever WAL was there). DuckDB
//   replays it as an empty log, so every opener, read-only or read-write, opens the new
//   file; and a client that writes, whether it opened the file before the publication or
//   after, fails at its commit ("Could not fsync file …wal") instead of leaving a log
//   that every later opener would replay onto a file it was not written for. Tested with
//   DuckDB 1.5.5.
// - A real WAL can still lie there, left by a catalog an older lakepipe published, or in
//   the instant between the link and the rename. Before lakepipe reads the catalog, a WAL
//   that makes the open fail is judged: DuckDB always replays a WAL it wrote for a file
//   onto that file, so a WAL that fails on a private copy of the catalog, while the copy
//   opens without it, belongs to another file and is removed. A WAL that replays is kept
//   (it may be a client's of this very file); the next publication replaces it.

#include <memory>
#include <string>

#include <arrow/result.h>

namespace lakepipe::duckdb {
class Database;
}

namespace lakepipe::tablestore {

/// Makes "<path>.wal" a link to /dev/null, replacing any WAL there, and removes
/// "<path>.checkpoint.wal". Call with the publish lock held, just before a new catalog is
/// renamed over `path`. Best effort: when no link can be made, the WAL is removed, and a
/// WAL that comes back is judged by the next reader.
void SealCatalogWal(const std::string& path);

/// Opens the published catalog at `path` read-only. When that fails and a WAL lies beside
/// it, takes the publish lock, removes the WAL if it was not written for this catalog
/// (see above) and opens again; otherwise returns the first error.
arrow::Result<std::unique_ptr<duckdb::Database>> OpenPublishedCatalog(const std::string& path);

}  // namespace lakepipe::tablestore
