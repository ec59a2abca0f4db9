// The PostgreSQL metadata store and its advisory locks, against a real server the suite
// starts itself (test_postgres.h). A server that cannot start fails every test.

#include "lakepipe/tablestore/postgres_metadata_store.h"

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "lakepipe/tablestore/advisory_locks.h"
#include "lakepipe/postgres/postgres_connection.h"
#include "lakepipe/tablestore/test_postgres.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::tablestore {

using postgres::PgConnection;
using postgres::RedactPostgresSecrets;
using postgres::RedactPostgresUrl;
namespace {

using testing::TestPostgres;

constexpr auto kDeadline = std::chrono::seconds(30);  // a guard against hangs, not a timing

class PostgresMetadataStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = TestPostgres::Start();
    if (server.ok()) {
      server_ = std::move(*server);
    } else {
      start_error_ = server.status().ToString();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

  // A database per test, so each starts unmigrated and empty.
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "could not start PostgreSQL for the tests: " << start_error_;
    static int count = 0;
    database_ = fmt::format("test_{}", ++count);
    auto admin = PgConnection::Open(server_->Url("postgres"));
    ASSERT_OK(admin);
    ASSERT_OK((*admin)->Execute("creating", "CREATE DATABASE " + database_));
    auto sql = PgConnection::Open(Url());
    ASSERT_OK(sql);
    sql_ = std::move(*sql);
  }

  std::string Url() const { return server_->Url(database_); }

  std::unique_ptr<MetadataStore> OpenStore() {
    auto store = OpenPostgresMetadataStore(Url());
    EXPECT_OK(store);
    return store.ok() ? std::move(*store) : nullptr;
  }

  /// The first column of the first row of `sql` ("" when none).
  std::string Scalar(const std::string& sql, const std::vector<std::string>& params = {}) {
    auto rows = sql_->Query("test", sql, params);
    EXPECT_OK(rows);
    return rows.ok() && !rows->empty() ? (*rows)[0][0].value_or("NULL") : "";
  }

  /// Polls `sql` until it returns a row; the first column, or "" after kDeadline.
  std::string WaitForRow(const std::string& sql, const std::vector<std::string>& params = {}) {
    for (auto end = std::chrono::steady_clock::now() + kDeadline;
         std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
      if (auto value = Scalar(sql, params); !value.empty()) return value;
    }
    return "";
  }

  /// Ends a backend and waits until it is gone.
  void Terminate(const std::string& pid) {
    EXPECT_EQ(Scalar("SELECT pg_terminate_backend($1::int, 10000)", {pid}), "t");
  }

  static inline std::unique_ptr<TestPostgres> server_;
  static inline std::string start_error_;
  std::string database_;
  std::unique_ptr<PgConnection> sql_;  // the test's own connection to `database_`
};

StageCommit SampleCommit(const std::string& slot, const std::string& run_id,
                         const std::vector<std::string>& tables,
                         const std::string& instance = "ci") {
  StageCommit commit;
  commit.stage = {instance, "model", slot, run_id, "2026-11-23T19:27:31.123456+00:00"};
  for (const auto& name : tables) {
    TaskRecord task{instance, "model", name, "cachekey-" + name, "3", run_id, slot};
    task.output_json = {{"table", name}, {"cache_hit", false}, {"seconds", 1.25}};
    commit.tasks.push_back(task);
    TableRecord table;
    table.instance = instance;
    table.stage = "model";
    table.slot = slot;
    table.table = name;
    table.files = {{"ci/model__" + slot + "/" + name + "/part-0000.parquet", 10, 2048, "ab12", {}},
                   {"ci/model__" + slot + "/" + name + "/part-0001.parquet", 5, 1024, "cd34", {}}};
    table.rows = 15;
    table.bytes = 3072;
    table.schema_json =
        nlohmann::json::array({{{"name", "id"}, {"type", "int64"}, {"nullable", false}},
                               {{"name", "name"}, {"type", "string"}, {"nullable", true}}});
    table.partition_by = {"dt", "region"};
    table.content_hash = ContentHash(table.files);
    commit.tables.push_back(table);
  }
  return commit;
}

std::vector<std::string> TableNames(const MetadataSnapshot& snapshot, const std::string& slot) {
  std::vector<std::string> names;
  for (const auto* table : snapshot.TablesIn("model", slot)) names.push_back(table->table);
  return names;
}

std::vector<std::string> TaskNames(const MetadataSnapshot& snapshot, const std::string& slot) {
  std::vector<std::string> names;
  for (const auto& task : snapshot.tasks) {
    if (task.slot == slot) names.push_back(task.task);
  }
  return names;
}

TEST_F(PostgresMetadataStoreTest, OpeningTwiceOrAtOnceMigratesOnce) {
  std::vector<std::future<arrow::Status>> opens;
  for (int i = 0; i < 4; ++i) {
    opens.push_back(
        std::async(std::launch::async, [&] { return OpenPostgresMetadataStore(Url()).status(); }));
  }
  for (auto& open : opens) EXPECT_OK(open.get());
  ASSERT_NE(OpenStore(), nullptr);
  EXPECT_EQ(Scalar("SELECT string_agg(version::text, ',') FROM lakepipe_meta.schema_version"),
            "1,2");
  EXPECT_EQ(Scalar("SELECT count(*) FROM information_schema.tables "
                   "WHERE table_schema = 'lakepipe_meta'"),
            "5");
}

TEST_F(PostgresMetadataStoreTest, CommitThenLoadRoundTripsEveryField) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  StageCommit commit = SampleCommit("even", "run-1", {"orders", "customers"});
  commit.tasks[0].output_json["note"] = "it's \"quoted\" — ünïcode";
  commit.tasks[0].version = "-9000000000000000000";
  commit.tasks[1].version = "1.0.0-rc.1 ünï";
  commit.tables[1].partition_by.clear();
  commit.tables[1].rows = 9'000'000'000'000'000'000;
  ASSERT_OK(store->CommitStage(commit));
  const RunRecord run{"run-1",
                      "ci",
                      "shop",
                      "2026-11-23T19:27:00.000001+00:00",
                      "2026-11-23T19:28:00.000002+00:00",
                      "failed",
                      "line 1\nit's 'bad' ü"};
  ASSERT_OK(store->SaveRun(run));
  // Another instance's rows stay out of the snapshot.
  ASSERT_OK(store->CommitStage(SampleCommit("odd", "run-2", {"elsewhere"}, "prod")));

  auto loaded = store->Load("ci");
  ASSERT_OK(loaded);
  ASSERT_EQ(loaded->stages.size(), 1u);
  const StageRecord& stage = loaded->stages[0];
  EXPECT_EQ(
      std::tie(stage.instance, stage.stage, stage.committed_slot, stage.run_id, stage.committed_at),
      std::tie(commit.stage.instance, commit.stage.stage, commit.stage.committed_slot,
               commit.stage.run_id, commit.stage.committed_at));
  ASSERT_EQ(loaded->tasks.size(), 2u);
  for (const auto& want : commit.tasks) {
    const TaskRecord* got = loaded->FindTask("model", "even", want.task);
    ASSERT_NE(got, nullptr) << want.task;
    EXPECT_EQ(std::tie(got->instance, got->stage, got->task, got->cache_key, got->version,
                       got->run_id, got->slot, got->output_json),
              std::tie(want.instance, want.stage, want.task, want.cache_key, want.version,
                       want.run_id, want.slot, want.output_json));
  }
  ASSERT_EQ(loaded->tables.size(), 2u);
  for (const auto& want : commit.tables) {
    const TableRecord* got = loaded->FindTable("model", "even", want.table);
    ASSERT_NE(got, nullptr) << want.table;
    EXPECT_EQ(std::tie(got->instance, got->stage, got->slot, got->table, got->rows, got->bytes,
                       got->schema_json, got->partition_by, got->content_hash),
              std::tie(want.instance, want.stage, want.slot, want.table, want.rows, want.bytes,
                       want.schema_json, want.partition_by, want.content_hash));
    EXPECT_EQ(FilesToJson(got->files), FilesToJson(want.files));
  }
  ASSERT_EQ(loaded->runs.size(), 1u);
  const RunRecord& got = loaded->runs[0];
  EXPECT_EQ(std::tie(got.run_id, got.instance, got.flow, got.started_at, got.finished_at,
                     got.status, got.error),
            std::tie(run.run_id, run.instance, run.flow, run.started_at, run.finished_at,
                     run.status, run.error));
}

TEST_F(PostgresMetadataStoreTest, CommitReplacesTheRowsOfItsSlotOnly) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->CommitStage(SampleCommit("odd", "run-1", {"a", "b"})));
  ASSERT_OK(store->CommitStage(SampleCommit("even", "run-2", {"x"})));
  ASSERT_OK(store->CommitStage(SampleCommit("odd", "run-3", {"c"})));

  auto loaded = store->Load("ci");
  ASSERT_OK(loaded);
  ASSERT_EQ(loaded->stages.size(), 1u);
  EXPECT_EQ(loaded->stages[0].committed_slot, "odd");
  EXPECT_EQ(loaded->stages[0].run_id, "run-3");
  EXPECT_EQ(TableNames(*loaded, "odd"), std::vector<std::string>{"c"});
  EXPECT_EQ(TaskNames(*loaded, "odd"), std::vector<std::string>{"c"});
  EXPECT_EQ(TableNames(*loaded, "even"), std::vector<std::string>{"x"});
  EXPECT_EQ(TaskNames(*loaded, "even"), std::vector<std::string>{"x"});
}

TEST_F(PostgresMetadataStoreTest, SaveRunUpdatesARunById) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  RunRecord run{"run-1", "ci", "shop", "2026-01-01T00:00:00+00:00", "", "running", ""};
  ASSERT_OK(store->SaveRun(run));
  run.finished_at = "2026-01-01T00:01:00+00:00";
  run.status = "succeeded";
  ASSERT_OK(store->SaveRun(run));
  auto loaded = store->Load("ci");
  ASSERT_OK(loaded);
  ASSERT_EQ(loaded->runs.size(), 1u);
  EXPECT_EQ(loaded->runs[0].status, "succeeded");
  EXPECT_EQ(loaded->runs[0].finished_at, "2026-01-01T00:01:00+00:00");
}

TEST_F(PostgresMetadataStoreTest, LocksOfOneStageSerializeRuns) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::mutex mutex;
  std::vector<std::string> events;
  auto record = [&](std::string event) {
    std::lock_guard<std::mutex> guard(mutex);
    events.push_back(std::move(event));
  };
  auto first = store->Lock("ci", {"raw", "model"});
  ASSERT_OK(first);
  record("first locked");
  std::thread second([&] {
    auto locks = store->Lock("ci", {"model"});
    EXPECT_OK(locks);
    record("second locked");
  });
  // The second run is waiting once the server shows its lock request ungranted.
  EXPECT_NE(WaitForRow("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"), "")
      << "the second Lock() never waited";
  record("first releasing");
  first->reset();
  second.join();
  EXPECT_EQ(events, (std::vector<std::string>{"first locked", "first releasing", "second locked"}));
}

TEST_F(PostgresMetadataStoreTest, LocksOfOtherStagesOrInstancesDoNotWait) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto held = store->Lock("ci", {"raw"});
  ASSERT_OK(held);
  for (const auto& [instance, stage] :
       std::vector<std::pair<std::string, std::string>>{{"ci", "model"}, {"prod", "raw"}}) {
    auto other = std::async(std::launch::async, [&, instance = instance, stage = stage] {
      return store->Lock(instance, {stage}).status();
    });
    const bool done = other.wait_for(kDeadline) == std::future_status::ready;
    if (!done) held->reset();  // let the thread finish before failing
    ASSERT_TRUE(done) << instance << "#" << stage << " waited for ci#raw";
    EXPECT_OK(other.get());
  }
}

TEST_F(PostgresMetadataStoreTest, ValidateFailsOnceTheLockConnectionIsTerminated) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto locks = store->Lock("ci", {"model"});
  ASSERT_OK(locks);
  ASSERT_OK((*locks)->Validate());
  // The session holding the int8 key: pg_locks splits it into classid (high) and objid.
  const std::string pid = Scalar(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
      "AND ((classid::bigint << 32) | objid::bigint) = $1::bigint",
      {std::to_string(AdvisoryLockKey("ci#model"))});
  ASSERT_NE(pid, "");
  Terminate(pid);
  const arrow::Status lost = (*locks)->Validate();
  ASSERT_TRUE(lost.IsIOError()) << lost.ToString();
  EXPECT_NE(
      lost.message().find("lost the PostgreSQL connection holding the locks of instance 'ci'"),
      std::string::npos)
      << lost.message();
  EXPECT_EQ(lost.message().find(TestPostgres::kPassword), std::string::npos) << lost.message();
  EXPECT_TRUE((*locks)->Validate().IsIOError()) << "a lost lock stays lost";
  // The server released the lock with the session: another run gets it.
  auto next = std::async(std::launch::async, [&] { return store->Lock("ci", {"model"}).status(); });
  ASSERT_EQ(next.wait_for(kDeadline), std::future_status::ready);
  EXPECT_OK(next.get());
}

TEST_F(PostgresMetadataStoreTest, ErrorsAndDescribeNeverShowThePassword) {
  const std::string wrong = "Wrong-Secret-Pw-42";
  const std::string shown =
      fmt::format("postgresql://lakepipe@127.0.0.1:{}/{}", server_->port(), database_);
  auto bad = OpenPostgresMetadataStore(server_->Url(database_, wrong));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("password authentication failed"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find(shown), std::string::npos) << bad.status().message();
  EXPECT_EQ(bad.status().message().find(wrong), std::string::npos) << bad.status().message();

  const std::string in_query = fmt::format("postgresql://lakepipe@127.0.0.1:{}/{}?password={}",
                                           server_->port(), database_, wrong);
  bad = OpenPostgresMetadataStore(in_query);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find(wrong), std::string::npos) << bad.status().message();

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Describe(), shown);
}

TEST_F(PostgresMetadataStoreTest, NewerSchemaVersionIsRefused) {
  ASSERT_NE(OpenStore(), nullptr);
  ASSERT_OK(sql_->Execute("test", "INSERT INTO lakepipe_meta.schema_version VALUES (3, now())"));
  auto store = OpenPostgresMetadataStore(Url());
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.status().IsInvalid()) << store.status().ToString();
  EXPECT_NE(store.status().message().find("version 3"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("up to 2"), std::string::npos)
      << store.status().message();
}

// A database an older lakepipe made (schema version 1: integer versions) is upgraded in
// place; its rows keep their values, the version as its decimal text.
TEST_F(PostgresMetadataStoreTest, SchemaVersion1IsMigratedToTextVersions) {
  ASSERT_TRUE(sql_->ExecuteScript("test", R"sql(
CREATE SCHEMA lakepipe_meta;
CREATE TABLE lakepipe_meta.schema_version
  (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO lakepipe_meta.schema_version VALUES (1, now());
CREATE TABLE lakepipe_meta.stages (
  instance text NOT NULL, stage text NOT NULL, committed_slot text NOT NULL,
  run_id text NOT NULL, committed_at text NOT NULL, PRIMARY KEY (instance, stage));
CREATE TABLE lakepipe_meta.tasks (
  instance text NOT NULL, stage text NOT NULL, task text NOT NULL, cache_key text NOT NULL,
  version bigint NOT NULL, run_id text NOT NULL, output_json jsonb NOT NULL, slot text NOT NULL,
  PRIMARY KEY (instance, stage, slot, task));
CREATE TABLE lakepipe_meta.tables (
  instance text NOT NULL, stage text NOT NULL, slot text NOT NULL, "table" text NOT NULL,
  files_json jsonb NOT NULL, rows bigint NOT NULL, bytes bigint NOT NULL,
  schema_json jsonb NOT NULL, content_hash text NOT NULL, partition_by jsonb NOT NULL,
  PRIMARY KEY (instance, stage, slot, "table"));
CREATE TABLE lakepipe_meta.runs (
  run_id text PRIMARY KEY, instance text NOT NULL, flow text NOT NULL,
  started_at text NOT NULL, finished_at text NOT NULL, status text NOT NULL,
  error text NOT NULL);
CREATE INDEX runs_instance ON lakepipe_meta.runs (instance);
INSERT INTO lakepipe_meta.tasks VALUES ('ci', 'model', 'orders', 'key1', 7, 'run-1', '{}', 'odd');
)sql")
                  .ok());
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Scalar("SELECT string_agg(version::text, ',' ORDER BY version) "
                   "FROM lakepipe_meta.schema_version"),
            "1,2");
  EXPECT_EQ(Scalar("SELECT data_type FROM information_schema.columns WHERE table_schema = "
                   "'lakepipe_meta' AND table_name = 'tasks' AND column_name = 'version'"),
            "text");
  auto loaded = store->Load("ci");
  ASSERT_OK(loaded);
  const TaskRecord* task = loaded->FindTask("model", "odd", "orders");
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->version, "7");
  EXPECT_EQ(task->cache_key, "key1");
}

TEST_F(PostgresMetadataStoreTest, DropStageRemovesBothSlotsOfThatStageOnly) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->CommitStage(SampleCommit("odd", "run-1", {"a", "b"})));
  ASSERT_OK(store->CommitStage(SampleCommit("even", "run-2", {"c"})));
  StageCommit other = SampleCommit("odd", "run-2", {"kept"});
  other.stage.stage = "raw";
  for (auto& t : other.tasks) t.stage = "raw";
  for (auto& t : other.tables) t.stage = "raw";
  ASSERT_OK(store->CommitStage(other));
  ASSERT_OK(store->CommitStage(SampleCommit("odd", "run-3", {"elsewhere"}, "prod")));

  auto dropped = store->DropStage("ci", "model");
  ASSERT_OK(dropped);
  EXPECT_EQ(std::tie(dropped->stages, dropped->tasks, dropped->tables),
            std::make_tuple(int64_t{1}, int64_t{3}, int64_t{3}));
  auto loaded = store->Load("ci");
  ASSERT_OK(loaded);
  EXPECT_EQ(loaded->FindStage("model"), nullptr);
  ASSERT_NE(loaded->FindStage("raw"), nullptr);
  EXPECT_EQ(loaded->tasks.size(), 1u);
  EXPECT_EQ(loaded->tables.size(), 1u);
  auto prod = store->Load("prod");
  ASSERT_OK(prod);
  EXPECT_NE(prod->FindStage("model"), nullptr);
  // Dropping what is not there drops nothing.
  dropped = store->DropStage("ci", "model");
  ASSERT_OK(dropped);
  EXPECT_EQ(dropped->stages + dropped->tasks + dropped->tables, 0);
}

TEST_F(PostgresMetadataStoreTest, ConnectionLostDuringCommitWritesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->CommitStage(SampleCommit("odd", "run-1", {"a"})));
  // Hold the tables table so the next commit stops midway, after its stages upsert.
  auto blocker = PgConnection::Open(Url());
  ASSERT_OK(blocker);
  ASSERT_OK((*blocker)->Execute("test", "BEGIN"));
  ASSERT_OK((*blocker)->Execute("test", "LOCK TABLE lakepipe_meta.tables IN ACCESS EXCLUSIVE MODE"));
  auto commit = std::async(
      std::launch::async, [&] { return store->CommitStage(SampleCommit("even", "run-2", {"b"})); });
  const std::string pid = WaitForRow(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
      "AND wait_event_type = 'Lock'");
  ASSERT_NE(pid, "");
  Terminate(pid);
  ASSERT_EQ(commit.wait_for(kDeadline), std::future_status::ready);
  const arrow::Status lost = commit.get();
  ASSERT_FALSE(lost.ok());
  EXPECT_NE(lost.message().find("committing stage 'model' of instance 'ci'"), std::string::npos)
      << lost.message();
  EXPECT_NE(lost.message().find("lost the connection"), std::string::npos) << lost.message();
  EXPECT_NE(lost.message().find("nothing of it was written"), std::string::npos) << lost.message();
  ASSERT_OK((*blocker)->Execute("test", "ROLLBACK"));

  auto loaded = store->Load("ci");  // reconnects
  ASSERT_OK(loaded);
  ASSERT_EQ(loaded->stages.size(), 1u);
  EXPECT_EQ(loaded->stages[0].committed_slot, "odd");
  EXPECT_EQ(loaded->stages[0].run_id, "run-1");
  EXPECT_EQ(TableNames(*loaded, "odd"), std::vector<std::string>{"a"});
  EXPECT_TRUE(TableNames(*loaded, "even").empty());
}

TEST_F(PostgresMetadataStoreTest, ReconnectsAfterTheConnectionDroppedWhileIdle) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::string pid = Scalar(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
      "AND application_name = 'lakepipe' AND pid <> pg_backend_pid()");
  ASSERT_NE(pid, "");
  Terminate(pid);
  EXPECT_OK(store->CommitStage(SampleCommit("odd", "run-1", {"a"})));
  auto loaded = store->Load("ci");
  ASSERT_OK(loaded);
  EXPECT_EQ(TableNames(*loaded, "odd"), std::vector<std::string>{"a"});
}

TEST(PostgresUrlTest, RedactDropsEveryPassword) {
  EXPECT_EQ(RedactPostgresUrl("postgresql://ann:s3cr%40t@db.example:5432/lake"),
            "postgresql://ann@db.example:5432/lake");
  EXPECT_EQ(RedactPostgresUrl("postgres://ann@h/lake?sslmode=require&password=x&PASSWORD=y"),
            "postgres://ann@h/lake?sslmode=require");
  EXPECT_EQ(RedactPostgresUrl("postgresql://h/lake?pass%77ord=x&sslpassword=z"),
            "postgresql://h/lake");
  // Unencoded '@' or '/' in a password: hidden whole.
  EXPECT_EQ(RedactPostgresUrl("postgresql://ann:p@ss/w@h:5432/lake"),
            "postgresql://ann@h:5432/lake");
  EXPECT_EQ(RedactPostgresUrl("postgresql://h1:5432,h2:5433/lake"),
            "postgresql://h1:5432,h2:5433/lake");
  EXPECT_EQ(RedactPostgresUrl("host=h password=x"), "<not a postgresql:// URL>");
}

// libpq quotes what it cannot parse: `invalid percent-encoded token: "pa%zzSecret"`.
TEST(PostgresUrlTest, RedactSecretsHidesTheUrlAndEveryPasswordInAMessage) {
  const std::string url = "postgresql://ann:pa%zzSecret@h:1/lake";
  EXPECT_EQ(RedactPostgresSecrets("at \"" + url +
                                      "\": invalid percent-encoded token: "
                                      "\"pa%zzSecret\"",
                                  url),
            "at \"postgresql://ann@h:1/lake\": invalid percent-encoded token: \"***\"");
  EXPECT_EQ(RedactPostgresSecrets("echo s3cr@t and s3cr%40t and qparam1",
                                  "postgresql://ann:s3cr%40t@h/lake?password=qparam1"),
            "echo *** and *** and ***");
  EXPECT_EQ(RedactPostgresSecrets("bad 'kv secret' here", "host=h password='kv secret' port=1"),
            "bad '***' here");
  EXPECT_EQ(RedactPostgresSecrets("got kvpass9", "host=h password = kvpass9"), "got ***");
}

TEST(PostgresAdvisoryLockKeyTest, IsTheSha256PrefixAsSignedBigEndian) {
  // Shared by every lakepipe on a database: these values must never change.
  EXPECT_EQ(AdvisoryLockKey("ci#model"), 8190068604128914218);
  EXPECT_EQ(AdvisoryLockKey("ci#raw"), -6813888842492727164);
}

}  // namespace
}  // namespace lakepipe::tablestore
