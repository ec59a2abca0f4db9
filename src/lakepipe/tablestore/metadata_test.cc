#include "lakepipe/tablestore/metadata.h"

#include <gtest/gtest.h>

#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::tablestore {
namespace {

// files_json as the metadata stores and the catalog's lakepipe.tables hold it.
constexpr std::string_view kWrittenFilesJson =
    R"([{"bytes":120,"path":"t/part-1-0000.parquet","rows":3,"sha256":"aa11"},)"
    R"({"bytes":3400,"path":"t/part-1-0001.parquet","rows":70,"sha256":"bb22"}])";

TEST(MetadataTest, FilesJsonWrittenBeforeRoundTripsByteForByte) {
  ASSERT_OK_AND_ASSIGN(auto files, FilesFromJson(nlohmann::json::parse(kWrittenFilesJson)));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].path, "t/part-1-0001.parquet");
  EXPECT_EQ(files[1].rows, 70);
  EXPECT_EQ(files[1].bytes, 3400);
  EXPECT_EQ(files[1].checksum, "bb22");
  EXPECT_EQ(FilesToJson(files).dump(), kWrittenFilesJson);
}

// The content hash keys the cache of every task reading the table: a store written before
// must hash its tables the same, or every task re-runs once.
TEST(MetadataTest, ContentHashIsTheOneRecordedBefore) {
  ASSERT_OK_AND_ASSIGN(auto files, FilesFromJson(nlohmann::json::parse(kWrittenFilesJson)));
  EXPECT_EQ(ContentHash(files), "86137ed9e00e8583bc3c17894434718a15a360fd91211f8cdf59d11c4b0a9a15");
}

TEST(MetadataTest, AFileRecordWithoutItsChecksumIsRefusedNamingIt) {
  auto files =
      FilesFromJson(nlohmann::json::parse(R"([{"path":"t/a.parquet","rows":1,"bytes":2}])"));
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("t/a.parquet"), std::string::npos);
}

}  // namespace
}  // namespace lakepipe::tablestore
