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

}  // namespace
}  // namespace lakepipe::lake
