#include "lakepipe/tablestore/layout.h"

#include <filesystem>

#include <gtest/gtest.h>

namespace lakepipe::tablestore::layout {
namespace {

TEST(LayoutTest, FlowSlotAndTableFoldersEncodeEachName) {
  EXPECT_EQ(FlowDir("dev", "shop"), "dev/shop");
  EXPECT_EQ(FlowDir("dev", ""), "dev");
  EXPECT_EQ(FlowDir("dev", "../x"), "dev/~2E.~2Fx");
  EXPECT_EQ(SlotDir("dev/shop", "raw", "odd"), "dev/shop/raw__odd");
  EXPECT_EQ(SlotDir("dev/shop", "1 raw/x", "even"), "dev/shop/1~20raw~2Fx__even");
  EXPECT_EQ(TableDir("dev/shop/raw__odd", "orders"), "dev/shop/raw__odd/orders");
  EXPECT_EQ(TableDir("dev/shop/raw__odd", "a/b"), "dev/shop/raw__odd/a~2Fb");
}

TEST(LayoutTest, MetadataInstanceIsFlowSlashInstance) {
  EXPECT_EQ(MetadataInstance("shop", "dev"), "shop/dev");
  EXPECT_EQ(MetadataInstance("", "dev"), "dev");
}

TEST(LayoutTest, SlotFoldersParseBackToTheirStageAndSlot) {
  using Parsed = std::optional<std::pair<std::string, std::string>>;
  EXPECT_EQ(ParseSlotFolder("raw__odd"), (Parsed{{"raw", "odd"}}));
  EXPECT_EQ(ParseSlotFolder("raw__even"), (Parsed{{"raw", "even"}}));
  EXPECT_EQ(ParseSlotFolder("1~20raw~2Fx__even"), (Parsed{{"1 raw/x", "even"}}));
  // Round trip through SlotDir for a name that needs encoding.
  const std::string dir = SlotDir("f", "a.b c", "odd");
  EXPECT_EQ(ParseSlotFolder(dir.substr(2)), (Parsed{{"a.b c", "odd"}}));
  EXPECT_EQ(ParseSlotFolder("__odd"), std::nullopt);  // no stage
  EXPECT_EQ(ParseSlotFolder("raw__new"), std::nullopt);
  EXPECT_EQ(ParseSlotFolder("raw"), std::nullopt);
}

TEST(LayoutTest, DataFilesAreStemDashFourDigitsDotParquet) {
  EXPECT_EQ(DataFile("d/t", "part-0000abcd", 0), "d/t/part-0000abcd-0000.parquet");
  EXPECT_EQ(DataFile("d/t/k=1", "part-1", 12), "d/t/k=1/part-1-0012.parquet");
  EXPECT_EQ(DataFile("d", "s", 12345), "d/s-12345.parquet");
  const std::string stem = NewFileStem();
  ASSERT_EQ(stem.size(), 13u);
  EXPECT_TRUE(stem.starts_with("part-"));
  EXPECT_EQ(stem.find_first_not_of("0123456789abcdef", 5), std::string::npos);
}

TEST(LayoutTest, ReplacedMarkersAreRecognisedOnlyDirectlyInTheirSlot) {
  const std::string marker = ReplacedMarker("f/s__odd", 1799999700, "id");
  EXPECT_EQ(marker, "f/s__odd/_replaced-1799999700-id.json");
  EXPECT_TRUE(IsReplacedMarker("f/s__odd", marker));
  EXPECT_FALSE(IsReplacedMarker("f/s__odd", "f/s__odd/t/_replaced-1-id.json"));
  EXPECT_FALSE(IsReplacedMarker("f/s__even", marker));
  EXPECT_FALSE(IsReplacedMarker("f/s__odd", "f/s__odd/t/part-a-0000.parquet"));
}

TEST(LayoutTest, CatalogSchemasOfSlotsAndStages) {
  EXPECT_EQ(SlotSchema("raw", "even"), "raw__even");
  EXPECT_TRUE(IsSlotSchema("raw__even"));
  EXPECT_TRUE(IsSlotSchema("raw__odd"));
  EXPECT_FALSE(IsSlotSchema("raw"));
  EXPECT_FALSE(IsSlotSchema("lakepipe"));
}

TEST(LayoutTest, FilesBesideTheCatalog) {
  EXPECT_EQ(EmbeddedMetadataPath("/w/shop.duckdb"), "/w/shop.meta.sqlite");
  EXPECT_EQ(LockDir("/w/shop.duckdb"), "/w/.shop.locks");
  EXPECT_EQ(CatalogLockPath("/w/shop.duckdb"), "/w/.shop.duckdb.lock");
  const std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(EmbeddedMetadataPath("shop.duckdb"), cwd + "/shop.meta.sqlite");
  EXPECT_TRUE(CatalogTempPath("/w/shop.duckdb").starts_with("/w/shop.duckdb.tmp-"));
  EXPECT_NE(CatalogTempPath("/w/shop.duckdb"), CatalogTempPath("/w/shop.duckdb"));
}

TEST(LayoutTest, LockFilesStayInsideTheLockFolder) {
  EXPECT_EQ(StageLockFile("/l", "shop/dev", "raw"), "/l/shop~2Fdev/raw.lock");
  EXPECT_EQ(StageLockFile("/l", "../x/dev", "a/b"), "/l/~2E.~2Fx~2Fdev/a~2Fb.lock");
  EXPECT_EQ(SetupLockFile("/l", "shop/dev"), "/l/shop~2Fdev/__setup__.lock");
}

}  // namespace
}  // namespace lakepipe::tablestore::layout
