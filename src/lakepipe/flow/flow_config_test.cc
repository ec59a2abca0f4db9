#include "lakepipe/flow/flow_config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "lakepipe/flow/task_graph.h"
#include "lakepipe/flow/sql_references.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::flow {
namespace {

namespace fs = std::filesystem;

class FlowConfigTest : public ::testing::Test {
 protected:

  arrow::Result<FlowConfig> Load(const std::string& yaml,
                                 const std::optional<std::string>& instance = {}) {
    const auto path = (dir_ / "flow.yaml").string();
    std::ofstream(path) << yaml;
    return LoadFlowConfig(path, instance);
  }
  std::string Error(const std::string& yaml) {
    auto config = Load(yaml);
    if (!config.ok()) return config.status().message();
    auto status = ResolveTaskInputs(&*config);
    return status.ok() ? "OK" : status.message();
  }
  std::string File() const { return (dir_ / "flow.yaml").string(); }

  lakepipe::testing::TempDir temp_{"flowcfg"};
  const fs::path dir_ = temp_.path();
};

constexpr char kHeader[] = "name: shop\ninstance: dev\ntable_store: { base: ./lake }\nstages:\n";

TEST_F(FlowConfigTest, ResolvesPathsAndTaskOptions) {
  auto config = Load(std::string(kHeader) + R"(  - name: raw
    tasks:
      - name: orders
        read: { uri: orders.csv }
        compression: snappy
        not_null: [id]
)")
                    .ValueOrDie();
  EXPECT_EQ(config.store.base, (dir_ / "lake").string());
  EXPECT_EQ(config.store.catalog_path, (dir_ / "shop.duckdb").string());
  EXPECT_EQ(config.store.instance, "dev");
  const auto& task = config.stages.at(0).tasks.at(0);
  EXPECT_STREQ(task.kind->kind(), "read");
  EXPECT_EQ(task.table.parquet.compression, "snappy");
  EXPECT_EQ(task.table.not_null, std::vector<std::string>{"id"});
}

TEST_F(FlowConfigTest, AnotherInstanceGetsItsOwnCatalog) {
  auto config =
      Load(std::string(kHeader) + "  - name: raw\n    tasks: [{name: a, sql: 'SELECT 1'}]\n", "ci")
          .ValueOrDie();
  EXPECT_EQ(config.store.instance, "ci");
  EXPECT_EQ(config.store.catalog_path, (dir_ / "shop_ci.duckdb").string());
}

TEST_F(FlowConfigTest, ErrorsNameTheFileLineAndKey) {
  EXPECT_EQ(Error(std::string(kHeader) + "  - name: raw\n    taks: []\n"),
            File() + ":6: unknown key 'stages[0].taks'");
  EXPECT_EQ(
      Error(std::string(kHeader) + "  - name: raw\n    tasks: [{name: a, sql: x, exec: [y]}]\n"),
      File() + ":6: task 'a' needs exactly one of sql, read, exec, ingest");
}

TEST_F(FlowConfigTest, SqlReferencesComeFromDuckDbsParser) {
  auto config = Load(std::string(kHeader) + R"(  - name: raw
    tasks:
      - name: a
        sql: "SELECT 1 AS x"
  - name: model
    tasks:
      - name: b
        sql: |
          WITH t AS (SELECT * FROM raw.a) -- raw.fake in a comment
          SELECT 'raw.fake' AS s, x FROM t JOIN model.c USING (x)
      - name: c
        sql: "SELECT x FROM raw.a"
)")
                    .ValueOrDie();
  ASSERT_OK(ResolveTaskInputs(&config));
  const auto& b = config.stages[1].tasks[0];
  ASSERT_EQ(b.inputs.size(), 2u);
  EXPECT_EQ(b.inputs[0].ToString(), "model.c");
  EXPECT_EQ(b.inputs[1].ToString(), "raw.a");
}

TEST_F(FlowConfigTest, BadReferencesAndCyclesAreErrors) {
  const std::string one_stage = std::string(kHeader) + "  - name: raw\n    tasks:\n";
  EXPECT_EQ(Error(one_stage + "      - {name: a, sql: 'SELECT * FROM raw.nope'}\n"),
            "flow 'shop', stage 'raw', task 'a' (" + File() +
                ":7): 'raw.nope' is not produced by any task");
  EXPECT_EQ(Error(one_stage + "      - {name: a, sql: 'SELECT * FROM raw.b'}\n"
                              "      - {name: b, sql: 'SELECT * FROM raw.a'}\n"),
            "flow 'shop', stage 'raw': tasks a, b depend on each other in a cycle");
  EXPECT_EQ(Error(one_stage + "      - {name: a, sql: 'SELEC 1'}\n"),
            "flow 'shop', stage 'raw', task 'a' (" + File() +
                ":7): SQL: syntax error at or near \"SELEC\" (SQL line 1, column 1)");
  EXPECT_EQ(
      Error(one_stage +
            "      - name: a\n        sql: |\n          SELECT 1\n          FROM raw.x WHERE\n"),
      "flow 'shop', stage 'raw', task 'a' (" + File() +
          ":7): SQL: syntax error at end of input (SQL line 3, column 1)");
}

TEST_F(FlowConfigTest, NamesThatWouldBreakTheCatalogAreRefusedWithFileLineAndKey) {
  const std::string one_task = "    tasks: [{name: a, sql: 'SELECT 1'}]\n";
  EXPECT_EQ(
      Error(std::string(kHeader) + "  - name: raw\n" + one_task + "  - name: Temp\n" + one_task),
      File() +
          ":7: 'stages[1].name': stage name 'Temp' is a schema name DuckDB or the "
          "catalog keeps (main, lakepipe, information_schema, pg_catalog, temp, "
          "system, memory; case does not matter)");
  EXPECT_EQ(Error(std::string(kHeader) + "  - name: raw__odd\n" + one_task),
            File() +
                ":5: 'stages[0].name': stage name 'raw__odd' holds '__', which the catalog "
                "keeps for the slot schemas '<stage>__odd' and '<stage>__even'");
  EXPECT_EQ(Error(std::string(kHeader) + "  - name: SHOP\n" + one_task),
            File() +
                ":5: 'stages[0].name': stage name 'SHOP' is the catalog file's database "
                "name: 'SHOP.<table>' would be ambiguous in DuckDB");
  EXPECT_EQ(
      Error(std::string(kHeader) + "  - name: Raw\n" + one_task + "  - name: raw\n" + one_task),
      File() +
          ":7: 'stages[1].name': stage 'raw' appears twice (as 'Raw'; case does not "
          "matter)");
  EXPECT_EQ(Error(std::string(kHeader) +
                  "  - name: raw\n    tasks:\n      - {name: dfA, sql: 'SELECT 1'}\n"
                  "      - {name: DFA, sql: 'SELECT 2'}\n"),
            File() +
                ":8: 'stages[0].tasks[1].name': task 'DFA' appears twice in stage 'raw' "
                "(as 'dfA'; case does not matter)");
  EXPECT_EQ(Error(std::string(kHeader) + "  - name: raw\n    tasks: [{name: a.b, sql: x}]\n"),
            File() +
                ":6: 'stages[0].tasks[0].name': task name 'a.b' holds a '.', which "
                "separates stage and table in 'stage.table'");
  EXPECT_EQ(
      Error("name: lakepipe\ntable_store: { base: ./lake }\nstages:\n  - name: raw\n" + one_task),
      File() +
          ":1: 'name': the catalog file's database name 'lakepipe' clashes with a "
          "schema DuckDB or the catalog keeps (main, lakepipe, information_schema, "
          "pg_catalog, temp, system, memory): name the catalog file otherwise");
}

TEST_F(FlowConfigTest, NamesThatNeedQuotingAreFlowNamesAndSqlFindsThem) {
  auto config = Load(std::string(kHeader) + R"(  - name: 1_raw_input
    tasks:
      - {name: 2 orders, sql: "SELECT 1 AS x"}
  - name: model
    tasks:
      - name: t
        sql: 'SELECT * FROM "1_raw_input"."2 orders" JOIN "1_RAW_INPUT"."2 ORDERS" USING (x)'
        inputs: ["1_RAW_INPUT.2 Orders"]
)")
                    .ValueOrDie();
  ASSERT_OK(ResolveTaskInputs(&config));
  const auto& t = config.stages[1].tasks[0];
  ASSERT_EQ(t.inputs.size(), 1u);
  EXPECT_EQ(t.inputs[0].ToString(), "1_raw_input.2 orders");
}

TEST_F(FlowConfigTest, VersionsAreTextAndIntegersAsBefore) {
  auto config = Load(std::string(kHeader) + R"(  - name: raw
    tasks:
      - {name: a, sql: x, version: "1.0.0"}
      - {name: b, sql: x, version: 2}
      - {name: c, sql: x}
)")
                    .ValueOrDie();
  EXPECT_EQ(config.stages[0].tasks[0].version, "1.0.0");
  EXPECT_EQ(config.stages[0].tasks[1].version, "2");
  EXPECT_EQ(config.stages[0].tasks[2].version, "0");
  EXPECT_EQ(
      Error(std::string(kHeader) + "  - name: raw\n    tasks: [{name: a, sql: x, version: [1]}]\n"),
      File() + ":6: 'stages[0].tasks[0].version' must be a string or an integer");
}

TEST(ParseFlowYamlTest, ResolvesPathsAgainstTheGivenFolder) {
  auto config =
      ParseFlowYaml(std::string(kHeader) + "  - {name: raw, tasks: [{name: a, sql: x}]}\n",
                    "shop.yaml", "/srv/flows")
          .ValueOrDie();
  EXPECT_EQ(config.file, "shop.yaml");
  EXPECT_EQ(config.dir, "/srv/flows");
  EXPECT_EQ(config.store.base, "/srv/flows/lake");
  EXPECT_EQ(config.store.catalog_path, "/srv/flows/shop.duckdb");
}

// Found by fuzz/flow_yaml_fuzzer.cc: a list or map used as a key (or as a read option's
// value) threw yaml-cpp's BadConversion out of the loader, which ended the process.
TEST(ParseFlowYamlTest, KeysThatAreNotStringsAreErrors) {
  auto error = [](const std::string& yaml) {
    auto config = ParseFlowYaml(yaml, "f.yaml", "/srv");
    return config.ok() ? std::string("OK") : config.status().message();
  };
  EXPECT_EQ(error("name: f\ntable_store: {base: x}\nstages:\n  - {name: s, [t]: x}\n"),
            "f.yaml:4: keys of 'stages[0]' must be strings");
  EXPECT_EQ(error("{[a, b]: 1}"), "f.yaml:1: keys must be strings");
  const std::string header = "name: f\ntable_store: {base: x}\nstages:\n  - name: s\n    tasks:\n";
  EXPECT_EQ(error(header + "      - {name: t, read: {uri: u, options: {{a: 1}: b}}}\n"),
            "f.yaml:6: keys of 'stages[0].tasks[0].read.options' must be strings");
  EXPECT_EQ(error(header + "      - {name: t, read: {uri: u, options: {a: [1]}}}\n"),
            "f.yaml:6: 'stages[0].tasks[0].read.options.a' must be a value");
  EXPECT_EQ(error("name: f\ntable_store: {base: x}\nstorage: {[a]: 1}\nstages: []\n"),
            "f.yaml:3: keys of 'storage' must be strings");
}

// The partition writer's bounds: set for the store, overridden per task, at least 1.
TEST(ParseFlowYamlTest, PartitionWriterBoundsAreTableOptions) {
  auto config = ParseFlowYaml(
      "name: f\ntable_store: {base: x, max_open_files: 8}\nstages:\n  - name: s\n    tasks:\n"
      "      - {name: a, sql: x, partition_by: [k], max_partitions: 5000}\n"
      "      - {name: b, sql: x}\n",
      "f.yaml", "/srv");
  ASSERT_OK(config);
  const auto& a = config->stages.at(0).tasks.at(0).table;
  const auto& b = config->stages.at(0).tasks.at(1).table;
  EXPECT_EQ(a.max_partitions, 5000);
  EXPECT_EQ(a.max_open_files, 8);
  EXPECT_EQ(b.max_partitions, tablestore::TableOptions{}.max_partitions);
  EXPECT_EQ(b.max_open_files, 8);
  auto zero = ParseFlowYaml(
      "name: f\ntable_store: {base: x}\nstages:\n  - name: s\n    tasks:\n"
      "      - {name: a, sql: x, max_open_files: 0}\n",
      "f.yaml", "/srv");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(),
            "f.yaml:6: 'stages[0].tasks[0].max_open_files' must be at least 1");
}

}  // namespace
}  // namespace lakepipe::flow
