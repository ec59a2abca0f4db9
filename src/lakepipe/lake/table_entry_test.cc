#include "lakepipe/lake/table_entry.h"

#include <gtest/gtest.h>

namespace lakepipe::lake {
namespace {

using parquet::Column;

const Column kId{"id", "int64", false};
const Column kName{"name", "string", true};
const Column kAmount{"amount", "double", false};

TEST(UnifyColumnsTest, OneSchemaKeepsItsColumnsAndNoFileRepeatsThem) {
  TableEntry entry;
  entry.files = {{"a.parquet", 1, 10, "", {kId, kName}}, {"b.parquet", 1, 10, "", {kId, kName}}};
  UnifyColumns(&entry, {}, {});
  EXPECT_EQ(entry.columns, (std::vector<Column>{kId, kName}));
  EXPECT_TRUE(entry.files[0].columns.empty());
  EXPECT_TRUE(entry.files[1].columns.empty());
}

TEST(UnifyColumnsTest, AnEvolvedTableListsTheUnionAndTheFilesThatDiffer) {
  TableEntry entry;
  // An earlier run's file, listed without columns: it has the entry's columns of then.
  entry.files = {{"old.parquet", 1, 10, "", {}}, {"new.parquet", 1, 10, "", {kId, kAmount}}};
  UnifyColumns(&entry, {kId, kName}, {});
  // amount is missing from the old file and name from the new one: both nullable.
  EXPECT_EQ(entry.columns, (std::vector<Column>{kId, kName, {"amount", "double", true}}));
  EXPECT_EQ(entry.files[0].columns, (std::vector<Column>{kId, kName}));
  EXPECT_EQ(entry.files[1].columns, (std::vector<Column>{kId, kAmount}));
}

TEST(UnifyColumnsTest, ATypeChangeTakesTheNewestFilesType) {
  TableEntry entry;
  entry.files = {{"a.parquet", 1, 10, "", {kId}},
                 {"b.parquet", 1, 10, "", {{"id", "string", false}}}};
  UnifyColumns(&entry, {}, {});
  EXPECT_EQ(entry.columns, (std::vector<Column>{{"id", "string", false}}));
  EXPECT_EQ(entry.files[0].columns, (std::vector<Column>{kId}));
  EXPECT_TRUE(entry.files[1].columns.empty());
}

TEST(UnifyColumnsTest, ATableWithoutFilesHasItsStreamsSchema) {
  TableEntry entry;
  UnifyColumns(&entry, {kId}, {kId, kName});
  EXPECT_EQ(entry.columns, (std::vector<Column>{kId, kName}));
}

TEST(TableEntryTest, FileColumnsRoundTripThroughJson) {
  TableEntry entry;
  entry.source = "s";
  entry.table = "t";
  entry.files = {{"a.parquet", 1, 10, "", {kId}}, {"b.parquet", 2, 20, "", {}}};
  auto back = TableEntry::FromJson(entry.ToJson(), "test").ValueOrDie();
  EXPECT_EQ(back.files[0].columns, (std::vector<Column>{kId}));
  EXPECT_TRUE(back.files[1].columns.empty());
  EXPECT_FALSE(entry.ToJson()["files"][1].contains("columns"));
}

}  // namespace
}  // namespace lakepipe::lake
