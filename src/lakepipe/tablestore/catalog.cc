#include "lakepipe/tablestore/catalog.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "lakepipe/common/crash_point.h"
#include "lakepipe/common/file_lock.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/catalog_wal.h"
#include "lakepipe/tablestore/file_locks.h"
#include "lakepipe/tablestore/layout.h"
#include "lakepipe/tablestore/metadata_schema.h"
#include "lakepipe/tablestore/table_scan_sql.h"

namespace lakepipe::tablestore {
namespace {

using duckdb::SqlString;

// The catalog's own tables around its copies of the metadata (metadata_schema.h).
constexpr char kCatalogViewsTable[] = R"sql(
CREATE SCHEMA IF NOT EXISTS lakepipe;
CREATE TABLE IF NOT EXISTS lakepipe.catalog_views (schema_name VARCHAR, view_name VARCHAR,
  create_sql VARCHAR);
)sql";
constexpr char kCatalogOwnerTable[] =
    "CREATE TABLE IF NOT EXISTS lakepipe.catalog_owner (flow VARCHAR, instance VARCHAR);\n";

std::string CatalogTables() {
  return kCatalogViewsTable + metadata_schema::DuckDbCreateTables() + kCatalogOwnerTable;
}

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
                       SqlString(t.cache_key), SqlString(t.version), SqlString(t.run_id),
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
    const std::string slot_schema = layout::SlotSchema(stage.stage, stage.committed_slot);
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
  ARROW_RETURN_NOT_OK(db.Execute(CatalogTables()));
  // A recorded view counts only if it is there: a client may have dropped it (or replayed
  // a stale WAL that did), and then it is made again.
  ARROW_ASSIGN_OR_RAISE(
      auto existing,
      db.QueryText("SELECT c.schema_name, c.view_name, c.create_sql, v.view_name IS NOT NULL "
                   "FROM lakepipe.catalog_views c LEFT JOIN duckdb_views() v ON "
                   "v.database_name = current_database() AND v.schema_name = c.schema_name "
                   "AND v.view_name = c.view_name"));
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
    if (it != desired.end() && it->second.create_sql == row[2].value_or("") &&
        row[3].value_or("") == "true") {
      kept.insert(it->first);
      continue;
    }
    sql += fmt::format("DROP VIEW IF EXISTS {}.{};\n", SqlIdentifier(schema), SqlIdentifier(name));
  }
  ARROW_RETURN_NOT_OK(db.Execute(sql));
  // Schemas of slots and stages no longer in the catalog go too. Only those lakepipe made
  // (they held its views): a schema a user created in the catalog stays.
  std::set<std::string> schemas;
  for (const auto& [key, view] : desired) schemas.insert(view.schema);
  sql = "DELETE FROM lakepipe.catalog_views;\n";
  std::set<std::string> dropped;
  for (const auto& row : existing.rows) {
    const std::string schema = row[0].value_or("");
    if (!schemas.contains(schema) && dropped.insert(schema).second) {
      sql += fmt::format("DROP SCHEMA IF EXISTS {} CASCADE;\n", SqlIdentifier(schema));
    }
  }
  sql += fmt::format(
      "DELETE FROM lakepipe.catalog_owner; INSERT INTO lakepipe.catalog_owner VALUES ({}, {});\n",
      SqlString(target.flow), SqlString(target.instance));
  for (const auto& schema : schemas) {
    sql += fmt::format("CREATE SCHEMA IF NOT EXISTS {};\n", SqlIdentifier(schema));
  }
  // Slot views before the aliases that read them.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, view] : desired) {
      const bool is_slot_view = layout::IsSlotSchema(view.schema);
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

// Removes the temp copies (and their `.wal`) killed runs left beside the catalog. Only the
// holder of the catalog's lock builds a copy, so with the lock held every such file
// belongs to a run that is gone. Best effort: a copy that stays costs only disk, and the
// next publish tries again.
void RemoveLeftoverTemps(const std::filesystem::path& path) {
  const std::string prefix = path.filename().string() + layout::kCatalogTempInfix;
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

arrow::Status CheckCatalogOwner(duckdb::Database& db, const CatalogTarget& target) {
  ARROW_ASSIGN_OR_RAISE(auto recorded,
                        db.QueryText("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                                     "current_database() AND schema_name = 'lakepipe' AND "
                                     "table_name = 'catalog_owner'"));
  if (recorded.rows.empty() || recorded.rows[0][0].value_or("0") == "0") {
    return arrow::Status::OK();  // written before catalogs recorded their owner: adopted
  }
  ARROW_ASSIGN_OR_RAISE(auto owner,
                        db.QueryText("SELECT flow, instance FROM lakepipe.catalog_owner"));
  if (owner.rows.empty()) return arrow::Status::OK();
  const std::string flow = owner.rows[0][0].value_or("");
  const std::string instance = owner.rows[0][1].value_or("");
  if (flow == target.flow && instance == target.instance) return arrow::Status::OK();
  return arrow::Status::Invalid(fmt::format(
      "catalog '{}' belongs to flow '{}' (instance '{}'), not to flow '{}' (instance '{}'): "
      "each flow and instance needs a catalog file of its own; set `table_store.catalog:` "
      "to another file (for one SQL view over several flows, open a DuckDB file of your own "
      "that ATTACHes each flow's catalog READ_ONLY)",
      std::filesystem::absolute(target.path).string(), flow, instance, target.flow,
      target.instance));
}

CatalogPublication::CatalogPublication(CatalogTarget target, std::unique_ptr<FileLock> lock)
    : target_(std::move(target)), lock_(std::move(lock)) {}

CatalogPublication::~CatalogPublication() {
  if (built_.empty()) return;
  std::error_code ec;
  std::filesystem::remove(built_, ec);
  std::filesystem::remove(built_ + ".wal", ec);
}

arrow::Result<std::unique_ptr<CatalogPublication>> CatalogPublication::Begin(CatalogTarget target) {
  const std::filesystem::path path = std::filesystem::absolute(target.path);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  ARROW_ASSIGN_OR_RAISE(auto lock, FileLock::Wait(layout::CatalogLockPath(path.string())));
  RemoveLeftoverTemps(path);
  return std::unique_ptr<CatalogPublication>(
      new CatalogPublication(std::move(target), std::move(lock)));
}

arrow::Status CatalogPublication::Build(const MetadataSnapshot& snapshot) {
  const std::filesystem::path path = std::filesystem::absolute(target_.path);
  std::error_code ec;
  if (!built_.empty()) {
    std::filesystem::remove(built_, ec);
    built_.clear();
  }
  // Built beside the catalog, then renamed over it.
  const std::string temp = layout::CatalogTempPath(path.string());
  auto build = [&]() -> arrow::Status {
    // Start from the published catalog when there is one, so unchanged views stay as
    // they are and users' schemas are kept; a copy that will not open is replaced by a
    // fresh build. The copy leaves the catalog's WAL behind (see catalog_wal.h).
    if (std::filesystem::exists(path, ec) && std::filesystem::copy_file(path, temp, ec) && !ec) {
      auto db = duckdb::Database::Open({temp, false, ""});
      if (db.ok()) {
        ARROW_RETURN_NOT_OK(CheckCatalogOwner(**db, target_));
        if (!target_.base.is_local())
          ARROW_RETURN_NOT_OK((*db)->ConfigureStorage(target_.storage_options));
        auto status = UpdateCatalog(**db, target_, snapshot);
        if (status.ok()) return (*db)->Execute("CHECKPOINT");
      }
      std::filesystem::remove(temp, ec);
      std::filesystem::remove(temp + ".wal", ec);
    }
    ARROW_ASSIGN_OR_RAISE(auto db, duckdb::Database::Open({temp, false, ""}));
    if (!target_.base.is_local())
      ARROW_RETURN_NOT_OK(db->ConfigureStorage(target_.storage_options));
    ARROW_RETURN_NOT_OK(UpdateCatalog(*db, target_, snapshot));
    return db->Execute("CHECKPOINT");
  };
  auto status = build();
  if (!status.ok()) {
    std::filesystem::remove(temp, ec);
    std::filesystem::remove(temp + ".wal", ec);
    return status.WithMessage(
        fmt::format("building catalog '{}': {}", path.string(), status.message()));
  }
  built_ = temp;
  return status;
}

arrow::Status CatalogPublication::Publish() {
  if (built_.empty()) return arrow::Status::Invalid("publishing a catalog that was not built");
  const std::string path = std::filesystem::absolute(target_.path).string();
  CrashPoint("catalog-built-before-publish");
  SealCatalogWal(path);
  if (std::rename(built_.c_str(), path.c_str()) != 0) {
    return arrow::Status::IOError(
        fmt::format("publishing catalog '{}': {}", path, strerror(errno)));
  }
  built_.clear();
  return arrow::Status::OK();
}

arrow::Status PublishCatalog(const CatalogTarget& target, const MetadataSnapshot& snapshot) {
  ARROW_ASSIGN_OR_RAISE(auto publication, CatalogPublication::Begin(target));
  ARROW_RETURN_NOT_OK(publication->Build(snapshot));
  return publication->Publish();
}

}  // namespace lakepipe::tablestore
