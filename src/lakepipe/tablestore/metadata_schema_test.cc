#include "lakepipe/tablestore/metadata_schema.h"

#include <regex>
#include <string>

#include <gtest/gtest.h>

namespace lakepipe::tablestore::metadata_schema {
namespace {

// The statements each store ran before they were made from one description, as they were
// written in embedded_metadata_store.cc, postgres_metadata_store.cc and catalog.cc: stores
// made by earlier lakepipes must find the same tables (and applied migrations must stay
// the same), so the generated text must say exactly this, up to spacing.

constexpr char kSqliteTables[] = R"sql(
CREATE TABLE IF NOT EXISTS stages (instance TEXT, stage TEXT, committed_slot TEXT,
  run_id TEXT, committed_at TEXT, PRIMARY KEY (instance, stage));
CREATE TABLE IF NOT EXISTS tasks (instance TEXT, stage TEXT, task TEXT, cache_key TEXT,
  version TEXT, run_id TEXT, output_json TEXT, slot TEXT,
  PRIMARY KEY (instance, stage, slot, task));
CREATE TABLE IF NOT EXISTS tables (instance TEXT, stage TEXT, slot TEXT, "table" TEXT,
  files_json TEXT, rows INTEGER, bytes INTEGER, schema_json TEXT, content_hash TEXT,
  partition_by TEXT, PRIMARY KEY (instance, stage, slot, "table"));
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, instance TEXT, flow TEXT,
  started_at TEXT, finished_at TEXT, status TEXT, error TEXT);
)sql";

constexpr char kSqliteMigrateTo2[] = R"sql(
ALTER TABLE tasks RENAME TO tasks_v1;
CREATE TABLE tasks (instance TEXT, stage TEXT, task TEXT, cache_key TEXT,
  version TEXT, run_id TEXT, output_json TEXT, slot TEXT,
  PRIMARY KEY (instance, stage, slot, task));
INSERT INTO tasks SELECT instance, stage, task, cache_key, CAST(version AS TEXT), run_id,
  output_json, slot FROM tasks_v1;
DROP TABLE tasks_v1;
)sql";

constexpr char kPostgres1[] = R"sql(
CREATE TABLE lakepipe_meta.stages (
  instance text NOT NULL, stage text NOT NULL, committed_slot text NOT NULL,
  run_id text NOT NULL, committed_at text NOT NULL,
  PRIMARY KEY (instance, stage));
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
)sql";

constexpr char kPostgres2[] = R"sql(
ALTER TABLE lakepipe_meta.tasks ALTER COLUMN version TYPE text USING version::text;
)sql";

// The metadata part of the catalog's statements (its catalog_views and catalog_owner
// tables are the catalog's own, written in catalog.cc).
constexpr char kDuckDbTables[] = R"sql(
CREATE TABLE IF NOT EXISTS lakepipe.stages (instance VARCHAR, stage VARCHAR, committed_slot VARCHAR,
  run_id VARCHAR, committed_at VARCHAR);
CREATE TABLE IF NOT EXISTS lakepipe.tasks (instance VARCHAR, stage VARCHAR, task VARCHAR, cache_key VARCHAR,
  version VARCHAR, run_id VARCHAR, output_json JSON, slot VARCHAR);
ALTER TABLE lakepipe.tasks ALTER COLUMN version SET DATA TYPE VARCHAR;
CREATE TABLE IF NOT EXISTS lakepipe.tables (instance VARCHAR, stage VARCHAR, slot VARCHAR, "table" VARCHAR,
  files_json JSON, rows BIGINT, bytes BIGINT, schema_json JSON, content_hash VARCHAR,
  partition_by JSON);
CREATE TABLE IF NOT EXISTS lakepipe.runs (run_id VARCHAR, instance VARCHAR, flow VARCHAR, started_at VARCHAR,
  finished_at VARCHAR, status VARCHAR, error VARCHAR);
)sql";

/// `sql` with each run of spaces and line breaks made one space, and none just inside
/// parentheses or at either end.
std::string Spaced(const std::string& sql) {
  std::string out = std::regex_replace(sql, std::regex(R"(\s+)"), " ");
  out = std::regex_replace(out, std::regex(R"(\( )"), "(");
  out = std::regex_replace(out, std::regex(R"( \))"), ")");
  out = std::regex_replace(out, std::regex(R"(^ | $)"), "");
  return out;
}

TEST(MetadataSchemaTest, TheVersionIsTwo) { EXPECT_EQ(CurrentVersion(), 2); }

TEST(MetadataSchemaTest, SqliteStatementsAreTheEmbeddedStoresOwn) {
  EXPECT_EQ(Spaced(SqliteCreateTables()), Spaced(kSqliteTables));
  EXPECT_EQ(Spaced(SqliteMigration(2)), Spaced(kSqliteMigrateTo2));
}

TEST(MetadataSchemaTest, PostgresMigrationsAreTheAppliedOnes) {
  EXPECT_EQ(Spaced(PostgresMigration(1)), Spaced(kPostgres1));
  EXPECT_EQ(Spaced(PostgresMigration(2)), Spaced(kPostgres2));
}

TEST(MetadataSchemaTest, DuckDbStatementsAreTheCatalogsOwn) {
  EXPECT_EQ(Spaced(DuckDbCreateTables()), Spaced(kDuckDbTables));
}

TEST(MetadataSchemaTest, SpacingIsAllThatIsIgnored) {
  EXPECT_EQ(Spaced(" a (\n  b,  c )\n"), "a (b, c)");
  EXPECT_NE(Spaced("a (b, c)"), Spaced("a (b c)"));
}

}  // namespace
}  // namespace lakepipe::tablestore::metadata_schema
