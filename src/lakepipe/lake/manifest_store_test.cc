#include "lakepipe/lake/manifest_store.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "lakepipe/storage/runtime.h"

namespace lakepipe::lake {
namespace {

class ManifestStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(storage::ArrowRuntime::Initialize().ok());
    dir_ = std::filesystem::temp_directory_path() /
           ("lakepipe-manifest-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage_ = storage::Storage::Make(storage::StorageOptions{}).ValueOrDie();
    layout_ = std::make_unique<BucketLayout>(storage::Uri::Parse(dir_.string()).ValueOrDie());
    store_ = std::make_unique<ManifestStore>(storage_.get(), *layout_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

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
    EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
    return (*manifest)["tables"][key]["stats"]["extractions"].get<int64_t>();
  }

  // What DataSpoc Pipe does to manifest.json after a run: one more extraction.
  void RunDataSpocOn(const std::string& key) {
    auto manifest = store_->LoadManifest().ValueOrDie();
    manifest["tables"][key]["stats"]["extractions"] =
        manifest["tables"][key]["stats"]["extractions"].get<int64_t>() + 1;
    ASSERT_TRUE(storage_->WriteAll(layout_->ManifestUri(), manifest.dump()).ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<BucketLayout> layout_;
  std::unique_ptr<ManifestStore> store_;
};

TEST_F(ManifestStoreTest, AnEntryDataSpocAdvancedStaysUntilItsPipelineRunsAgain) {
  ASSERT_TRUE(store_->SaveTable(Entry("things", 2)).ok());
  ASSERT_TRUE(store_->Publish().ok());
  RunDataSpocOn("sample/things");
  // Another pipeline of ours publishes: DataSpoc's count of the table is not lost.
  ASSERT_TRUE(store_->SaveTable(Entry("other", 1)).ok());
  ASSERT_TRUE(store_->Publish().ok());
  EXPECT_EQ(PublishedExtractions("sample/things"), 3);
  EXPECT_EQ(PublishedExtractions("sample/other"), 1);
  // The table's own next run (which counted DataSpoc's run) replaces it.
  ASSERT_TRUE(store_->SaveTable(Entry("things", 4)).ok());
  ASSERT_TRUE(store_->Publish().ok());
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
  ASSERT_TRUE(storage_->WriteAll(layout_->ManifestUri(), manifest.dump()).ok());
  auto entry = store_->LoadManifestEntry("sample", "things");
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  ASSERT_TRUE(entry->has_value());
  EXPECT_EQ((*entry)->total_rows, 15000);
  EXPECT_EQ((*entry)->extractions, 1);
  EXPECT_TRUE((*entry)->files.empty());
  auto missing = store_->LoadManifestEntry("sample", "nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

}  // namespace
}  // namespace lakepipe::lake
