#pragma once

// Which names a flow may give its stages and tasks (TABLESTORE.md §4): every name becomes
// a quoted DuckDB identifier in the catalog (a schema per stage "<stage>", per slot
// "<stage>__odd" / "<stage>__even", a view per task) and one path segment in the bucket.
// A name that passes here cannot break the catalog build after its stage has committed.

#include <string>
#include <string_view>

#include <arrow/status.h>

namespace lakepipe::flow {

/// How DuckDB compares identifiers: ASCII letters folded to lower case, every other byte
/// as it is ("Raw" and "raw" are one schema, "É" and "é" are two).
std::string NameKey(std::string_view name);

/// The database name DuckDB gives the catalog file at `path` when it opens it: the file
/// name up to its first '.', with "_db" added to main, temp and system ("shop.duckdb" →
/// "shop"). A schema of that name is ambiguous in every query, so no stage may take it.
std::string CatalogDatabaseName(std::string_view path);

/// OK when the catalog file's database name (CatalogDatabaseName) leaves the catalog's
/// own schemas usable: not lakepipe, information_schema, pg_catalog, memory, or a spelling
/// of main, temp and system that DuckDB does not rename.
arrow::Status CheckCatalogDatabaseName(std::string_view database);

/// OK when `name` can be a stage: a task name (CheckTaskName), no "__" (the catalog tells
/// slot schemas by it), and none of the schema names DuckDB or the catalog keep (main,
/// lakepipe, information_schema, pg_catalog, temp, system, memory) or `catalog_database`,
/// compared as DuckDB does (NameKey). Invalid otherwise, with the reason.
arrow::Status CheckStageName(std::string_view name, std::string_view catalog_database);

/// OK when `name` can be a task (its table): not empty, no '.' (it separates stage and
/// table in "stage.table"), no control character, and short enough to be one path segment
/// once encoded (lake/path_segment.h), with room for a slot suffix.
arrow::Status CheckTaskName(std::string_view name);

}  // namespace lakepipe::flow
