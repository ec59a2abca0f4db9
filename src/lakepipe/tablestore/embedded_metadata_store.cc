#include "lakepipe/tablestore/embedded_metadata_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "lakepipe/tablestore/file_locks.h"
#include "lakepipe/tablestore/metadata_schema.h"

namespace lakepipe::tablestore {
namespace {

// SQLite rather than DuckDB for this small, often-opened file: it opens in a millisecond
// (DuckDB takes tens, plus a checkpoint on close) and lets several processes read and
// write it at once (WAL, busy timeout), so `flow status` never waits for a run. Its
// tables are made from metadata_schema.h.

/// One SQLite connection, closed when destroyed.
class Connection {
 public:
  static arrow::Result<std::unique_ptr<Connection>> Open(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
        nullptr);
    auto connection = std::unique_ptr<Connection>(new Connection(db, path));
    if (rc != SQLITE_OK) return connection->Error("opening");
    sqlite3_busy_timeout(db, 30000);
    ARROW_RETURN_NOT_OK(
        connection->Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"));
    return connection;
  }
  ~Connection() { sqlite3_close_v2(db_); }

  arrow::Status Error(std::string_view what) const {
    return arrow::Status::IOError(fmt::format("metadata '{}': {}: {}", path_, what,
                                              db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }

  arrow::Status Execute(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : "error";
      sqlite3_free(message);
      return arrow::Status::IOError(fmt::format("metadata '{}': {}", path_, text));
    }
    return arrow::Status::OK();
  }

  /// Runs `sql` with text/integer parameters; calls `row` for each result row.
  arrow::Status Query(const std::string& sql,
                      const std::vector<std::variant<std::string, int64_t>>& params,
                      const std::function<arrow::Status(sqlite3_stmt*)>& row = {}) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      return Error("preparing");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      if (const auto* text = std::get_if<std::string>(&params[i])) {
        sqlite3_bind_text(stmt, index, text->c_str(), static_cast<int>(text->size()),
                          SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_int64(stmt, index, std::get<int64_t>(params[i]));
      }
    }
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return arrow::Status::OK();
      if (rc != SQLITE_ROW) return Error("querying");
      if (row) ARROW_RETURN_NOT_OK(row(stmt));
    }
  }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

std::string Text(sqlite3_stmt* stmt, int column) {
  const auto* text = sqlite3_column_text(stmt, column);
  return text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

arrow::Result<nlohmann::json> Json(sqlite3_stmt* stmt, int column, std::string_view what) {
  try {
    return nlohmann::json::parse(Text(stmt, column));
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(fmt::format("metadata {}: {}", what, e.what()));
  }
}

class EmbeddedMetadataStore : public MetadataStore {
 public:
  EmbeddedMetadataStore(std::string path, std::string lock_dir)
      : path_(std::move(path)), lock_dir_(std::move(lock_dir)) {}

  /// Creates or upgrades the tables in one write transaction, so processes opening the
  /// file at once take turns and a crash leaves either the old or the new schema.
  arrow::Status Migrate() {
    ARROW_ASSIGN_OR_RAISE(auto db, Connection::Open(path_));
    ARROW_RETURN_NOT_OK(db->Execute("BEGIN IMMEDIATE"));
    auto status = [&]() -> arrow::Status {
      ARROW_RETURN_NOT_OK(
          db->Execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                      "applied_at TEXT)"));
      int64_t current = 0;
      ARROW_RETURN_NOT_OK(db->Query("SELECT coalesce(max(version), 0) FROM schema_version", {},
                                    [&](sqlite3_stmt* s) {
                                      current = sqlite3_column_int64(s, 0);
                                      return arrow::Status::OK();
                                    }));
      const int latest = metadata_schema::CurrentVersion();
      if (current > latest) {
        return arrow::Status::Invalid(fmt::format(
            "metadata '{}' has schema version {}; this lakepipe knows up to {}: upgrade "
            "lakepipe",
            path_, current, latest));
      }
      // A new file gets the latest tables at once; an older one is migrated step by step.
      for (int version = static_cast<int>(current) + 1; current > 0 && version <= latest;
           ++version) {
        ARROW_RETURN_NOT_OK(db->Execute(metadata_schema::SqliteMigration(version)));
      }
      ARROW_RETURN_NOT_OK(db->Execute(metadata_schema::SqliteCreateTables()));
      for (int64_t version = current + 1; version <= latest; ++version) {
        ARROW_RETURN_NOT_OK(db->Query(
            "INSERT OR IGNORE INTO schema_version VALUES (?, datetime('now'))", {version}));
      }
      return db->Execute("COMMIT");
    }();
    if (!status.ok()) (void)db->Execute("ROLLBACK");
    return status;
  }

  arrow::Result<std::unique_ptr<StageLocks>> Lock(const std::string& instance,
                                                  std::vector<std::string> stages) override {
    return LockStageFiles(lock_dir_, instance, std::move(stages));
  }

  arrow::Result<MetadataSnapshot> Load(const std::string& instance) override {
    ARROW_ASSIGN_OR_RAISE(auto db, Connection::Open(path_));
    // One read transaction: a consistent view while a commit may be going on.
    ARROW_RETURN_NOT_OK(db->Execute("BEGIN"));
    MetadataSnapshot out;
    ARROW_RETURN_NOT_OK(db->Query(
        "SELECT instance, stage, committed_slot, run_id, committed_at FROM stages "
        "WHERE instance = ? ORDER BY stage",
        {instance}, [&](sqlite3_stmt* s) {
          out.stages.push_back({Text(s, 0), Text(s, 1), Text(s, 2), Text(s, 3), Text(s, 4)});
          return arrow::Status::OK();
        }));
    ARROW_RETURN_NOT_OK(db->Query(
        "SELECT instance, stage, task, cache_key, version, run_id, slot, output_json FROM tasks "
        "WHERE instance = ? ORDER BY stage, slot, task",
        {instance}, [&](sqlite3_stmt* s) -> arrow::Status {
          TaskRecord task{Text(s, 0), Text(s, 1), Text(s, 2), Text(s, 3),
                          Text(s, 4), Text(s, 5), Text(s, 6)};
          ARROW_ASSIGN_OR_RAISE(task.output_json, Json(s, 7, "tasks.output_json"));
          out.tasks.push_back(std::move(task));
          return arrow::Status::OK();
        }));
    ARROW_RETURN_NOT_OK(db->Query(
        "SELECT instance, stage, slot, \"table\", rows, bytes, content_hash, files_json, "
        "schema_json, partition_by FROM tables WHERE instance = ? ORDER BY stage, slot, \"table\"",
        {instance}, [&](sqlite3_stmt* s) -> arrow::Status {
          TableRecord table;
          table.instance = Text(s, 0);
          table.stage = Text(s, 1);
          table.slot = Text(s, 2);
          table.table = Text(s, 3);
          table.rows = sqlite3_column_int64(s, 4);
          table.bytes = sqlite3_column_int64(s, 5);
          table.content_hash = Text(s, 6);
          ARROW_ASSIGN_OR_RAISE(auto files, Json(s, 7, "tables.files_json"));
          ARROW_ASSIGN_OR_RAISE(table.files, FilesFromJson(files));
          ARROW_ASSIGN_OR_RAISE(table.schema_json, Json(s, 8, "tables.schema_json"));
          ARROW_ASSIGN_OR_RAISE(auto partitions, Json(s, 9, "tables.partition_by"));
          table.partition_by = partitions.get<std::vector<std::string>>();
          out.tables.push_back(std::move(table));
          return arrow::Status::OK();
        }));
    ARROW_RETURN_NOT_OK(
        db->Query("SELECT run_id, instance, flow, started_at, finished_at, status, error FROM runs "
                  "WHERE instance = ? ORDER BY started_at",
                  {instance}, [&](sqlite3_stmt* s) {
                    out.runs.push_back({Text(s, 0), Text(s, 1), Text(s, 2), Text(s, 3), Text(s, 4),
                                        Text(s, 5), Text(s, 6)});
                    return arrow::Status::OK();
                  }));
    ARROW_RETURN_NOT_OK(db->Execute("COMMIT"));
    return out;
  }

  arrow::Status CommitStage(const StageCommit& commit) override {
    ARROW_ASSIGN_OR_RAISE(auto db, Connection::Open(path_));
    const auto& s = commit.stage;
    ARROW_RETURN_NOT_OK(db->Execute("BEGIN IMMEDIATE"));
    auto status = [&]() -> arrow::Status {
      ARROW_RETURN_NOT_OK(
          db->Query("INSERT OR REPLACE INTO stages VALUES (?, ?, ?, ?, ?)",
                    {s.instance, s.stage, s.committed_slot, s.run_id, s.committed_at}));
      for (const char* table : {"tasks", "tables"}) {
        ARROW_RETURN_NOT_OK(db->Query(
            fmt::format("DELETE FROM {} WHERE instance = ? AND stage = ? AND slot = ?", table),
            {s.instance, s.stage, s.committed_slot}));
      }
      for (const auto& t : commit.tasks) {
        ARROW_RETURN_NOT_OK(db->Query("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                      {t.instance, t.stage, t.task, t.cache_key, t.version,
                                       t.run_id, t.output_json.dump(), t.slot}));
      }
      for (const auto& t : commit.tables) {
        ARROW_RETURN_NOT_OK(db->Query(
            "INSERT INTO tables VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {t.instance, t.stage, t.slot, t.table, FilesToJson(t.files).dump(), t.rows, t.bytes,
             t.schema_json.dump(), t.content_hash, nlohmann::json(t.partition_by).dump()}));
      }
      return db->Execute("COMMIT");
    }();
    if (!status.ok()) (void)db->Execute("ROLLBACK");
    return status;
  }

  arrow::Result<DroppedStage> DropStage(const std::string& instance,
                                        const std::string& stage) override {
    ARROW_ASSIGN_OR_RAISE(auto db, Connection::Open(path_));
    ARROW_RETURN_NOT_OK(db->Execute("BEGIN IMMEDIATE"));
    DroppedStage dropped;
    auto status = [&]() -> arrow::Status {
      for (const auto& table_count :
           {std::pair{"stages", &dropped.stages}, std::pair{"tasks", &dropped.tasks},
            std::pair{"tables", &dropped.tables}}) {
        // Not a structured binding: clang (the fuzz build) cannot capture one in a lambda.
        int64_t* count = table_count.second;
        const std::string where =
            " FROM " + std::string(table_count.first) + " WHERE instance = ? AND stage = ?";
        ARROW_RETURN_NOT_OK(
            db->Query("SELECT count(*)" + where, {instance, stage}, [&](sqlite3_stmt* s) {
              *count = sqlite3_column_int64(s, 0);
              return arrow::Status::OK();
            }));
        ARROW_RETURN_NOT_OK(db->Query("DELETE" + where, {instance, stage}));
      }
      return db->Execute("COMMIT");
    }();
    if (!status.ok()) {
      (void)db->Execute("ROLLBACK");
      return status;
    }
    return dropped;
  }

  arrow::Status SaveRun(const RunRecord& run) override {
    ARROW_ASSIGN_OR_RAISE(auto db, Connection::Open(path_));
    return db->Query("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                     {run.run_id, run.instance, run.flow, run.started_at, run.finished_at,
                      run.status, run.error});
  }

  std::string Describe() const override { return fmt::format("embedded ({})", path_); }

 private:
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
