#include "lakepipe/tablestore/postgres_metadata_store.h"

#include <charconv>
#include <functional>
#include <mutex>

#include <fmt/format.h>

#include "lakepipe/tablestore/advisory_locks.h"
#include "lakepipe/tablestore/metadata_schema.h"
#include "lakepipe/postgres/postgres_connection.h"

namespace lakepipe::tablestore {

using postgres::PgConnection;
namespace {

// Migrations (metadata_schema.h) in order; a database records the ones applied in
// lakepipe_meta.schema_version. Timestamps are the ISO-8601 UTC text lakepipe writes (as in
// the embedded store), so every value round-trips exactly.
constexpr char kMigrating[] = "migrating schema lakepipe_meta";

std::string Str(const std::optional<std::string>& value) { return value.value_or(""); }

arrow::Result<int64_t> ParseInt(const std::optional<std::string>& text, std::string_view what) {
  int64_t value = 0;
  const std::string s = Str(text);
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size()) {
    return arrow::Status::Invalid(fmt::format("metadata {}: '{}' is not an integer", what, s));
  }
  return value;
}

arrow::Result<nlohmann::json> ParseJson(const std::optional<std::string>& text,
                                        std::string_view what) {
  try {
    return nlohmann::json::parse(Str(text));
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(fmt::format("metadata {}: {}", what, e.what()));
  }
}

/// JSON text for a jsonb parameter; invalid UTF-8 (say, in a tap's message) is replaced
/// rather than thrown on.
std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

arrow::Status WithSuffix(const arrow::Status& status, std::string_view suffix) {
  return arrow::Status(status.code(), status.message() + std::string(suffix));
}

/// Runs `body` between BEGIN (`begin` names the isolation) and COMMIT; rolls back on error.
arrow::Status InTransaction(PgConnection& connection, std::string_view what,
                            const std::function<arrow::Status()>& body,
                            const std::string& begin = "BEGIN") {
  arrow::Status begun = connection.Execute(what, begin);
  if (!begun.ok() && connection.Broken()) {
    // Lost while idle (a server restart, a dropped idle connection): nothing has taken
    // effect yet, so reconnect and begin again, once.
    ARROW_RETURN_NOT_OK(connection.Reconnect());
    begun = connection.Execute(what, begin);
  }
  ARROW_RETURN_NOT_OK(begun);
  arrow::Status status = body();
  if (status.ok()) {
    status = connection.Execute(what, "COMMIT");
    // The server may have committed before the connection dropped: nobody can tell.
    if (!status.ok() && connection.Broken()) {
      return WithSuffix(status, "; the outcome of the commit is unknown: reload before retrying");
    }
    return status;
  }
  if (connection.Broken()) return WithSuffix(status, "; nothing of it was written");
  (void)connection.Execute(what, "ROLLBACK");
  return status;
}

class PostgresMetadataStore : public MetadataStore {
 public:
  PostgresMetadataStore(std::string url, std::unique_ptr<PgConnection> connection)
      : url_(std::move(url)), connection_(std::move(connection)) {}

  /// Creates or upgrades the schema. The transaction-level advisory lock makes processes
  /// opening the store at once take turns; the later ones find the schema current.
  arrow::Status Migrate() {
    return InTransaction(*connection_, kMigrating, [&]() -> arrow::Status {
      ARROW_RETURN_NOT_OK(
          connection_->Execute(kMigrating, "SELECT pg_advisory_xact_lock($1::bigint)",
                               {std::to_string(AdvisoryLockKey("lakepipe_meta#migrate"))}));
      ARROW_ASSIGN_OR_RAISE(auto exists,
                            connection_->Query(kMigrating,
                                               "SELECT to_regclass("
                                               "'lakepipe_meta.schema_version') IS NULL"));
      if (Str(exists.at(0).at(0)) == "t") {
        ARROW_RETURN_NOT_OK(connection_->ExecuteScript(
            kMigrating,
            "CREATE SCHEMA IF NOT EXISTS lakepipe_meta; CREATE TABLE lakepipe_meta.schema_version "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"));
      }
      ARROW_ASSIGN_OR_RAISE(
          auto rows,
          connection_->Query(kMigrating,
                             "SELECT coalesce(max(version), 0) FROM lakepipe_meta.schema_version"));
      ARROW_ASSIGN_OR_RAISE(const int64_t current, ParseInt(rows.at(0).at(0), "schema_version"));
      const int latest = metadata_schema::CurrentVersion();
      if (current > latest) {
        return arrow::Status::Invalid(fmt::format(
            "PostgreSQL '{}': schema lakepipe_meta has version {}; this lakepipe knows versions "
            "up to {}: upgrade lakepipe",
            connection_->redacted_url(), current, latest));
      }
      for (int version = static_cast<int>(current) + 1; version <= latest; ++version) {
        const std::string what = fmt::format("{} to version {}", kMigrating, version);
        ARROW_RETURN_NOT_OK(
            connection_->ExecuteScript(what, metadata_schema::PostgresMigration(version)));
        ARROW_RETURN_NOT_OK(connection_->Execute(
            what,
            "INSERT INTO lakepipe_meta.schema_version (version, applied_at) VALUES ($1, now())",
            {std::to_string(version)}));
      }
      return arrow::Status::OK();
    });
  }

  arrow::Result<std::unique_ptr<StageLocks>> Lock(const std::string& instance,
                                                  std::vector<std::string> stages) override {
    return LockStagesAdvisory(url_, instance, std::move(stages));
  }

  arrow::Result<MetadataSnapshot> Load(const std::string& instance) override {
    std::lock_guard<std::mutex> guard(mutex_);
    const std::string what = fmt::format("loading instance '{}'", instance);
    MetadataSnapshot out;
    // One snapshot for the four queries, so a commit in between cannot mix states.
    ARROW_RETURN_NOT_OK(InTransaction(
        *connection_, what, [&] { return LoadInto(instance, what, out); },
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    return out;
  }

  arrow::Status CommitStage(const StageCommit& commit) override {
    std::lock_guard<std::mutex> guard(mutex_);
    const auto& s = commit.stage;
    const std::string what =
        fmt::format("committing stage '{}' of instance '{}'", s.stage, s.instance);
    return InTransaction(*connection_, what, [&]() -> arrow::Status {
      ARROW_RETURN_NOT_OK(connection_->Execute(
          what,
          "INSERT INTO lakepipe_meta.stages (instance, stage, committed_slot, run_id, "
          "committed_at) "
          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (instance, stage) DO UPDATE SET "
          "committed_slot = EXCLUDED.committed_slot, run_id = EXCLUDED.run_id, "
          "committed_at = EXCLUDED.committed_at",
          {s.instance, s.stage, s.committed_slot, s.run_id, s.committed_at}));
      const std::vector<std::string> slot = {s.instance, s.stage, s.committed_slot};
      ARROW_RETURN_NOT_OK(connection_->Execute(
          what, "DELETE FROM lakepipe_meta.tasks WHERE instance = $1 AND stage = $2 AND slot = $3",
          slot));
      ARROW_RETURN_NOT_OK(connection_->Execute(
          what, "DELETE FROM lakepipe_meta.tables WHERE instance = $1 AND stage = $2 AND slot = $3",
          slot));
      ARROW_RETURN_NOT_OK(InsertTasks(what, commit.tasks));
      return InsertTables(what, commit.tables);
    });
  }

  arrow::Result<DroppedStage> DropStage(const std::string& instance,
                                        const std::string& stage) override {
    std::lock_guard<std::mutex> guard(mutex_);
    const std::string what = fmt::format("dropping stage '{}' of instance '{}'", stage, instance);
    DroppedStage dropped;
    ARROW_RETURN_NOT_OK(InTransaction(*connection_, what, [&]() -> arrow::Status {
      for (auto [table, count] :
           {std::pair{"stages", &dropped.stages}, std::pair{"tasks", &dropped.tasks},
            std::pair{"tables", &dropped.tables}}) {
        ARROW_ASSIGN_OR_RAISE(
            auto rows,
            connection_->Query(what,
                               fmt::format("WITH gone AS (DELETE FROM lakepipe_meta.{} WHERE "
                                           "instance = $1 AND stage = $2 RETURNING 1) "
                                           "SELECT count(*) FROM gone",
                                           table),
                               {instance, stage}));
        ARROW_ASSIGN_OR_RAISE(*count, ParseInt(rows.at(0).at(0), "count"));
      }
      return arrow::Status::OK();
    }));
    return dropped;
  }

  arrow::Status SaveRun(const RunRecord& run) override {
    std::lock_guard<std::mutex> guard(mutex_);
    const std::string what = fmt::format("saving run '{}'", run.run_id);
    // A transaction of one statement, for InTransaction's reconnect.
    return InTransaction(*connection_, what, [&] {
      return connection_->Execute(
          what,
          "INSERT INTO lakepipe_meta.runs (run_id, instance, flow, started_at, finished_at, "
          "status, error) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id) DO UPDATE SET "
          "instance = EXCLUDED.instance, flow = EXCLUDED.flow, started_at = EXCLUDED.started_at, "
          "finished_at = EXCLUDED.finished_at, status = EXCLUDED.status, error = EXCLUDED.error",
          {run.run_id, run.instance, run.flow, run.started_at, run.finished_at, run.status,
           run.error});
    });
  }

  std::string Describe() const override { return connection_->redacted_url(); }

 private:
  // The rows go in as one jsonb array: one round trip however many there are.
  arrow::Status InsertTasks(std::string_view what, const std::vector<TaskRecord>& tasks) {
    if (tasks.empty()) return arrow::Status::OK();
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& t : tasks) {
      rows.push_back({{"instance", t.instance},
                      {"stage", t.stage},
                      {"task", t.task},
                      {"cache_key", t.cache_key},
                      {"version", t.version},
                      {"run_id", t.run_id},
                      {"output_json", t.output_json},
                      {"slot", t.slot}});
    }
    return connection_->Execute(
        what,
        "INSERT INTO lakepipe_meta.tasks (instance, stage, task, cache_key, version, run_id, "
        "output_json, slot) SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(instance text, "
        "stage text, task text, cache_key text, version text, run_id text, output_json jsonb, "
        "slot text)",
        {Dump(rows)});
  }

  arrow::Status InsertTables(std::string_view what, const std::vector<TableRecord>& tables) {
    if (tables.empty()) return arrow::Status::OK();
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& t : tables) {
      rows.push_back({{"instance", t.instance},
                      {"stage", t.stage},
                      {"slot", t.slot},
                      {"table", t.table},
                      {"files_json", FilesToJson(t.files)},
                      {"rows", t.rows},
                      {"bytes", t.bytes},
                      {"schema_json", t.schema_json},
                      {"content_hash", t.content_hash},
                      {"partition_by", t.partition_by}});
    }
    return connection_->Execute(
        what,
        "INSERT INTO lakepipe_meta.tables (instance, stage, slot, \"table\", files_json, rows, "
        "bytes, schema_json, content_hash, partition_by) SELECT * FROM "
        "jsonb_to_recordset($1::jsonb) AS r(instance text, stage text, slot text, \"table\" text, "
        "files_json jsonb, rows bigint, bytes bigint, schema_json jsonb, content_hash text, "
        "partition_by jsonb)",
        {Dump(rows)});
  }

  arrow::Status LoadInto(const std::string& instance, std::string_view what,
                         MetadataSnapshot& out) {
    // COLLATE "C": byte order, whatever the database's locale (as the embedded store sorts).
    ARROW_ASSIGN_OR_RAISE(
        auto stages,
        connection_->Query(what,
                           "SELECT instance, stage, committed_slot, run_id, committed_at FROM "
                           "lakepipe_meta.stages WHERE instance = $1 ORDER BY stage COLLATE \"C\"",
                           {instance}));
    for (const auto& r : stages) {
      out.stages.push_back({Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), Str(r[4])});
    }
    ARROW_ASSIGN_OR_RAISE(
        auto tasks,
        connection_->Query(what,
                           "SELECT instance, stage, task, cache_key, version, run_id, slot, "
                           "output_json FROM lakepipe_meta.tasks WHERE instance = $1 ORDER BY "
                           "stage COLLATE \"C\", slot COLLATE \"C\", task COLLATE \"C\"",
                           {instance}));
    for (const auto& r : tasks) {
      TaskRecord task{Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), Str(r[4]), Str(r[5]), Str(r[6])};
      ARROW_ASSIGN_OR_RAISE(task.output_json, ParseJson(r[7], "tasks.output_json"));
      out.tasks.push_back(std::move(task));
    }
    ARROW_ASSIGN_OR_RAISE(
        auto tables,
        connection_->Query(what,
                           "SELECT instance, stage, slot, \"table\", rows, bytes, content_hash, "
                           "files_json, schema_json, partition_by FROM lakepipe_meta.tables "
                           "WHERE instance = $1 ORDER BY stage COLLATE \"C\", slot COLLATE \"C\", "
                           "\"table\" COLLATE \"C\"",
                           {instance}));
    for (const auto& r : tables) ARROW_RETURN_NOT_OK(AddTable(r, out));
    ARROW_ASSIGN_OR_RAISE(
        auto runs,
        connection_->Query(what,
                           "SELECT run_id, instance, flow, started_at, finished_at, status, error "
                           "FROM lakepipe_meta.runs WHERE instance = $1 ORDER BY "
                           "started_at COLLATE \"C\", run_id COLLATE \"C\"",
                           {instance}));
    for (const auto& r : runs) {
      out.runs.push_back(
          {Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), Str(r[4]), Str(r[5]), Str(r[6])});
    }
    return arrow::Status::OK();
  }

  static arrow::Status AddTable(const std::vector<std::optional<std::string>>& r,
                                MetadataSnapshot& out) {
    TableRecord table;
    table.instance = Str(r[0]);
    table.stage = Str(r[1]);
    table.slot = Str(r[2]);
    table.table = Str(r[3]);
    ARROW_ASSIGN_OR_RAISE(table.rows, ParseInt(r[4], "tables.rows"));
    ARROW_ASSIGN_OR_RAISE(table.bytes, ParseInt(r[5], "tables.bytes"));
    table.content_hash = Str(r[6]);
    ARROW_ASSIGN_OR_RAISE(auto files, ParseJson(r[7], "tables.files_json"));
    ARROW_ASSIGN_OR_RAISE(table.files, FilesFromJson(files));
    ARROW_ASSIGN_OR_RAISE(table.schema_json, ParseJson(r[8], "tables.schema_json"));
    ARROW_ASSIGN_OR_RAISE(auto partitions, ParseJson(r[9], "tables.partition_by"));
    try {
      table.partition_by = partitions.get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception& e) {
      return arrow::Status::Invalid(fmt::format("metadata tables.partition_by: {}", e.what()));
    }
    out.tables.push_back(std::move(table));
    return arrow::Status::OK();
  }

  const std::string url_;  // with its password: Lock() opens connections of its own
  std::mutex mutex_;
  const std::unique_ptr<PgConnection> connection_;
};

}  // namespace

arrow::Result<std::unique_ptr<MetadataStore>> OpenPostgresMetadataStore(const std::string& url) {
  ARROW_ASSIGN_OR_RAISE(auto connection, PgConnection::Open(url));
  auto store = std::make_unique<PostgresMetadataStore>(url, std::move(connection));
  ARROW_RETURN_NOT_OK(store->Migrate());
  return store;
}

}  // namespace lakepipe::tablestore
