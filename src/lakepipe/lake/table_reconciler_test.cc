#include "lakepipe/lake/table_reconciler.h"

#include <unistd.h>

#include <filesystem>
#include <map>

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>
#include <nlohmann/json.hpp>

#include "lakepipe/storage/runtime.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::lake {
namespace {

using parquet::Column;

const std::string kLocation = "raw/sample/things";
const Column kId{"id", "int64", false};
const Column kName{"name", "string", true};

// Footers by path; records which footers were read.
class FakeFooters {
 public:
  void Set(const std::string& path, int64_t rows, std::vector<Column> columns = {kId, kName}) {
    footers_[path] = {rows, std::move(columns)};
  }
  FooterReader Reader() {
    return [this](const FolderFile& file) -> arrow::Result<FileFooter> {
      read_.push_back(file.path);
      auto it = footers_.find(file.path);
      if (it == footers_.end()) return arrow::Status::IOError("no footer: ", file.path);
      return it->second;
    };
  }
  const std::vector<std::string>& read() const { return read_; }

 private:
  std::map<std::string, FileFooter> footers_;
  std::vector<std::string> read_;
};

std::vector<std::string> PathsOf(const TableEntry& entry) {
  std::vector<std::string> paths;
  for (const auto& f : entry.files) paths.push_back(f.path);
  return paths;
}

TEST(ReconcileFilesTest, AnAdoptedEntryTakesEveryFolderFileWithItsFooterRows) {
  // DataSpoc's manifest entry: stats and columns, no files.
  TableEntry entry;
  entry.total_rows = 15000;
  entry.extractions = 1;
  entry.columns = {kId, kName};
  FakeFooters footers;
  footers.Set(kLocation + "/dt=2026-12-01/things_0000.parquet", 10000);
  footers.Set(kLocation + "/dt=2026-12-01/things_0001.parquet", 5000);
  const std::vector<FolderFile> folder = {{kLocation + "/dt=2026-12-01/things_0000.parquet", 900},
                                          {kLocation + "/dt=2026-12-01/things_0001.parquet", 500}};
  ASSERT_OK(ReconcileFiles(&entry, kLocation, folder, footers.Reader()));
  EXPECT_EQ(PathsOf(entry), (std::vector<std::string>{folder[0].path, folder[1].path}));
  EXPECT_EQ(entry.files[0].rows, 10000);
  EXPECT_EQ(entry.files[1].bytes, 500);
  EXPECT_EQ(entry.total_rows, 15000);
  EXPECT_EQ(entry.extractions, 1);
  EXPECT_EQ(entry.columns, (std::vector<Column>{kId, kName}));
  EXPECT_TRUE(entry.files[0].columns.empty());  // same as the table's
}

TEST(ReconcileFilesTest, FilesAnotherWriterAddedAreCountedAndGoneOnesDropped) {
  TableEntry entry;
  entry.columns = {kId, kName};
  entry.files = {{kLocation + "/dt=2026-12-01/things_0002.parquet", 2000, 200, "", {}},
                 {kLocation + "/dt=2026-12-01/things_0003.parquet", 7, 70, "", {}}};
  FakeFooters footers;
  footers.Set(kLocation + "/dt=2026-12-02/things_0000.parquet", 3000);
  const std::vector<FolderFile> folder = {{kLocation + "/dt=2026-12-01/things_0002.parquet", 200},
                                          {kLocation + "/dt=2026-12-02/things_0000.parquet", 300}};
  ASSERT_OK(ReconcileFiles(&entry, kLocation, folder, footers.Reader()));
  EXPECT_EQ(PathsOf(entry), (std::vector<std::string>{folder[0].path, folder[1].path}));
  EXPECT_EQ(entry.total_rows, 5000);
  // Only the new file's footer was read: a listed file of unchanged size is trusted.
  EXPECT_EQ(footers.read(), (std::vector<std::string>{folder[1].path}));
}

TEST(ReconcileFilesTest, AListedFileWhoseSizeChangedIsReadAgain) {
  TableEntry entry;
  entry.columns = {kId, kName};
  entry.files = {{kLocation + "/dt=2026-12-01/things_0000.parquet", 10000, 900, "", {}}};
  FakeFooters footers;
  footers.Set(kLocation + "/dt=2026-12-01/things_0000.parquet", 3000);
  const std::vector<FolderFile> folder = {{kLocation + "/dt=2026-12-01/things_0000.parquet", 310}};
  ASSERT_OK(ReconcileFiles(&entry, kLocation, folder, footers.Reader()));
  ASSERT_EQ(entry.files.size(), 1u);
  EXPECT_EQ(entry.files[0].rows, 3000);
  EXPECT_EQ(entry.files[0].bytes, 310);
  EXPECT_EQ(entry.total_rows, 3000);
}

TEST(ReconcileFilesTest, AddedFilesWithOtherColumnsMakeTheUnion) {
  TableEntry entry;
  entry.columns = {kId, kName};
  entry.files = {{kLocation + "/things_0000.parquet", 1, 10, "", {}}};
  FakeFooters footers;
  const Column amount{"amount", "double", true};
  footers.Set(kLocation + "/things_0001.parquet", 2, {kId, amount});
  const std::vector<FolderFile> folder = {{kLocation + "/things_0000.parquet", 10},
                                          {kLocation + "/things_0001.parquet", 20}};
  ASSERT_OK(ReconcileFiles(&entry, kLocation, folder, footers.Reader()));
  EXPECT_EQ(entry.columns, (std::vector<Column>{kId, kName, amount}));
  EXPECT_EQ(entry.files[0].columns, (std::vector<Column>{kId, kName}));
  EXPECT_EQ(entry.files[1].columns, (std::vector<Column>{kId, amount}));
}

TEST(ReconcileFilesTest, ListedFilesOutsideTheTableLayoutAreKept) {
  TableEntry entry;
  entry.columns = {kId};
  entry.files = {{"raw/elsewhere/things/things_0000.parquet", 4, 40, "", {}},
                 {kLocation + "/deeper/x/things_0001.parquet", 5, 50, "", {}}};
  FakeFooters footers;
  ASSERT_OK(ReconcileFiles(&entry, kLocation, {}, footers.Reader()));
  EXPECT_EQ(entry.files.size(), 2u);
  EXPECT_EQ(entry.total_rows, 9);
  EXPECT_TRUE(footers.read().empty());
}

TEST(ReconcileFilesTest, AnUnreadableFooterFailsNamingTheFile) {
  TableEntry entry;
  FakeFooters footers;
  const std::vector<FolderFile> folder = {{kLocation + "/things_0000.parquet", 10}};
  auto status = ReconcileFiles(&entry, kLocation, folder, footers.Reader());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("things_0000.parquet"), std::string::npos);
}

TEST(MergeExtractionsTest, RunsOfAnotherWriterInManifestJsonCount) {
  TableEntry entry;
  entry.extractions = 2;
  TableEntry in_manifest;
  in_manifest.extractions = 3;  // DataSpoc ran once since
  MergeExtractions(&entry, in_manifest);
  EXPECT_EQ(entry.extractions, 3);
  in_manifest.extractions = 1;
  MergeExtractions(&entry, in_manifest);
  EXPECT_EQ(entry.extractions, 3);
}

// On a local bucket: DataSpoc's manifest entry and files, read back as a run would.
class LoadReconciledTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(storage::ArrowRuntime::Initialize());
    storage_ = storage::Storage::Make(storage::StorageOptions{}).ValueOrDie();
    layout_ = std::make_unique<BucketLayout>(storage::Uri::Parse(dir_.string()).ValueOrDie());
    manifest_ = std::make_unique<ManifestStore>(storage_.get(), *layout_);
  }

  void WriteParquet(const std::string& relative, int64_t rows) {
    arrow::Int64Builder ids;
    for (int64_t i = 0; i < rows; ++i) ASSERT_OK(ids.Append(i));
    auto table = arrow::Table::Make(arrow::schema({arrow::field("id", arrow::int64(), false)}),
                                    {ids.Finish().ValueOrDie()});
    const auto path = dir_ / relative;
    std::filesystem::create_directories(path.parent_path());
    auto out = arrow::io::FileOutputStream::Open(path.string()).ValueOrDie();
    ASSERT_OK(::parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, 1024));
    ASSERT_OK(out->Close());
  }

  void WriteManifest(const nlohmann::json& tables) {
    ASSERT_OK(storage_
                    ->WriteAll(layout_->ManifestUri(),
                               nlohmann::json{{"version", "1.0"}, {"tables", tables}}.dump()));
  }

  arrow::Result<std::optional<TableEntry>> Load() {
    return LoadReconciledTable(storage_.get(), manifest_.get(), *layout_, "sample", "things",
                               kLocation);
  }

  lakepipe::testing::TempDir temp_{"reconcile"};
  const std::filesystem::path dir_ = temp_.path();
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<BucketLayout> layout_;
  std::unique_ptr<ManifestStore> manifest_;
};

TEST_F(LoadReconciledTableTest, DataSpocsEntryIsAdoptedWithItsFolderFiles) {
  WriteManifest({{"sample/things",
                  {{"source", "sample"},
                   {"table", "things"},
                   {"stats", {{"total_rows", 15}, {"extractions", 2}}},
                   {"columns", {{{"name", "id"}, {"type", "int64"}, {"nullable", false}}}}}}});
  WriteParquet(kLocation + "/dt=2026-12-01/things_0000.parquet", 10);
  WriteParquet(kLocation + "/dt=2026-12-01/things_0001.parquet", 5);
  // Not the table's layout: another tool's, never counted.
  WriteParquet(kLocation + "/dt=2026-12-01/deeper/things_0009.parquet", 7);
  auto loaded = Load();
  ASSERT_OK(loaded);
  const auto& entry = *loaded;
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->location, kLocation);
  EXPECT_EQ(entry->extractions, 2);
  EXPECT_EQ(entry->total_rows, 15);
  ASSERT_EQ(entry->files.size(), 2u);
  EXPECT_EQ(entry->files[0].rows, 10);
  EXPECT_EQ(entry->files[0].bytes, std::filesystem::file_size(dir_ / entry->files[0].path));
  EXPECT_EQ(entry->columns, (std::vector<Column>{kId}));
}

TEST_F(LoadReconciledTableTest, OurEntryCountsDataSpocsRunsAndFiles) {
  WriteParquet(kLocation + "/dt=2026-12-01/things_0000.parquet", 3);
  TableEntry ours;
  ours.source = "sample";
  ours.table = "things";
  ours.location = kLocation;
  ours.extractions = 2;
  ours.columns = {kId};
  ours.files = {{kLocation + "/dt=2026-12-01/things_0000.parquet",
                 3,
                 static_cast<int64_t>(std::filesystem::file_size(
                     dir_ / (kLocation + "/dt=2026-12-01/things_0000.parquet"))),
                 "",
                 {}},
                {kLocation + "/dt=2026-12-01/things_0001.parquet", 4, 99, "", {}}};
  ASSERT_OK(manifest_->SaveTable(ours));
  // DataSpoc ran since: one more extraction in manifest.json, one more file, and ours gone.
  auto advanced = ours.ToJson();
  advanced["stats"]["extractions"] = 3;
  WriteManifest({{"sample/things", advanced}});
  WriteParquet(kLocation + "/dt=2026-12-02/things_0000.parquet", 6);
  auto loaded = Load();
  ASSERT_OK(loaded);
  const auto& entry = *loaded;
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->extractions, 3);
  EXPECT_EQ(entry->total_rows, 9);
  EXPECT_EQ(PathsOf(*entry),
            (std::vector<std::string>{kLocation + "/dt=2026-12-01/things_0000.parquet",
                                      kLocation + "/dt=2026-12-02/things_0000.parquet"}));
}

TEST_F(LoadReconciledTableTest, ANewTableHasNoEntry) {
  auto loaded = Load();
  ASSERT_OK(loaded);
  const auto& entry = *loaded;
  EXPECT_FALSE(entry.has_value());
}

TEST_F(LoadReconciledTableTest, AFileThatIsNotParquetFailsNamingIt) {
  std::filesystem::create_directories(dir_ / kLocation);
  ASSERT_OK(storage_->WriteAll(layout_->Resolve(kLocation + "/things_0000.parquet"), "junk"));
  auto entry = Load();
  ASSERT_FALSE(entry.ok());
  EXPECT_NE(entry.status().message().find("reading the Parquet footer of"), std::string::npos);
  EXPECT_NE(entry.status().message().find("things_0000.parquet"), std::string::npos);
}

}  // namespace
}  // namespace lakepipe::lake
