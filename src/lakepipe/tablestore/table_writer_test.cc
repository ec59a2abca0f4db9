#include "lakepipe/tablestore/table_writer.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>

#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::tablestore {
namespace {

namespace fs = std::filesystem;

class TableWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = storage::Storage::Make(storage::StorageOptions{}).ValueOrDie();
  }

  static std::shared_ptr<arrow::Schema> Schema() {
    return arrow::schema({arrow::field("id", arrow::int64()), arrow::field("grp", arrow::int64())});
  }

  /// Rows ids [first, first + rows), grp = id % groups: every batch touches every group.
  static std::shared_ptr<arrow::RecordBatch> Batch(int64_t first, int64_t rows, int64_t groups) {
    arrow::Int64Builder ids, grps;
    for (int64_t id = first; id < first + rows; ++id) {
      EXPECT_OK(ids.Append(id));
      EXPECT_OK(grps.Append(id % groups));
    }
    return arrow::RecordBatch::Make(Schema(), rows,
                                    {ids.Finish().ValueOrDie(), grps.Finish().ValueOrDie()});
  }

  /// Files being written (hidden staging siblings) anywhere under the table.
  int OpenFiles() const {
    int open = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
      if (entry.is_regular_file() && entry.path().filename().string().starts_with(".")) ++open;
    }
    return open;
  }

  /// (id, grp) of every row of the record's files, grp read from the hive folder name.
  std::set<std::pair<int64_t, int64_t>> RowsOf(const TableRecord& record) const {
    std::set<std::pair<int64_t, int64_t>> rows;
    for (const auto& file : record.files) {
      const std::string folder = fs::path(file.path).parent_path().filename().string();
      EXPECT_TRUE(folder.starts_with("grp=")) << file.path;
      const int64_t grp = std::stoll(folder.substr(4));
      auto input = arrow::io::ReadableFile::Open((dir_.path() / file.path).string()).ValueOrDie();
      auto reader = ::parquet::arrow::OpenFile(input, arrow::default_memory_pool()).ValueOrDie();
      auto table = reader->ReadTable().ValueOrDie();
      EXPECT_EQ(table->num_rows(), file.rows) << file.path;
      for (const auto& chunk : table->GetColumnByName("id")->chunks()) {
        const auto& ids = static_cast<const arrow::Int64Array&>(*chunk);
        for (int64_t i = 0; i < ids.length(); ++i) {
          EXPECT_EQ(ids.Value(i) % 10, grp) << file.path;
          EXPECT_TRUE(rows.emplace(ids.Value(i), grp).second) << "row " << ids.Value(i) << " twice";
        }
      }
    }
    return rows;
  }

  testing::TempDir dir_{"tablewriter"};
  std::unique_ptr<storage::Storage> storage_;
  storage::Uri base_ = storage::Uri::Parse(dir_.path().string()).ValueOrDie();
};

TEST_F(TableWriterTest, MorePartitionsThanOpenFilesKeepsOpenFilesBoundedAndEveryRow) {
  TableOptions options;
  options.partition_by = {"grp"};
  options.max_open_files = 3;
  ASSERT_OK_AND_ASSIGN(auto writer,
                       TableWriter::Make(*storage_, base_, "stage/items", Schema(), options));
  constexpr int64_t kBatches = 4, kRows = 50, kGroups = 10;
  for (int64_t b = 0; b < kBatches; ++b) {
    ASSERT_OK(writer->Write(*Batch(b * kRows, kRows, kGroups)));
    EXPECT_EQ(OpenFiles(), options.max_open_files);  // the last three partitions
  }
  TableRecord record;
  ASSERT_OK(writer->Finish(&record));
  EXPECT_EQ(OpenFiles(), 0);
  EXPECT_EQ(record.rows, kBatches * kRows);
  // Each batch reopened every partition but the last three: a new file each time.
  std::map<std::string, int> files_per_folder;
  for (const auto& file : record.files) {
    ++files_per_folder[fs::path(file.path).parent_path().string()];
  }
  EXPECT_EQ(files_per_folder.size(), static_cast<size_t>(kGroups));
  EXPECT_GT(record.files.size(), static_cast<size_t>(kGroups));
  EXPECT_EQ(files_per_folder.at("stage/items/grp=0"), kBatches);
  std::set<std::pair<int64_t, int64_t>> expected;
  for (int64_t id = 0; id < kBatches * kRows; ++id) expected.emplace(id, id % kGroups);
  EXPECT_EQ(RowsOf(record), expected);
}

TEST_F(TableWriterTest, PartitionsWithinTheOpenFileCapGetOneFileEach) {
  TableOptions options;
  options.partition_by = {"grp"};
  ASSERT_OK_AND_ASSIGN(auto writer,
                       TableWriter::Make(*storage_, base_, "stage/items", Schema(), options));
  for (int64_t b = 0; b < 3; ++b) ASSERT_OK(writer->Write(*Batch(b * 20, 20, 10)));
  TableRecord record;
  ASSERT_OK(writer->Finish(&record));
  EXPECT_EQ(record.files.size(), 10u);
  EXPECT_EQ(RowsOf(record).size(), 60u);
}

TEST_F(TableWriterTest, MorePartitionsThanTheCapIsAnErrorThatSaysHowToRaiseIt) {
  TableOptions options;
  options.partition_by = {"grp"};
  options.max_partitions = 5;
  ASSERT_OK_AND_ASSIGN(auto writer,
                       TableWriter::Make(*storage_, base_, "stage/items", Schema(), options));
  ASSERT_OK(writer->Write(*Batch(0, 5, 5)));  // five partitions: at the cap
  auto status = writer->Write(*Batch(0, 6, 6));
  ASSERT_NOT_OK_WITH(status, "table 'items' would have more than 5 partitions (partition_by: grp)");
  ASSERT_NOT_OK_WITH(status, "max_partitions:");
  // Nothing of the failed write is left being written.
  EXPECT_EQ(OpenFiles(), 0);
}

TEST_F(TableWriterTest, BoundsMustBeAtLeastOne) {
  for (auto bound : {&TableOptions::max_partitions, &TableOptions::max_open_files}) {
    TableOptions options;
    options.*bound = 0;
    ASSERT_NOT_OK_WITH(TableWriter::Make(*storage_, base_, "stage/items", Schema(), options),
                       "must be at least 1");
  }
}

}  // namespace
}  // namespace lakepipe::tablestore
