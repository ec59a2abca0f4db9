#include "lakepipe/lake/table_reconciler.h"

#include <map>

#include <gtest/gtest.h>

namespace lakepipe::lake {
namespace {

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
  ASSERT_TRUE(ReconcileFiles(&entry, kLocation, folder, footers.Reader()).ok());
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
  entry.files = {{kLocation + "/dt=2026-12-01/things_0002.parquet", 2000, 200, {}},
                 {kLocation + "/dt=2026-12-01/things_0003.parquet", 7, 70, {}}};
  FakeFooters footers;
  footers.Set(kLocation + "/dt=2026-12-02/things_0000.parquet", 3000);
  const std::vector<FolderFile> folder = {{kLocation + "/dt=2026-12-01/things_0002.parquet", 200},
                                          {kLocation + "/dt=2026-12-02/things_0000.parquet", 300}};
  ASSERT_TRUE(ReconcileFiles(&entry, kLocation, folder, footers.Reader()).ok());
  EXPECT_EQ(PathsOf(entry), (std::vector<std::string>{folder[0].path, folder[1].path}));
  EXPECT_EQ(entry.total_rows, 5000);
  // Only the new file's footer was read: a listed file of unchanged size is trusted.
  EXPECT_EQ(footers.read(), (std::vector<std::string>{folder[1].path}));
}

TEST(ReconcileFilesTest, AListedFileWhoseSizeChangedIsReadAgain) {
  TableEntry entry;
  entry.columns = {kId, kName};
  entry.files = {{kLocation + "/dt=2026-12-01/things_0000.parquet", 10000, 900, {}}};
  FakeFooters footers;
  footers.Set(kLocation + "/dt=2026-12-01/things_0000.parquet", 3000);
  const std::vector<FolderFile> folder = {{kLocation + "/dt=2026-12-01/things_0000.parquet", 310}};
  ASSERT_TRUE(ReconcileFiles(&entry, kLocation, folder, footers.Reader()).ok());
  ASSERT_EQ(entry.files.size(), 1u);
  EXPECT_EQ(entry.files[0].rows, 3000);
  EXPECT_EQ(entry.files[0].bytes, 310);
  EXPECT_EQ(entry.total_rows, 3000);
}

TEST(ReconcileFilesTest, AddedFilesWithOtherColumnsMakeTheUnion) {
  TableEntry entry;
  entry.columns = {kId, kName};
  entry.files = {{kLocation + "/things_0000.parquet", 1, 10, {}}};
  FakeFooters footers;
  const Column amount{"amount", "double", true};
  footers.Set(kLocation + "/things_0001.parquet", 2, {kId, amount});
  const std::vector<FolderFile> folder = {{kLocation + "/things_0000.parquet", 10},
                                          {kLocation + "/things_0001.parquet", 20}};
  ASSERT_TRUE(ReconcileFiles(&entry, kLocation, folder, footers.Reader()).ok());
  EXPECT_EQ(entry.columns, (std::vector<Column>{kId, kName, amount}));
  EXPECT_EQ(entry.files[0].columns, (std::vector<Column>{kId, kName}));
  EXPECT_EQ(entry.files[1].columns, (std::vector<Column>{kId, amount}));
}

TEST(ReconcileFilesTest, ListedFilesOutsideTheTableLayoutAreKept) {
  TableEntry entry;
  entry.columns = {kId};
  entry.files = {{"raw/elsewhere/things/things_0000.parquet", 4, 40, {}},
                 {kLocation + "/deeper/x/things_0001.parquet", 5, 50, {}}};
  FakeFooters footers;
  ASSERT_TRUE(ReconcileFiles(&entry, kLocation, {}, footers.Reader()).ok());
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

}  // namespace
}  // namespace lakepipe::lake
