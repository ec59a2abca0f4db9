#include "lakepipe/tablestore/catalog.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/file_locks.h"

namespace lakepipe::tablestore {
namespace {

using duckdb::SqlString;

constexpr char kMetadataTables[] = R"sql(
CREATE SCHEMA lakepipe;
CREATE TABLE lakepipe.stages (instance VARCHAR, stage VARCHAR, committed_slot VARCHAR,
  run_id VARCHAR, committed_at VARCHAR);
CREATE TABLE lakepipe.tasks (instance VARCHAR, stage VARCHAR, task VARCHAR, cache_key VARCHAR,
  version BIGINT, run_id VARCHAR, output_json JSON, slot VARCHAR);
CREATE TABLE lakepipe.tables (instance VARCHAR, stage VARCHAR, slot VARCHAR, "table" VARCHAR,
  files_json JSON, rows BIGINT, bytes BIGINT, schema_json JSON, content_hash VARCHAR,
  partition_by JSON);
CREATE TABLE lakepipe.runs (run_id VARCHAR, instance VARCHAR, flow VARCHAR, started_at VARCHAR,
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

std::string SlotViews(const CatalogTarget& target, const std::string& schema,
                      const std::vector<const TableRecord*>& tables) {
  std::string sql = fmt::format("CREATE SCHEMA {};\n", SqlIdentifier(schema));
  for (const TableRecord* table : tables) {
    std::string files;
    for (const auto& file : table->files) {
      files += (files.empty() ? "" : ", ") + SqlString(DuckDbPath(target.base.Join(file.path)));
    }
    sql += fmt::format("CREATE VIEW {}.{} AS SELECT * FROM read_parquet([{}]{});\n",
                       SqlIdentifier(schema), SqlIdentifier(table->table), files,
                       table->partition_by.empty() ? "" : ", hive_partitioning = true");
  }
  return sql;
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
  ARROW_ASSIGN_OR_RAISE(auto lock, FileLock::Acquire(
                                       (path.parent_path() / ("." + path.filename().string() + ".lock")).string()));
  const std::string temp = fmt::format("{}.tmp-{}-{:x}", path.string(), ::getpid(),
                                       std::random_device{}());
  auto build = [&]() -> arrow::Status {
    std::string sql = kMetadataTables;
    sql += MetadataInserts(snapshot);
    for (const auto& stage : snapshot.stages) {
      const auto tables = snapshot.TablesIn(stage.stage, stage.committed_slot);
      const std::string slot_schema = stage.stage + "__" + stage.committed_slot;
      sql += SlotViews(target, slot_schema, tables);
      sql += fmt::format("CREATE SCHEMA {};\n", SqlIdentifier(stage.stage));
      for (const TableRecord* table : tables) {
        sql += fmt::format("CREATE VIEW {0}.{1} AS SELECT * FROM {2}.{1};\n",
                           SqlIdentifier(stage.stage), SqlIdentifier(table->table),
                           SqlIdentifier(slot_schema));
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto db, duckdb::Database::Open({temp, false, ""}));
    if (!target.base.is_local()) ARROW_RETURN_NOT_OK(db->ConfigureStorage(target.storage_options));
    ARROW_RETURN_NOT_OK(db->Execute(sql));
    return db->Execute("CHECKPOINT");
  };
  auto status = build();
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
