#include "lakepipe/testing/gtest_util.h"

#include <filesystem>

#include <gtest/gtest-spi.h>

namespace lakepipe {
namespace {

arrow::Result<int> Seven() { return 7; }
arrow::Result<int> Broken() { return arrow::Status::IOError("disk on fire"); }

TEST(GtestUtilTest, OkAssertionsPassOnOkAndPrintTheStatusOtherwise) {
  ASSERT_OK(arrow::Status::OK());
  ASSERT_OK(Seven());
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(Broken()), "disk on fire");
  EXPECT_FATAL_FAILURE(ASSERT_OK(arrow::Status::Invalid("bad yaml")), "bad yaml");
}

TEST(GtestUtilTest, AssignGivesTheValueOrFailsWithTheStatus) {
  ASSERT_OK_AND_ASSIGN(int value, Seven());
  EXPECT_EQ(value, 7);
  EXPECT_FATAL_FAILURE(
      {
        ASSERT_OK_AND_ASSIGN(int lost, Broken());
        (void)lost;
      },
      "disk on fire");
}

TEST(GtestUtilTest, NotOkWithChecksTheMessage) {
  ASSERT_NOT_OK_WITH(Broken(), "on fire");
  EXPECT_FATAL_FAILURE(ASSERT_NOT_OK_WITH(Seven(), "x"), "succeeded");
  EXPECT_FATAL_FAILURE(ASSERT_NOT_OK_WITH(Broken(), "flood"), "expected it to mention 'flood'");
}

TEST(GtestUtilTest, TempDirIsFreshPerTestAndRemovedAfter) {
  std::filesystem::path kept;
  {
    lakepipe::testing::TempDir dir("gtest-util");
    kept = dir.path();
    EXPECT_TRUE(std::filesystem::is_directory(kept));
    EXPECT_NE(kept.string().find("GtestUtilTest.TempDirIsFreshPerTestAndRemovedAfter"),
              std::string::npos);
    std::filesystem::create_directories(dir / "a/b");
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

}  // namespace
}  // namespace lakepipe
