#include "lakepipe/lake/manifest_store.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "lakepipe/storage/runtime.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::lake {
namespace {

class ManifestStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(storage::ArrowRuntime::Initialize());
    storage_ = storage::Storage::Make(storage::StorageOptions{}).ValueOrDie();
    layout_ = std::make_unique<BucketLayout>(storage::Uri::Parse(dir_.string()).ValueOrDie());
    store_ = std::make_unique<ManifestStore>(storage_.get(), *layout_);
  }

  static TableEntry Entry(const std::string& table, int64_t extractions) {
    TableEntry entry;
    entry.source = "sample";
    entry.table = table;
    entry.location = "raw/sample/" + table;
    entry.extractions = extractions;
    return entry;
  }

  int64_t PublishedExtractions(const std::string& key) {
    auto manifest = store_->LoadManifest();
    EXPECT_OK(manifest);
    return (*manifest)["tables"][key]["stats"]["extractions"].get<int64_t>();
  }

  // What DataSpoc Pipe does to manifest.json after a run: one more extraction.
  void RunDataSpocOn(const std::string& key) {
    auto manifest = store_->LoadManifest().ValueOrDie();
    manifest["tables"][key]["stats"]["extractions"] =
        manifest["tables"][key]["stats"]["extractions"].get<int64_t>() + 1;
    ASSERT_OK(storage_->WriteAll(layout_->ManifestUri(), manifest.dump()));
  }

  lakepipe::testing::TempDir temp_{"manifest"};
  const std::filesystem::path dir_ = temp_.path();
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<BucketLayout> layout_;
  std::unique_ptr<ManifestStore> store_;
};

TEST_F(ManifestStoreTest, AnEntryDataSpocAdvancedStaysUntilItsPipelineRunsAgain) {
  ASSERT_OK(store_->SaveTable(Entry("things", 2)));
  ASSERT_OK(store_->Publish());
  RunDataSpocOn("sample/things");
  // Another pipeline of ours publishes: DataSpoc's count of the table is not lost.
  ASSERT_OK(store_->SaveTable(Entry("other", 1)));
  ASSERT_OK(store_->Publish());
  EXPECT_EQ(PublishedExtractions("sample/things"), 3);
  EXPECT_EQ(PublishedExtractions("sample/other"), 1);
  // The table's own next run (which counted DataSpoc's run) replaces it.
  ASSERT_OK(store_->SaveTable(Entry("things", 4)));
  ASSERT_OK(store_->Publish());
  EXPECT_EQ(PublishedExtractions("sample/things"), 4);
}

TEST_F(ManifestStoreTest, LoadManifestEntryReadsWhatDataSpocWrote) {
  const nlohmann::json manifest = {
      {"version", "1.0"},
      {"tables",
       {{"sample/things",
         {{"source", "sample"},
          {"table", "things"},
          {"stats", {{"total_rows", 15000}, {"extractions", 1}}},
          {"columns", {{{"name", "id"}, {"type", "int64"}, {"nullable", false}}}}}}}}};
  ASSERT_OK(storage_->WriteAll(layout_->ManifestUri(), manifest.dump()));
  auto entry = store_->LoadManifestEntry("sample", "things");
  ASSERT_OK(entry);
  ASSERT_TRUE(entry->has_value());
  EXPECT_EQ((*entry)->total_rows, 15000);
  EXPECT_EQ((*entry)->extractions, 1);
  EXPECT_TRUE((*entry)->files.empty());
  auto missing = store_->LoadManifestEntry("sample", "nothing");
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
}

// An entry file as lakepipe has written it since file columns were added (keys sorted,
// two-space indent), an evolved file with its own columns and one without.
constexpr std::string_view kWrittenEntry = R"({
  "columns": [
    {
      "name": "id",
      "nullable": false,
      "type": "int64"
    },
    {
      "name": "amount",
      "nullable": true,
      "type": "double"
    }
  ],
  "files": [
    {
      "bytes": 610,
      "columns": [
        {
          "name": "id",
          "nullable": false,
          "type": "int64"
        }
      ],
      "path": "raw/sample/orders/dt=2026-11-29/orders_0000.parquet",
      "rows": 2
    },
    {
      "bytes": 702,
      "path": "raw/sample/orders/dt=2026-11-30/orders_0001.parquet",
      "rows": 3
    }
  ],
  "key_properties": [
    "id"
  ],
  "location": "raw/sample/orders",
  "mode": "incremental",
  "next_file_number": 2,
  "pipeline": "sample",
  "replication_key": "id",
  "source": "sample",
  "stats": {
    "extractions": 2,
    "last_extraction": "2026-11-30T10:00:00Z",
    "last_extraction_rows": 3,
    "total_rows": 5
  },
  "table": "orders"
})";

TEST_F(ManifestStoreTest, AnEntryAndManifestWrittenBeforeRoundTripByteForByte) {
  const auto entry_uri = layout_->TableEntryUri("sample", "orders");
  ASSERT_OK(storage_->WriteAll(entry_uri, std::string(kWrittenEntry)));
  const nlohmann::json manifest = {
      {"version", "1.0"},
      {"updated_at", "2026-11-30T10:00:01Z"},
      {"tables", {{"sample/orders", nlohmann::json::parse(kWrittenEntry)}}}};
  ASSERT_OK(storage_->WriteAll(layout_->ManifestUri(), manifest.dump(2)));

  ASSERT_OK_AND_ASSIGN(auto entry, store_->LoadTable("sample", "orders"));
  ASSERT_TRUE(entry.has_value());
  ASSERT_OK(store_->SaveTable(*entry));
  ASSERT_OK(store_->Publish());  // nothing changed: manifest.json is not rewritten

  ASSERT_OK_AND_ASSIGN(auto saved, storage_->ReadAll(entry_uri));
  EXPECT_EQ(saved->ToString(), kWrittenEntry);
  ASSERT_OK_AND_ASSIGN(auto published, storage_->ReadAll(layout_->ManifestUri()));
  EXPECT_EQ(published->ToString(), manifest.dump(2));
}

}  // namespace
}  // namespace lakepipe::lake
