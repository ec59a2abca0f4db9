#pragma once

#include <memory>
#include <string>

#include <arrow/result.h>

#include "lakepipe/tablestore/metadata_store.h"

namespace lakepipe::tablestore {

/// Team mode (TABLESTORE.md §5): the metadata lives in schema `lakepipe_meta` of the
/// PostgreSQL database at `url` (postgresql://user[:password]@host:port/db[?…], or
/// postgres://), created or upgraded on open by versioned migrations (safe when several
/// processes open at once; a database migrated by a newer lakepipe is refused). Locks are
/// advisory locks, each Lock() on a connection of its own (advisory_locks.h).
///
/// Safe for concurrent use: calls share one connection and are serialized. A connection
/// found lost when a call begins is reopened; one lost during a call fails that call: a
/// commit is one transaction, so nothing of it is written, or, when the connection drops
/// during COMMIT itself, the error says the outcome is unknown. Errors and Describe()
/// never show the password.
arrow::Result<std::unique_ptr<MetadataStore>> OpenPostgresMetadataStore(const std::string& url);

}  // namespace lakepipe::tablestore
