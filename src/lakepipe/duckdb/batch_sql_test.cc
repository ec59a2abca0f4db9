#include "lakepipe/duckdb/batch_sql.h"
#include "lakepipe/testing/gtest_util.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

namespace lakepipe::duckdb {
namespace {

std::shared_ptr<arrow::RecordBatch> People() {
  arrow::Int64Builder ids;
  arrow::StringBuilder names;
  arrow::DoubleBuilder scores;
  for (int i = 1; i <= 5; ++i) {
    EXPECT_OK(ids.Append(i));
    EXPECT_OK(names.Append("user" + std::to_string(i)));
    EXPECT_OK(scores.Append(i * 1.5));
  }
  auto schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8()),
                     arrow::field("score", arrow::float64())});
  return arrow::RecordBatch::Make(
      schema, 5,
      {ids.Finish().ValueOrDie(), names.Finish().ValueOrDie(), scores.Finish().ValueOrDie()});
}

std::string Column(const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
                   const std::string& name) {
  std::string out;
  for (const auto& b : batches) out += b->GetColumnByName(name)->ToString();
  return out;
}

TEST(BatchSqlTest, SelectingASubsetOfColumnsReadsTheRightValues) {
  auto sql =
      BatchSql::Make("SELECT id, score * 2 AS doubled FROM batch WHERE id % 2 = 1").ValueOrDie();
  auto out = sql->Apply(People());
  ASSERT_OK(out);
  EXPECT_EQ(Column(*out, "doubled"), "[\n  3,\n  9,\n  15\n]");
}

TEST(BatchSqlTest, RunsOnEveryBatchIndependently) {
  auto sql = BatchSql::Make("SELECT count(*) AS n FROM batch").ValueOrDie();
  for (int round = 0; round < 3; ++round) {
    auto out = sql->Apply(People());
    ASSERT_OK(out);
    EXPECT_EQ(Column(*out, "n"), "[\n  5\n]");
  }
}

TEST(BatchSqlTest, OutputSchemaComesFromZeroRows) {
  auto sql =
      BatchSql::Make("SELECT * EXCLUDE (score), upper(name) AS shout FROM batch").ValueOrDie();
  auto schema = sql->OutputSchema(People()->schema());
  ASSERT_OK(schema);
  EXPECT_EQ((*schema)->ToString(), "id: int64\nname: string\nshout: string");
}

TEST(BatchSqlTest, ErrorsCarryDuckDbsMessage) {
  auto sql = BatchSql::Make("SELECT nosuch FROM batch").ValueOrDie();
  auto out = sql->Apply(People());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message().rfind("DuckDB: Binder Error: Referenced column \"nosuch\"", 0),
            0u)
      << out.status().message();
}

}  // namespace
}  // namespace lakepipe::duckdb
