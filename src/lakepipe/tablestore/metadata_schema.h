#pragma once

// The metadata tables (TABLESTORE.md §5: stages, tasks, tables, runs), described once. The
// embedded store (SQLite), the PostgreSQL store and the catalog's read-only copies (DuckDB)
// create and upgrade them with statements made here from that one description.
//
// A persisted schema only grows by versions: a change is added as the next version (a
// column's new type, say) and is never edited once released, since stores that applied it
// exist. Each store records the versions it applied and refuses versions it does not know.

#include <string>
#include <string_view>

namespace lakepipe::tablestore::metadata_schema {

/// The schema version this lakepipe writes. 1: the first tables. 2: tasks.version is text
/// (it was an integer): integers keep their decimal spelling, and so their cache keys.
int CurrentVersion();

/// SQLite: every table as of CurrentVersion(), CREATE TABLE IF NOT EXISTS (no schema name;
/// the store's own schema_version table is not included).
std::string SqliteCreateTables();
/// SQLite: the statements that take a store from `version` - 1 to `version` (2 and up).
std::string SqliteMigration(int version);

/// PostgreSQL, schema lakepipe_meta: migration `version` (1 creates the tables, with
/// NOT NULL columns and the runs_instance index; later ones alter them).
std::string PostgresMigration(int version);

/// DuckDB, schema lakepipe (the catalog's copies, without keys): CREATE TABLE IF NOT
/// EXISTS of every table as of CurrentVersion(), each followed by the changes that bring
/// a table an older catalog made up to date.
std::string DuckDbCreateTables();

}  // namespace lakepipe::tablestore::metadata_schema
