#include "lakepipe/flow/ingest_task.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include "lakepipe/common/sha256.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/flow/task_version.h"
#include "lakepipe/parquet/parquet_file_writer.h"
#include "lakepipe/tablestore/table_scan_sql.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::flow {
namespace {

// The types ingest sources give (Singer schemas, the built-in readers, Parquet files read
// as they are), each as its own column, nullable or not.
std::shared_ptr<arrow::Schema> IngestSchema() {
  return arrow::schema({
      arrow::field("id", arrow::int64(), /*nullable=*/false),
      arrow::field("small", arrow::int32()),
      arrow::field("amount", arrow::float64()),
      arrow::field("name", arrow::utf8()),
      arrow::field("flag", arrow::boolean()),
      arrow::field("at", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
      arrow::field("local_at", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("day", arrow::date32()),
      arrow::field("price", arrow::decimal128(10, 2)),
      arrow::field("big", arrow::decimal128(38, 4)),
      arrow::field("clock", arrow::time64(arrow::TimeUnit::MICRO)),
      arrow::field("raw", arrow::binary()),
      arrow::field("tags", arrow::list(arrow::field("element", arrow::utf8()))),
      arrow::field("point", arrow::struct_({arrow::field("x", arrow::int64()),
                                            arrow::field("label", arrow::utf8())})),
      arrow::field("ts_s", arrow::timestamp(arrow::TimeUnit::SECOND)),
      arrow::field("ts_ms", arrow::timestamp(arrow::TimeUnit::MILLI)),
      arrow::field("ts_ns", arrow::timestamp(arrow::TimeUnit::NANO)),
      arrow::field("ts_ns_utc", arrow::timestamp(arrow::TimeUnit::NANO, "UTC")),
      arrow::field("ts_ms_utc", arrow::timestamp(arrow::TimeUnit::MILLI, "UTC")),
      arrow::field("ts_paris", arrow::timestamp(arrow::TimeUnit::MICRO, "Europe/Paris")),
      arrow::field("lstr", arrow::large_utf8()),
      arrow::field("lbin", arrow::large_binary()),
      arrow::field("u8", arrow::uint8()),
      arrow::field("u32", arrow::uint32()),
      arrow::field("u64", arrow::uint64()),
      arrow::field("i8", arrow::int8()),
      arrow::field("i16", arrow::int16()),
      arrow::field("f32", arrow::float32()),
      arrow::field("d64", arrow::date64()),
      arrow::field("t32", arrow::time32(arrow::TimeUnit::MILLI)),
      arrow::field("nothing", arrow::null()),
      arrow::field("llist", arrow::large_list(arrow::int64())),
      arrow::field("itemlist", arrow::list(arrow::int64())),
      arrow::field("reqlist", arrow::list(arrow::field("element", arrow::int64(), false))),
      arrow::field("nested",
                   arrow::list(arrow::field(
                       "element",
                       arrow::struct_(
                           {arrow::field("a", arrow::list(arrow::utf8()), /*nullable=*/false),
                            arrow::field("b", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"))})))),
      arrow::field("dict", arrow::dictionary(arrow::int32(), arrow::utf8())),
      arrow::field("dec5", arrow::decimal128(5, 0)),
      arrow::field("fsb", arrow::fixed_size_binary(16)),
      arrow::field("t32s", arrow::time32(arrow::TimeUnit::SECOND)),
  });
}

TEST(IngestTaskTest, RecordedColumnsAreTheColumnsDuckDbReadsBackFromTheFiles) {
  lakepipe::testing::TempDir dir("ingest-task");
  ASSERT_OK_AND_ASSIGN(auto storage, storage::Storage::Make({}));
  ASSERT_OK_AND_ASSIGN(auto base, storage::Uri::Parse(dir.path().string()));
  const auto schema = IngestSchema();
  ASSERT_OK_AND_ASSIGN(auto batch, arrow::RecordBatch::MakeEmpty(schema));
  ASSERT_OK_AND_ASSIGN(auto writer, parquet::ParquetFileWriter::Open(
                                        *storage, base.Join("t-0000.parquet"), schema, {}));
  ASSERT_OK(writer->Write(*batch));
  ASSERT_OK_AND_ASSIGN(auto bytes, writer->Close());

  // What the flow recorded before the manifest's columns were used: DuckDB's reading.
  tablestore::TableRecord record;
  record.files.push_back({"t-0000.parquet", 0, bytes, writer->sha256(), {}});
  ASSERT_OK_AND_ASSIGN(auto db, duckdb::Database::Open({}));
  ASSERT_OK_AND_ASSIGN(auto reader, db->QueryArrow(tablestore::TableScanSql(base, record)));
  const auto read_back = parquet::ColumnsToJson(parquet::ColumnsOf(*reader->schema()));
  ASSERT_OK_AND_ASSIGN(auto probe, db->QueryArrow("SELECT NULL::TIMESTAMPTZ AS t"));
  const std::string timestamp_tz = probe->schema()->field(0)->type()->ToString();
  const auto recorded = RecordedColumns(parquet::ColumnsOf(*schema), timestamp_tz);
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->dump(1), read_back.dump(1));
}

TEST(IngestTaskTest, ColumnsOfTypesWhoseReadingIsNotKnownAreNotGuessed) {
  EXPECT_EQ(TypeAsDuckDbReadsIt("map<string, int64>", "tz"), std::nullopt);
  EXPECT_EQ(TypeAsDuckDbReadsIt("halffloat", "tz"), std::nullopt);
  EXPECT_EQ(TypeAsDuckDbReadsIt("list<item: halffloat>", "tz"), std::nullopt);
  EXPECT_EQ(TypeAsDuckDbReadsIt("struct<a: int64, b: map<string, int64>>", "tz"), std::nullopt);
  EXPECT_EQ(RecordedColumns({{"a", "int64", false}, {"b", "halffloat", true}}, "tz"),
            std::nullopt);
  EXPECT_EQ(TypeAsDuckDbReadsIt("struct<a: decimal128(10, 2), b: list<item: string not null>>",
                                "tz"),
            "struct<a: decimal128(10, 2), b: list<l: string>>");
}

TEST(IngestTaskTest, ACopiedFilesChecksumIsTheOneRecordedBefore) {
  ASSERT_OK_AND_ASSIGN(auto source,
                       storage::Uri::Parse("s3://lake/raw/sample/orders/orders_0007.parquet"));
  EXPECT_EQ(CopiedFileChecksum(source, 3400),
            "7f56ecbdadf8747eb491c7ed8af2cf986ba013348ebe2e9d6a2a9829dbec7f67");
}

TEST(IngestTaskTest, CacheKeyPartsAreTheOnesKeyedBeforeTheTaskInterface) {
  const std::string yaml = R"yaml(name: f
table_store: { base: ./lake }
stages:
  - name: raw
    tasks:
      - name: things
        ingest: { pipeline: orders, stream: things }
)yaml";
  ASSERT_OK_AND_ASSIGN(auto config, ParseFlowYaml(yaml, "f.yaml", "/flows"));
  const auto& task = config.stages.at(0).tasks.at(0);
  ASSERT_OK_AND_ASSIGN(auto bucket, storage::Uri::Parse("s3://bucket"));
  IngestedTable ingested(bucket, {});
  ingested.entry.source = "sample";
  ingested.entry.table = "things";
  ingested.entry.files = {{"raw/sample/things/things_0000.parquet", 10, 1234, "", {}},
                          {"raw/sample/things/things_0001.parquet", 5, 999, "", {}}};
  TaskContext context;
  context.flow = &config;
  context.prepared = &ingested;
  ASSERT_OK_AND_ASSIGN(auto key, TaskCacheKey(task, context, [](const tablestore::TableRef&) {
                         return arrow::Result<std::string>("");
                       }));
  // The key's JSON as the runner built it for ingest tasks before kinds had their own file.
  nlohmann::json before = {{"task", "things"},
                           {"version", TaskVersionCacheValue("0")},
                           {"kind", "ingest"},
                           {"not_null", task.table.not_null},
                           {"sort_by", task.table.sort_by},
                           {"partition_by", task.table.partition_by},
                           {"compression", task.table.parquet.compression},
                           {"compression_level", task.table.parquet.compression_level},
                           {"row_group_rows", task.table.parquet.row_group_rows},
                           {"file_size_bytes", task.table.file_size_bytes}};
  before["ingest"] = {{"pipeline", "orders"}, {"stream", "things"}};
  before["files"] = nlohmann::json::array(
      {nlohmann::json::array({"s3://bucket/raw/sample/things/things_0000.parquet", 1234}),
       nlohmann::json::array({"s3://bucket/raw/sample/things/things_0001.parquet", 999})});
  before["inputs"] = nlohmann::json::object();
  common::Sha256 hash;
  hash.Update(before.dump());
  EXPECT_EQ(key, hash.Base32Digest());
  EXPECT_EQ(key, "oxshdjoam5zfrpodff7dd4zv2r5hzwnhnerpul2lnwqnuj3kkxea");
}

}  // namespace
}  // namespace lakepipe::flow
