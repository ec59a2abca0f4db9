#include "lakepipe/lake/path_segment.h"
#include "lakepipe/testing/gtest_util.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace lakepipe::lake {
namespace {

TEST(PathSegmentTest, PlainNamesKeepTheirSpelling) {
  for (const char* name : {"orders", "public-orders", "order_items", "v1.2", "A9"}) {
    EXPECT_EQ(EncodePathSegment(name), name);
  }
}

TEST(PathSegmentTest, SeparatorsDotsAndPartitionSignsAreEscaped) {
  EXPECT_EQ(EncodePathSegment("../../../x"), "~2E.~2F..~2F..~2Fx");
  EXPECT_EQ(EncodePathSegment(".."), "~2E.");
  EXPECT_EQ(EncodePathSegment("."), "~2E");
  EXPECT_EQ(EncodePathSegment(".hidden"), "~2Ehidden");
  EXPECT_EQ(EncodePathSegment("x/../../y"), "x~2F..~2F..~2Fy");
  EXPECT_EQ(EncodePathSegment("dt=2026-01-01"), "dt~3D2026-01-01");
  EXPECT_EQ(EncodePathSegment("a~b"), "a~7Eb");
  EXPECT_EQ(EncodePathSegment("a b\\c"), "a~20b~5Cc");
  EXPECT_EQ(EncodePathSegment(std::string("a\0b", 3)), "a~00b");
  EXPECT_EQ(EncodePathSegment("ñ"), "~C3~B1");
}

TEST(PathSegmentTest, EncodedSegmentsHoldNoSeparatorAndDecodeBack) {
  for (const std::string& name : std::vector<std::string>{
           "../../../x", "..", ".", "a/b", "a~7Eb", "~", "~4", "x=y", "pedido ñ", "a\\b", "~~"}) {
    const std::string segment = EncodePathSegment(name);
    EXPECT_EQ(segment.find('/'), std::string::npos) << name;
    EXPECT_EQ(segment.find('\\'), std::string::npos) << name;
    EXPECT_EQ(segment.find('='), std::string::npos) << name;
    EXPECT_FALSE(segment.starts_with('.')) << name;
    EXPECT_EQ(DecodePathSegment(segment), name) << name;
  }
}

TEST(PathSegmentTest, CheckPathNameRefusesEmptyAndTooLongNames) {
  EXPECT_OK(CheckPathName("stream", "orders"));
  EXPECT_OK(CheckPathName("stream", std::string(kMaxPathSegmentBytes, 'a')));
  auto empty = CheckPathName("stream", "");
  EXPECT_TRUE(empty.IsInvalid());
  EXPECT_EQ(empty.message(), "stream name is empty");
  auto long_name = CheckPathName("stream", std::string(300, 'a'));
  EXPECT_TRUE(long_name.IsInvalid());
  EXPECT_NE(long_name.message().find("too long for a path (300 bytes once encoded, at most 200)"),
            std::string::npos)
      << long_name.message();
  // Escapes count: 70 slashes are 210 bytes once encoded.
  EXPECT_TRUE(CheckPathName("stream", std::string(70, '/')).IsInvalid());
}

TEST(PathSegmentTest, CheckRelativePathAcceptsPlainFoldersOnly) {
  for (const char* path : {"raw", "raw/crm", "/raw/", "", "landing/v1.2"}) {
    EXPECT_OK(CheckRelativePath("destination.path", path));
  }
  for (const char* path : {"..", "raw/../..", "raw//x", "./raw", ".dataspoc", "a b", "x=1"}) {
    EXPECT_TRUE(CheckRelativePath("destination.path", path).IsInvalid()) << path;
  }
}

TEST(PathSegmentTest, ContainedRelativePaths) {
  EXPECT_TRUE(IsContainedRelativePath("raw/src/t/dt=2026-01-01/t_0001.parquet"));
  EXPECT_TRUE(IsContainedRelativePath("t_0001.parquet"));
  for (const std::string& path :
       std::vector<std::string>{"", "/etc/passwd", "raw/../../x", "raw//x", "./x", "raw/..",
                                "raw/" + std::string(256, 'a')}) {
    EXPECT_FALSE(IsContainedRelativePath(path)) << path;
  }
}

}  // namespace
}  // namespace lakepipe::lake
