#include "lakepipe/tablestore/table_store.h"

#include <algorithm>
#include <filesystem>

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::tablestore {
namespace {

namespace fs = std::filesystem;

class TableStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TableStoreOptions options;
    options.base = (dir_ / "lake").string();
    options.instance = "dev";
    options.catalog_path = (dir_ / "shop.duckdb").string();
    options.flow = "shop";
    store_ = TableStore::Open(options, storage::StorageOptions{}).ValueOrDie();
  }

  /// Files under `relative` (inside the lake), as paths relative to it, sorted.
  std::vector<std::string> FilesUnder(const std::string& relative) {
    std::vector<std::string> out;
    const fs::path root = dir_ / "lake" / relative;
    if (!fs::exists(root)) return out;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.is_regular_file()) out.push_back(fs::relative(entry.path(), root).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::shared_ptr<arrow::Table> Ids(const std::string& json) {
    auto schema =
        arrow::schema({arrow::field("id", arrow::int64()), arrow::field("tag", arrow::utf8())});
    auto batch =
        arrow::RecordBatch::FromStructArray(
            arrow::json::ArrayFromJSONString(arrow::struct_(schema->fields()), json).ValueOrDie())
            .ValueOrDie();
    return arrow::Table::FromRecordBatches({batch}).ValueOrDie();
  }

  /// Commits `data` as raw.items in a new transaction; returns the slot.
  std::string CommitItems(const std::shared_ptr<arrow::Table>& data,
                          const TableOptions& options = {}) {
    auto locks = store_->Lock({"raw"}).ValueOrDie();
    auto tx = store_->BeginStage("raw", "run", locks.get()).ValueOrDie();
    auto written = tx->WriteTable("items", *data, options);
    EXPECT_OK(written);
    auto status = tx->Commit();
    EXPECT_OK(status);
    return tx->slot();
  }

  std::string CatalogQuery(const std::string& sql) {
    auto db = duckdb::Database::Open({(dir_ / "shop.duckdb").string(), true, ""}).ValueOrDie();
    auto result = db->QueryText(sql).ValueOrDie();
    std::string out;
    for (const auto& row : result.rows) {
      for (const auto& value : row) out += value.value_or("NULL") + ",";
      out += ";";
    }
    return out;
  }

  lakepipe::testing::TempDir temp_{"tablestore"};
  const fs::path dir_ = temp_.path();
  std::unique_ptr<TableStore> store_;
};

TEST_F(TableStoreTest, CommitsAlternateSlotsAndTheCatalogFollows) {
  EXPECT_EQ(CommitItems(Ids(R"([{"id": 1, "tag": "a"}])")), "odd");
  EXPECT_EQ(CatalogQuery("SELECT id, tag FROM raw.items"), "1,a,;");
  EXPECT_EQ(CommitItems(Ids(R"([{"id": 2, "tag": "b"}, {"id": 3, "tag": null}])")), "even");
  EXPECT_EQ(CatalogQuery("SELECT id, tag FROM raw.items ORDER BY id"), "2,b,;3,NULL,;");
  EXPECT_EQ(CatalogQuery("SELECT committed_slot FROM lakepipe.stages"), "even,;");
  // The previous slot's files stay until the next transaction begins on it (and longer:
  // see ReplacedFilesStayForTheGracePeriod). Files live under the flow's own folder.
  const auto odd = FilesUnder("dev/shop/raw__odd/items");
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_TRUE(odd[0].starts_with("part-") && odd[0].ends_with("-0000.parquet")) << odd[0];
}

TEST_F(TableStoreTest, ReplacedFilesStayForTheGracePeriod) {
  CommitItems(Ids(R"([{"id": 1, "tag": "a"}])"));  // odd
  const auto first = FilesUnder("dev/shop/raw__odd");
  CommitItems(Ids(R"([{"id": 2, "tag": "b"}])"));  // even: odd's files are the old generation
  CommitItems(Ids(R"([{"id": 3, "tag": "c"}])"));  // odd again, within the grace period
  EXPECT_EQ(CatalogQuery("SELECT id FROM raw.items"), "3,;");
  // A connection opened at the first generation still finds its files, and a marker says
  // when they were replaced.
  auto now = FilesUnder("dev/shop/raw__odd");
  for (const auto& file : first) {
    EXPECT_NE(std::find(now.begin(), now.end(), file), now.end()) << file;
  }
  ASSERT_EQ(std::count_if(now.begin(), now.end(),
                          [](const std::string& f) { return f.starts_with("_replaced-"); }),
            1);
  ASSERT_EQ(now.size(), first.size() + 2) << "old file, marker, new file";
  // gc keeps them too while the grace lasts.
  EXPECT_EQ(store_->CollectGarbage({"raw"}, false).ValueOrDie(), std::vector<std::string>{});

  // With no grace, gc removes the replaced files and their marker.
  TableStoreOptions options = store_->options();
  options.keep_replaced_for = std::chrono::seconds(0);
  auto no_grace = TableStore::Open(options, storage::StorageOptions{}).ValueOrDie();
  const size_t even = FilesUnder("dev/shop/raw__even").size();
  auto removed = no_grace->CollectGarbage({"raw"}, false).ValueOrDie();
  EXPECT_EQ(removed.size(), first.size() + 1 + even) << ::testing::PrintToString(removed);
  EXPECT_EQ(FilesUnder("dev/shop/raw__odd").size(), 1u);
  EXPECT_EQ(FilesUnder("dev/shop/raw__even").size(), 0u);
  EXPECT_EQ(CatalogQuery("SELECT id FROM raw.items"), "3,;");
}

TEST_F(TableStoreTest, FlowsSharingABaseAndInstanceNeverTouchEachOther) {
  CommitItems(Ids(R"([{"id": 1, "tag": "shop"}])"));
  TableStoreOptions options = store_->options();
  options.flow = "other";
  options.catalog_path = (dir_ / "other.duckdb").string();
  options.keep_replaced_for = std::chrono::seconds(0);
  auto other = TableStore::Open(options, storage::StorageOptions{}).ValueOrDie();
  {
    auto locks = other->Lock({"raw"}).ValueOrDie();
    auto tx = other->BeginStage("raw", "run", locks.get()).ValueOrDie();
    ASSERT_OK(tx->WriteTable("items", *Ids(R"([{"id": 2, "tag": "other"}])"), {}));
    ASSERT_OK(tx->Commit());
  }
  EXPECT_EQ(CatalogQuery("SELECT id, tag FROM raw.items"), "1,shop,;");
  EXPECT_EQ(other->ReadTable({"raw", "items"}).ValueOrDie()->ToTable().ValueOrDie()->num_rows(),
            1);
  // The other flow's gc looks at its own folder only.
  EXPECT_EQ(other->CollectGarbage({"raw"}, false).ValueOrDie(), std::vector<std::string>{});
  EXPECT_EQ(FilesUnder("dev/shop/raw__odd/items").size(), 1u);
  EXPECT_EQ(FilesUnder("dev/other/raw__odd/items").size(), 1u);
}

TEST_F(TableStoreTest, AnUncommittedTransactionLeavesTheCommittedSlotLive) {
  CommitItems(Ids(R"([{"id": 1, "tag": "a"}])"));
  std::string stem;
  {
    auto locks = store_->Lock({"raw"}).ValueOrDie();
    auto tx = store_->BeginStage("raw", "run2", locks.get()).ValueOrDie();
    ASSERT_OK(tx->WriteTable("items", *Ids(R"([{"id": 9, "tag": "z"}])"), {}));
    stem = tx->file_stem();
  }  // dropped without Commit()
  EXPECT_EQ(CatalogQuery("SELECT id FROM raw.items"), "1,;");
  auto reader = store_->ReadTable({"raw", "items"}).ValueOrDie();
  auto table = reader->ToTable().ValueOrDie();
  EXPECT_EQ(table->num_rows(), 1);
  // gc removes what the abandoned transaction wrote, and only that.
  auto removed = store_->CollectGarbage({"raw"}, false).ValueOrDie();
  EXPECT_EQ(removed, std::vector<std::string>{"dev/shop/raw__even/items/" + stem + "-0000.parquet"});
  EXPECT_EQ(CatalogQuery("SELECT id FROM raw.items"), "1,;");
}

TEST_F(TableStoreTest, NotNullColumnsAreCheckedAndWrittenAsRequired) {
  TableOptions options;
  options.not_null = {"tag"};
  auto locks = store_->Lock({"raw"}).ValueOrDie();
  auto tx = store_->BeginStage("raw", "run", locks.get()).ValueOrDie();
  auto bad =
      tx->WriteTable("items", *Ids(R"([{"id": 1, "tag": "a"}, {"id": 2, "tag": null}])"), options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "column 'tag' is not_null but row 2 is NULL");
  auto good = tx->WriteTable("items", *Ids(R"([{"id": 1, "tag": "a"}])"), options).ValueOrDie();
  std::unique_ptr<::parquet::arrow::FileReader> reader;
  auto file =
      arrow::io::ReadableFile::Open((dir_ / "lake" / good.files[0].path).string()).ValueOrDie();
  reader = ::parquet::arrow::OpenFile(file, arrow::default_memory_pool()).ValueOrDie();
  std::shared_ptr<arrow::Schema> schema;
  ASSERT_OK(reader->GetSchema(&schema));
  EXPECT_FALSE(schema->GetFieldByName("tag")->nullable());
  EXPECT_TRUE(schema->GetFieldByName("id")->nullable());
}

TEST_F(TableStoreTest, PartitionedTablesUseHiveFoldersAndReadBack) {
  TableOptions options;
  options.partition_by = {"tag"};
  CommitItems(Ids(R"([{"id": 1, "tag": "a/b"}, {"id": 2, "tag": "c"}, {"id": 3, "tag": null}])"),
              options);
  const auto files = FilesUnder("dev/shop/raw__odd/items");
  ASSERT_EQ(files.size(), 3u);
  EXPECT_TRUE(files[0].starts_with("tag=__HIVE_DEFAULT_PARTITION__/part-")) << files[0];
  EXPECT_TRUE(files[1].starts_with("tag=a%2Fb/part-")) << files[1];
  EXPECT_TRUE(files[2].starts_with("tag=c/part-")) << files[2];
  EXPECT_EQ(CatalogQuery("SELECT id, tag FROM raw.items ORDER BY id"), "1,a/b,;2,c,;3,NULL,;");
}

TEST_F(TableStoreTest, PartitionedTablesReadBackWithTheirColumnsInOrderEmptyOrNot) {
  TableOptions options;
  options.partition_by = {"id"};  // the first column, an int64
  for (const std::string rows : {R"([{"id": 7, "tag": "a"}, {"id": 8, "tag": "b"}])", "[]"}) {
    CommitItems(Ids(rows), options);
    auto reader = store_->ReadTable({"raw", "items"});
    ASSERT_OK(reader);
    EXPECT_EQ((*reader)->schema()->ToString(), "id: int64\ntag: string") << rows;
    auto table = (*reader)->ToTable().ValueOrDie();
    EXPECT_EQ(table->num_rows(), rows == "[]" ? 0 : 2);
    EXPECT_EQ(CatalogQuery("SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_schema = 'raw' AND table_name = 'items' "
                           "ORDER BY ordinal_position"),
              "id,BIGINT,;tag,VARCHAR,;")
        << rows;
  }
}

TEST_F(TableStoreTest, AnEmptyTableStillHasAFileWithItsColumns) {
  CommitItems(Ids("[]"));
  EXPECT_EQ(CatalogQuery("SELECT count(*), max(id) FROM raw.items"), "0,NULL,;");
}

TEST_F(TableStoreTest, CacheHitCopiesTheCommittedFilesIntoTheNewSlot) {
  CommitItems(Ids(R"([{"id": 1, "tag": "a"}])"));
  auto locks = store_->Lock({"raw"}).ValueOrDie();
  auto tx = store_->BeginStage("raw", "run2", locks.get()).ValueOrDie();
  auto copied = tx->CopyCommitted("items").ValueOrDie();
  ASSERT_EQ(copied.files.size(), 1u);
  EXPECT_EQ(copied.files[0].path, "dev/shop/raw__even/items/" + tx->file_stem() + "-0000.parquet");
  EXPECT_EQ(copied.slot, "even");
  ASSERT_OK(tx->Commit());
  EXPECT_EQ(CatalogQuery("SELECT id FROM raw.items"), "1,;");
  const auto snapshot = store_->Load().ValueOrDie();
  EXPECT_EQ(snapshot.FindTable("raw", "even", "items")->content_hash,
            snapshot.FindTable("raw", "odd", "items")->content_hash);
}

TEST_F(TableStoreTest, SqlReadsCommittedStagesAndTablesOfItsOwnStage) {
  CommitItems(Ids(R"([{"id": 1, "tag": "a"}, {"id": 2, "tag": "b"}])"));
  auto locks = store_->Lock({"model"}).ValueOrDie();
  auto tx = store_->BeginStage("model", "run", locks.get()).ValueOrDie();
  TableOptions sorted;
  sorted.sort_by = {"id"};
  ASSERT_OK(tx->WriteSql("doubled", "SELECT id * 2 AS id FROM raw.items", {{"raw", "items"}}, sorted));
  auto sum =
      tx->WriteSql("total", "SELECT sum(id) AS s FROM model.doubled", {{"model", "doubled"}}, {});
  ASSERT_OK(sum);
  EXPECT_EQ(sum->rows, 1);
  auto missing = tx->WriteSql("x", "SELECT * FROM model.nope", {{"model", "nope"}}, {});
  EXPECT_EQ(missing.status().message(), "table 'model.nope' is not written yet in this stage");
  ASSERT_OK(tx->Commit());
  EXPECT_EQ(CatalogQuery("SELECT s FROM model.total"), "6,;");
}

TEST_F(TableStoreTest, ACommitWhoseCatalogCannotBeBuiltCommitsNoMetadata) {
  CommitItems(Ids(R"([{"id": 1, "tag": "a"}])"));
  {
    // Two tables whose names differ only in case: DuckDB's identifiers do not, so the
    // second view cannot be created.
    auto locks = store_->Lock({"raw"}).ValueOrDie();
    auto tx = store_->BeginStage("raw", "run2", locks.get()).ValueOrDie();
    ASSERT_OK(tx->WriteTable("dfA", *Ids(R"([{"id": 2, "tag": "b"}])"), {}));
    ASSERT_OK(tx->WriteTable("DFA", *Ids(R"([{"id": 3, "tag": "c"}])"), {}));
    auto status = tx->Commit();
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.message().find("building catalog '" + (dir_ / "shop.duckdb").string()),
              std::string::npos)
        << status.ToString();
  }
  // The stage's committed slot stays as it was, in the metadata and in the catalog.
  const auto snapshot = store_->Load().ValueOrDie();
  ASSERT_EQ(snapshot.stages.size(), 1u);
  EXPECT_EQ(snapshot.stages[0].committed_slot, "odd");
  EXPECT_EQ(snapshot.stages[0].run_id, "run");
  EXPECT_TRUE(snapshot.TablesIn("raw", "even").empty());
  EXPECT_EQ(CatalogQuery("SELECT id FROM raw.items"), "1,;");
  EXPECT_EQ(CatalogQuery("SELECT stage, committed_slot, run_id FROM lakepipe.stages"),
            "raw,odd,run,;");
  // No temp copy is left, and the store goes on.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find("shop.duckdb.tmp-"), std::string::npos);
  }
  EXPECT_EQ(CommitItems(Ids(R"([{"id": 4, "tag": "d"}])")), "even");
  EXPECT_EQ(CatalogQuery("SELECT id FROM raw.items"), "4,;");
}

TEST_F(TableStoreTest, TheCatalogRecordsItsFlowAndRefusesAnother) {
  CommitItems(Ids(R"([{"id": 1, "tag": "a"}])"));
  EXPECT_EQ(CatalogQuery("SELECT flow, instance FROM lakepipe.catalog_owner"), "shop,dev,;");
  TableStoreOptions other;
  other.base = (dir_ / "lake").string();
  other.instance = "dev";
  other.catalog_path = (dir_ / "shop.duckdb").string();
  other.flow = "billing";
  auto store = TableStore::Open(other, storage::StorageOptions{}).ValueOrDie();
  for (auto status : {store->PublishCatalogIfStale(), store->PublishCatalog()}) {
    ASSERT_TRUE(status.IsInvalid()) << status.ToString();
    EXPECT_NE(status.message().find("catalog '" + (dir_ / "shop.duckdb").string() +
                                    "' belongs to flow 'shop' (instance 'dev'), not to flow "
                                    "'billing' (instance 'dev')"),
              std::string::npos)
        << status.ToString();
  }
  EXPECT_EQ(CatalogQuery("SELECT stage, committed_slot FROM lakepipe.stages"), "raw,odd,;");
}

TEST(HivePartitionSegmentTest, EscapesPathCharacters) {
  EXPECT_EQ(HivePartitionSegment("dt", std::string("2024-01-31")), "dt=2024-01-31");
  EXPECT_EQ(HivePartitionSegment("k", std::string("a=b:c%")), "k=a%3Db%3Ac%25");
  EXPECT_EQ(HivePartitionSegment("k", std::nullopt), "k=__HIVE_DEFAULT_PARTITION__");
}

}  // namespace
}  // namespace lakepipe::tablestore
