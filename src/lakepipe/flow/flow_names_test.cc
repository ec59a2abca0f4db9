#include "lakepipe/flow/flow_names.h"

#include <string>

#include <gtest/gtest.h>

#include "lakepipe/flow/task_version.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::flow {
namespace {

std::string StageError(const std::string& name, const std::string& catalog_database = "shop") {
  auto status = CheckStageName(name, catalog_database);
  return status.ok() ? "OK" : status.message();
}

TEST(FlowNamesTest, NamesThatQuotingAndOnePathSegmentCarryAreAccepted) {
  for (const std::string name : {"raw", "1_raw_input", "Raw Data", "ünïcode", "a-b", "q\"uote",
                                 "select", "_x", "raw_", "main_db"}) {
    EXPECT_EQ(StageError(name), "OK") << name;
    EXPECT_TRUE(CheckTaskName(name).ok()) << name;
  }
}

TEST(FlowNamesTest, SchemasDuckDbOrTheCatalogKeepAreRefusedInAnyCase) {
  for (const std::string name :
       {"information_schema", "pg_catalog", "temp", "system", "memory", "main", "lakepipe", "MAIN",
        "Temp", "LakePipe", "Information_Schema"}) {
    EXPECT_NE(StageError(name).find("is a schema name DuckDB or the catalog keeps"),
              std::string::npos)
        << name << ": " << StageError(name);
  }
}

TEST(FlowNamesTest, TheCatalogDatabaseNameIsRefusedAsAStage) {
  EXPECT_EQ(StageError("Shop", "shop"),
            "'Shop' is the catalog file's database name: 'Shop.<table>' would be ambiguous in "
            "DuckDB");
  EXPECT_EQ(StageError("shop", "shop_ci"), "OK");
}

TEST(FlowNamesTest, DoubleUnderscoreDotControlEmptyAndLongNamesAreRefused) {
  EXPECT_EQ(StageError("a__b"),
            "'a__b' holds '__', which the catalog keeps for the slot schemas '<stage>__odd' and "
            "'<stage>__even'");
  EXPECT_EQ(StageError("raw__odd").substr(0, 25), "'raw__odd' holds '__', wh");
  EXPECT_OK(CheckTaskName("a__b"));  // a table name may hold it
  EXPECT_EQ(CheckTaskName("a.b").message(),
            "'a.b' holds a '.', which separates stage and table in 'stage.table'");
  EXPECT_EQ(CheckTaskName("a\tb").message(), "'a~09b' holds a control character");
  EXPECT_EQ(CheckTaskName("").message(), "the name is empty");
  EXPECT_OK(CheckTaskName(std::string(194, 'x')));
  EXPECT_EQ(CheckTaskName(std::string(195, 'x')).message(),
            "'" + std::string(195, 'x') +
                "' is too long: it must fit one path segment of at most 194 bytes once encoded");
  // Encoded, each "é" takes six bytes: 33 of them (66 bytes) are 198.
  std::string accents;
  for (int i = 0; i < 33; ++i) accents += "\xc3\xa9";
  EXPECT_FALSE(CheckTaskName(accents).ok());
}

TEST(FlowNamesTest, NameKeyFoldsAsciiOnlyAsDuckDbDoes) {
  EXPECT_EQ(NameKey("dfA"), NameKey("DFA"));
  EXPECT_EQ(NameKey("Raw_1"), "raw_1");
  EXPECT_NE(NameKey("\xc3\x89"), NameKey("\xc3\xa9"));  // É, é: two schemas in DuckDB
}

TEST(FlowNamesTest, CatalogDatabaseNameIsDuckDbs) {
  EXPECT_EQ(CatalogDatabaseName("/srv/flows/shop.duckdb"), "shop");
  EXPECT_EQ(CatalogDatabaseName("shop_ci.duckdb"), "shop_ci");
  EXPECT_EQ(CatalogDatabaseName("/x/my.cat.duckdb"), "my");
  EXPECT_EQ(CatalogDatabaseName("/x/.hidden.duckdb"), "hidden");
  EXPECT_EQ(CatalogDatabaseName("/x/main.duckdb"), "main_db");
  EXPECT_OK(CheckCatalogDatabaseName("main_db"));
  EXPECT_OK(CheckCatalogDatabaseName("shop"));
  EXPECT_FALSE(CheckCatalogDatabaseName("lakepipe").ok());
  EXPECT_FALSE(CheckCatalogDatabaseName("MAIN").ok());
  EXPECT_FALSE(CheckCatalogDatabaseName("memory").ok());
}

TEST(TaskVersionTest, IntegersKeepTheirOldCacheKeyValueAndTextStaysText) {
  EXPECT_EQ(TaskVersionCacheValue("0"), nlohmann::json(0));
  EXPECT_EQ(TaskVersionCacheValue("2"), nlohmann::json(2));
  EXPECT_EQ(TaskVersionCacheValue("-3"), nlohmann::json(-3));
  EXPECT_EQ(TaskVersionCacheValue("1.0.0"), nlohmann::json("1.0.0"));
  EXPECT_EQ(TaskVersionCacheValue("02"), nlohmann::json("02"));
  EXPECT_EQ(TaskVersionCacheValue("2.0"), nlohmann::json("2.0"));
  EXPECT_EQ(TaskVersionCacheValue("99999999999999999999"), nlohmann::json("99999999999999999999"));
}

}  // namespace
}  // namespace lakepipe::flow
