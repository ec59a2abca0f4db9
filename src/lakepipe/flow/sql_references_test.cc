#include "lakepipe/flow/sql_references.h"
#include "lakepipe/testing/gtest_util.h"

#include <gtest/gtest.h>

namespace lakepipe::flow {
namespace {

std::vector<std::string> Paths(const std::string& sql) {
  auto db = duckdb::Database::Open({});
  EXPECT_OK(db);
  auto files = FileReferences(**db, sql);
  EXPECT_OK(files);
  std::vector<std::string> out;
  for (const auto& file : *files) out.push_back(file.path);
  return out;
}

TEST(SqlFileReferencesTest, TableFunctionsListsAndFromFileNames) {
  EXPECT_EQ(
      Paths("SELECT * FROM READ_CSV('a.csv', header = true) "
            "JOIN read_parquet(['s3://b/x.parquet', 'y/*.parquet']) USING (id) "
            "JOIN 'z.jsonl' USING (id) JOIN raw.t USING (id) "
            "WHERE id IN (SELECT id FROM read_json_auto('w.json'))"),
      (std::vector<std::string>{"a.csv", "s3://b/x.parquet", "y/*.parquet", "z.jsonl", "w.json"}));
}

TEST(SqlFileReferencesTest, StringsThatAreNotFileArgumentsAreNot) {
  EXPECT_TRUE(Paths("SELECT 'a.csv' AS f, * FROM raw.t WHERE name = 'b.parquet' "
                    "-- read_csv('c.csv')")
                  .empty());
  EXPECT_TRUE(Paths("WITH x AS (SELECT 1) SELECT * FROM x, range(3)").empty());
}

TEST(SqlFileReferencesTest, RelativePathsAreRewrittenUnderTheFlowFolder) {
  const std::string sql =
      "SELECT * FROM read_csv(['it''s.csv', '/abs/b.csv', 's3://k/c.csv']) JOIN \"d.csv\" "
      "USING (id)";
  auto db = duckdb::Database::Open({});
  ASSERT_OK(db);
  auto files = FileReferences(**db, sql);
  ASSERT_OK(files);
  auto rewritten = SqlWithResolvedFiles(sql, *files, "/flows/shop");
  ASSERT_OK(rewritten);
  EXPECT_EQ(*rewritten,
            "SELECT * FROM read_csv(['/flows/shop/it''s.csv', '/abs/b.csv', 's3://k/c.csv']) "
            "JOIN '/flows/shop/d.csv' USING (id)");
  EXPECT_EQ(ResolveSqlFile("sub/../e.csv", "/flows/shop"), "/flows/shop/e.csv");
  EXPECT_EQ(ResolveSqlFile("gs://b/e.csv", "/flows/shop"), "gs://b/e.csv");
}

TEST(SqlFileReferencesTest, DollarQuotedRelativePathIsAnError) {
  const std::string sql = "SELECT * FROM read_csv($$a.csv$$)";
  auto db = duckdb::Database::Open({});
  ASSERT_OK(db);
  auto files = FileReferences(**db, sql);
  ASSERT_OK(files);
  auto rewritten = SqlWithResolvedFiles(sql, *files, "/flows/shop");
  ASSERT_FALSE(rewritten.ok());
  EXPECT_EQ(rewritten.status().message(),
            "SQL (line 1, column 24): write the relative path 'a.csv' as a '...' string, or "
            "make it absolute");
}

}  // namespace
}  // namespace lakepipe::flow
