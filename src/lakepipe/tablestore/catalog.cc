#include "lakepipe/tablestore/catalog.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "lakepipe/common/crash_point.h"
#include "lakepipe/common/file_lock.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/file_locks.h"
#include "lakepipe/tablestore/table_scan_sql.h"

namespace lakepipe::tablestore {
namespace {

using duckdb::SqlString;

constexpr char kMetadataTables[] = R"sql(
CREATE SCHEMA IF NOT EXISTS lakepipe;
CREATE TABLE IF NOT EXISTS lakepipe.catalog_views (schema_name VARCHAR, view_name VARCHAR,
  create_sql VARCHAR);
CREATE TABLE IF NOT EXISTS lakepipe.stages (instance VARCHAR, stage VARCHAR, committed_slot VARCHAR,
  run_id VARCHAR, committed_at VARCHAR);
CREATE TABLE IF NOT EXISTS lakepipe.tasks (instance VARCHAR, stage VARCHAR, task VARCHAR, cache_key VARCHAR,
  version BIGINT, run_id VARCHAR, output_json JSON, slot VARCHAR);
CREATE TABLE IF NOT EXISTS lakepipe.tables (instance VARCHAR, stage VARCHAR, slot VARCHAR, "table" VARCHAR,
  files_json JSON, rows BIGINT, bytes BIGINT, schema_json JSON, content_hash VARCHAR,
  partition_by JSON);
CREATE TABLE IF NOT EXISTS lakepipe.runs (run_id VARCHAR, instance VARCHAR, flow VARCHAR, started_at VARCHAR,
  finished_at VARCHAR, status VARCHAR, error VARCHAR);
)sql";

std::string MetadataInserts(const MetadataSnapshot& snapshot) {
  std::string sql;
  for (const auto& s : snapshot.stages) {
    sql += fmt::format("INSERT INTO lakepipe.stages VALUES ({}, {}, {}, {}, {});\n",
                       SqlString(s.instance), SqlString(s.stage), SqlString(s.committed_slot),
                       SqlString(s.run_id), SqlString(s.committed_at));
  }
  for (const auto& t : snapshot.tasks) {
    sql += fmt::format("INSERT INTO lakepipe.tasks VALUES ({}, {}, {}, {}, {}, {}, {}, {});\n",
                       SqlString(t.instance), SqlString(t.stage), SqlString(t.task),
                       SqlString(t.cache_key), t.version, SqlString(t.run_id),
                       SqlString(t.output_json.dump()), SqlString(t.slot));
  }
  for (const auto& t : snapshot.tables) {
    sql += fmt::format(
        "INSERT INTO lakepipe.tables VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {});\n",
        SqlString(t.instance), SqlString(t.stage), SqlString(t.slot), SqlString(t.table),
        SqlString(FilesToJson(t.files).dump()), t.rows, t.bytes, SqlString(t.schema_json.dump()),
        SqlString(t.content_hash), SqlString(nlohmann::json(t.partition_by).dump()));
  }
  for (const auto& r : snapshot.runs) {
    sql += fmt::format("INSERT INTO lakepipe.runs VALUES ({}, {}, {}, {}, {}, {}, {});\n",
                       SqlString(r.run_id), SqlString(r.instance), SqlString(r.flow),
                       SqlString(r.started_at), SqlString(r.finished_at), SqlString(r.status),
                       SqlString(r.error));
  }
  return sql;
}

/// A view the catalog should hold: schema, name and the full statement that creates it.
struct ViewSpec {
  std::string schema;
  std::string name;
  std::string create_sql;
};

/// Every view of the catalog of `snapshot`, keyed "schema.name".
std::map<std::string, ViewSpec> DesiredViews(const CatalogTarget& target,
                                             const MetadataSnapshot& snapshot) {
  std::map<std::string, ViewSpec> views;
  for (const auto& stage : snapshot.stages) {
    const std::string slot_schema = stage.stage + "__" + stage.committed_slot;
    for (const TableRecord* table : snapshot.TablesIn(stage.stage, stage.committed_slot)) {
      const std::string slot_view =
          fmt::format("CREATE VIEW {}.{} AS {}", SqlIdentifier(slot_schema),
                      SqlIdentifier(table->table), TableScanSql(target.base, *table));
      views[slot_schema + "." + table->table] = {slot_schema, table->table, slot_view};
      // The alias names the slot view's content, so it is remade whenever that changes
      // (its columns may have changed too).
      views[stage.stage + "." + table->table] = {
          stage.stage, table->table,
          fmt::format("CREATE VIEW {0}.{1} AS SELECT * FROM {2}.{1} /* {3} */",
                      SqlIdentifier(stage.stage), SqlIdentifier(table->table),
                      SqlIdentifier(slot_schema), table->content_hash)};
    }
  }
  return views;
}

/// Brings the catalog open in `db` to `snapshot`: the metadata copies are rewritten; views
/// are dropped, kept or created by comparing their statements with those recorded in
/// lakepipe.catalog_views, so an unchanged view is never bound again (binding reads the
/// Parquet footers, from the object store when the base is remote).
arrow::Status UpdateCatalogStatements(duckdb::Database& db, const CatalogTarget& target,
                                      const MetadataSnapshot& snapshot) {
  ARROW_RETURN_NOT_OK(db.Execute(kMetadataTables));
  ARROW_ASSIGN_OR_RAISE(auto existing, db.QueryText("SELECT schema_name, view_name, create_sql "
                                                    "FROM lakepipe.catalog_views"));
  const auto desired = DesiredViews(target, snapshot);
  std::string sql =
      "DELETE FROM lakepipe.stages; DELETE FROM lakepipe.tasks; "
      "DELETE FROM lakepipe.tables; DELETE FROM lakepipe.runs;\n";
  sql += MetadataInserts(snapshot);
  std::set<std::string> kept;
  for (const auto& row : existing.rows) {
    const std::string schema = row[0].value_or("");
    const std::string name = row[1].value_or("");
    auto it = desired.find(schema + "." + name);
    if (it != desired.end() && it->second.create_sql == row[2].value_or("")) {
      kept.insert(it->first);
      continue;
    }
    sql += fmt::format("DROP VIEW IF EXISTS {}.{};\n", SqlIdentifier(schema), SqlIdentifier(name));
  }
  ARROW_RETURN_NOT_OK(db.Execute(sql));
  // Schemas of slots and stages no longer in the catalog go too.
  std::set<std::string> schemas;
  for (const auto& [key, view] : desired) schemas.insert(view.schema);
  ARROW_ASSIGN_OR_RAISE(auto present,
                        db.QueryText("SELECT schema_name FROM information_schema.schemata "
                                     "WHERE catalog_name = current_database() AND "
                                     "schema_name NOT IN ('main', 'lakepipe', "
                                     "'information_schema', 'pg_catalog')"));
  sql = "DELETE FROM lakepipe.catalog_views;\n";
  for (const auto& row : present.rows) {
    if (!schemas.contains(row[0].value_or(""))) {
      sql += fmt::format("DROP SCHEMA IF EXISTS {} CASCADE;\n", SqlIdentifier(row[0].value_or("")));
    }
  }
  for (const auto& schema : schemas) {
    sql += fmt::format("CREATE SCHEMA IF NOT EXISTS {};\n", SqlIdentifier(schema));
  }
  // Slot views before the aliases that read them.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, view] : desired) {
      const bool is_slot_view = view.schema.find("__") != std::string::npos;
      if ((pass == 0) != is_slot_view || kept.contains(key)) continue;
      sql += view.create_sql + ";\n";
    }
  }
  for (const auto& [key, view] : desired) {
    sql += fmt::format("INSERT INTO lakepipe.catalog_views VALUES ({}, {}, {});\n",
                       SqlString(view.schema), SqlString(view.name), SqlString(view.create_sql));
  }
  return db.Execute(sql);
}

arrow::Status UpdateCatalog(duckdb::Database& db, const CatalogTarget& target,
                            const MetadataSnapshot& snapshot) {
  // One transaction: one write to the file instead of one per statement.
  ARROW_RETURN_NOT_OK(db.Execute("BEGIN TRANSACTION"));
  auto status = UpdateCatalogStatements(db, target, snapshot);
  if (!status.ok()) {
    (void)db.Execute("ROLLBACK");
    return status;
  }
  return db.Execute("COMMIT");
}

// A catalog is built as `<catalog>.tmp-<pid>-<random>` beside it, then renamed over it.
constexpr char kTempInfix[] = ".tmp-";

// Removes the temp copies (and their `.wal`) killed runs left beside the catalog. Only the
// holder of the catalog's lock builds a copy, so with the lock held every such file
// belongs to a run that is gone. Best effort: a copy that stays costs only disk, and the
// next publish tries again.
void RemoveLeftoverTemps(const std::filesystem::path& path) {
  const std::string prefix = path.filename().string() + kTempInfix;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path(), ec)) {
    if (entry.path().filename().string().starts_with(prefix)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

}  // namespace

std::string DuckDbPath(const storage::Uri& uri) {
  return uri.is_local() ? uri.key() : uri.ToString();
}

std::string SqlIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  return out + "\"";
}

arrow::Status PublishCatalog(const CatalogTarget& target, const MetadataSnapshot& snapshot) {
  const std::filesystem::path path = std::filesystem::absolute(target.path);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  ARROW_ASSIGN_OR_RAISE(
      auto lock,
      FileLock::Wait((path.parent_path() / ("." + path.filename().string() + ".lock")).string()));
  RemoveLeftoverTemps(path);
  const std::string temp =
      fmt::format("{}{}{}-{:x}", path.string(), kTempInfix, ::getpid(), std::random_device{}());
  auto build = [&]() -> arrow::Status {
    // Start from the published catalog when there is one, so unchanged views stay as
    // they are; a copy that will not open is replaced by a fresh build.
    if (std::filesystem::exists(path, ec) && std::filesystem::copy_file(path, temp, ec) && !ec) {
      auto db = duckdb::Database::Open({temp, false, ""});
      if (db.ok()) {
        if (!target.base.is_local())
          ARROW_RETURN_NOT_OK((*db)->ConfigureStorage(target.storage_options));
        auto status = UpdateCatalog(**db, target, snapshot);
        if (status.ok()) return (*db)->Execute("CHECKPOINT");
      }
      std::filesystem::remove(temp, ec);
      std::filesystem::remove(temp + ".wal", ec);
    }
    ARROW_ASSIGN_OR_RAISE(auto db, duckdb::Database::Open({temp, false, ""}));
    if (!target.base.is_local()) ARROW_RETURN_NOT_OK(db->ConfigureStorage(target.storage_options));
    ARROW_RETURN_NOT_OK(UpdateCatalog(*db, target, snapshot));
    return db->Execute("CHECKPOINT");
  };
  auto status = build();
  if (status.ok()) CrashPoint("catalog-built-before-publish");
  if (status.ok() && std::rename(temp.c_str(), path.c_str()) != 0) {
    status = arrow::Status::IOError(
        fmt::format("publishing catalog '{}': {}", path.string(), strerror(errno)));
  }
  std::filesystem::remove(temp, ec);
  std::filesystem::remove(temp + ".wal", ec);
  if (!status.ok()) {
    return status.WithMessage(
        fmt::format("building catalog '{}': {}", path.string(), status.message()));
  }
  return status;
}

}  // namespace lakepipe::tablestore
