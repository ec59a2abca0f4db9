#include "lakepipe/tablestore/embedded_metadata_store.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/file_locks.h"

namespace lakepipe::tablestore {
namespace {

using duckdb::SqlString;

constexpr int kSchemaVersion = 1;

constexpr char kCreateTables[] = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS stages (instance VARCHAR, stage VARCHAR, committed_slot VARCHAR,
  run_id VARCHAR, committed_at VARCHAR, PRIMARY KEY (instance, stage));
CREATE TABLE IF NOT EXISTS tasks (instance VARCHAR, stage VARCHAR, task VARCHAR,
  cache_key VARCHAR, version BIGINT, run_id VARCHAR, output_json VARCHAR, slot VARCHAR,
  PRIMARY KEY (instance, stage, slot, task));
CREATE TABLE IF NOT EXISTS tables (instance VARCHAR, stage VARCHAR, slot VARCHAR,
  "table" VARCHAR, files_json VARCHAR, rows BIGINT, bytes BIGINT, schema_json VARCHAR,
  content_hash VARCHAR, partition_by VARCHAR, PRIMARY KEY (instance, stage, slot, "table"));
CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, instance VARCHAR, flow VARCHAR,
  started_at VARCHAR, finished_at VARCHAR, status VARCHAR, error VARCHAR);
)sql";

std::string Str(const std::optional<std::string>& value) { return value.value_or(""); }

arrow::Result<nlohmann::json> ParseJson(const std::optional<std::string>& text,
                                        std::string_view what) {
  try {
    return nlohmann::json::parse(Str(text));
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(fmt::format("metadata {}: {}", what, e.what()));
  }
}

class EmbeddedMetadataStore : public MetadataStore {
 public:
  EmbeddedMetadataStore(std::string path, std::string lock_dir)
      : path_(std::move(path)), lock_dir_(std::move(lock_dir)) {}

  arrow::Status Migrate() {
    ARROW_ASSIGN_OR_RAISE(auto db, OpenDatabase());
    ARROW_RETURN_NOT_OK(db->Execute(kCreateTables));
    ARROW_ASSIGN_OR_RAISE(auto version, db->QueryText("SELECT max(version) FROM schema_version"));
    const auto& current = version.rows.at(0).at(0);
    if (current && std::stoi(*current) > kSchemaVersion) {
      return arrow::Status::Invalid(fmt::format(
          "metadata '{}' has schema version {}; this lakepipe knows up to {}: upgrade lakepipe",
          path_, *current, kSchemaVersion));
    }
    if (!current) {
      ARROW_RETURN_NOT_OK(db->Execute(
          fmt::format("INSERT INTO schema_version VALUES ({}, now())", kSchemaVersion)));
    }
    return arrow::Status::OK();
  }

  arrow::Result<std::unique_ptr<StageLocks>> Lock(const std::string& instance,
                                                 std::vector<std::string> stages) override {
    return LockStageFiles(lock_dir_, instance, std::move(stages));
  }

  arrow::Result<MetadataSnapshot> Load(const std::string& instance) override {
    ARROW_ASSIGN_OR_RAISE(auto db, OpenDatabase());
    MetadataSnapshot out;
    const std::string where = fmt::format(" WHERE instance = {}", SqlString(instance));
    ARROW_ASSIGN_OR_RAISE(
        auto stages,
        db->QueryText("SELECT instance, stage, committed_slot, run_id, committed_at FROM stages" +
                      where + " ORDER BY stage"));
    for (const auto& r : stages.rows) {
      out.stages.push_back({Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), Str(r[4])});
    }
    ARROW_ASSIGN_OR_RAISE(
        auto tasks, db->QueryText("SELECT instance, stage, task, cache_key, version, run_id, slot, "
                                  "output_json FROM tasks" +
                                  where + " ORDER BY stage, slot, task"));
    for (const auto& r : tasks.rows) {
      TaskRecord task{Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), std::stoll(Str(r[4])),
                      Str(r[5]), Str(r[6])};
      ARROW_ASSIGN_OR_RAISE(task.output_json, ParseJson(r[7], "tasks.output_json"));
      out.tasks.push_back(std::move(task));
    }
    ARROW_ASSIGN_OR_RAISE(
        auto tables,
        db->QueryText("SELECT instance, stage, slot, \"table\", rows, bytes, content_hash, "
                      "files_json, schema_json, partition_by FROM tables" +
                      where + " ORDER BY stage, slot, \"table\""));
    for (const auto& r : tables.rows) {
      TableRecord table;
      table.instance = Str(r[0]);
      table.stage = Str(r[1]);
      table.slot = Str(r[2]);
      table.table = Str(r[3]);
      table.rows = std::stoll(Str(r[4]));
      table.bytes = std::stoll(Str(r[5]));
      table.content_hash = Str(r[6]);
      ARROW_ASSIGN_OR_RAISE(auto files, ParseJson(r[7], "tables.files_json"));
      ARROW_ASSIGN_OR_RAISE(table.files, FilesFromJson(files));
      ARROW_ASSIGN_OR_RAISE(table.schema_json, ParseJson(r[8], "tables.schema_json"));
      ARROW_ASSIGN_OR_RAISE(auto partitions, ParseJson(r[9], "tables.partition_by"));
      table.partition_by = partitions.get<std::vector<std::string>>();
      out.tables.push_back(std::move(table));
    }
    ARROW_ASSIGN_OR_RAISE(
        auto runs, db->QueryText("SELECT run_id, instance, flow, started_at, finished_at, status, "
                                 "error FROM runs" +
                                 where + " ORDER BY started_at"));
    for (const auto& r : runs.rows) {
      out.runs.push_back(
          {Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), Str(r[4]), Str(r[5]), Str(r[6])});
    }
    return out;
  }

  arrow::Status CommitStage(const StageCommit& commit) override {
    const auto& s = commit.stage;
    std::string sql = "BEGIN TRANSACTION;\n";
    sql += fmt::format("INSERT OR REPLACE INTO stages VALUES ({}, {}, {}, {}, {});\n",
                       SqlString(s.instance), SqlString(s.stage), SqlString(s.committed_slot),
                       SqlString(s.run_id), SqlString(s.committed_at));
    const std::string slot_where =
        fmt::format("WHERE instance = {} AND stage = {} AND slot = {};\n", SqlString(s.instance),
                    SqlString(s.stage), SqlString(s.committed_slot));
    sql += "DELETE FROM tasks " + slot_where;
    sql += "DELETE FROM tables " + slot_where;
    for (const auto& t : commit.tasks) {
      sql += fmt::format("INSERT INTO tasks VALUES ({}, {}, {}, {}, {}, {}, {}, {});\n",
                         SqlString(t.instance), SqlString(t.stage), SqlString(t.task),
                         SqlString(t.cache_key), t.version, SqlString(t.run_id),
                         SqlString(t.output_json.dump()), SqlString(t.slot));
    }
    for (const auto& t : commit.tables) {
      sql += fmt::format(
          "INSERT INTO tables VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {});\n",
          SqlString(t.instance), SqlString(t.stage), SqlString(t.slot), SqlString(t.table),
          SqlString(FilesToJson(t.files).dump()), t.rows, t.bytes,
          SqlString(t.schema_json.dump()), SqlString(t.content_hash),
          SqlString(nlohmann::json(t.partition_by).dump()));
    }
    sql += "COMMIT;";
    ARROW_ASSIGN_OR_RAISE(auto db, OpenDatabase());
    return db->Execute(sql);
  }

  arrow::Status SaveRun(const RunRecord& run) override {
    ARROW_ASSIGN_OR_RAISE(auto db, OpenDatabase());
    return db->Execute(fmt::format("INSERT OR REPLACE INTO runs VALUES ({}, {}, {}, {}, {}, {}, {})",
                                   SqlString(run.run_id), SqlString(run.instance),
                                   SqlString(run.flow), SqlString(run.started_at),
                                   SqlString(run.finished_at), SqlString(run.status),
                                   SqlString(run.error)));
  }

  std::string Describe() const override { return fmt::format("embedded ({})", path_); }

 private:
  /// DuckDB lets one process at a time open a file for writing: another process's short
  /// call may hold it, so opening retries for a while.
  arrow::Result<std::unique_ptr<duckdb::Database>> OpenDatabase() {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (auto pause = std::chrono::milliseconds(5);; pause = std::min(pause * 2, decltype(pause)(200))) {
      auto db = duckdb::Database::Open({path_, false, ""});
      if (db.ok() || std::chrono::steady_clock::now() > deadline ||
          db.status().message().find("lock") == std::string::npos) {
        return db;
      }
      std::this_thread::sleep_for(pause);
    }
  }

  const std::string path_;
  const std::string lock_dir_;
};

}  // namespace

arrow::Result<std::unique_ptr<MetadataStore>> OpenEmbeddedMetadataStore(std::string path,
                                                                        std::string lock_dir) {
  auto store = std::make_unique<EmbeddedMetadataStore>(std::move(path), std::move(lock_dir));
  ARROW_RETURN_NOT_OK(store->Migrate());
  return store;
}

}  // namespace lakepipe::tablestore
