#include "lakepipe/common/run_id.h"

#include <regex>

#include <gtest/gtest.h>

namespace lakepipe {
namespace {

TEST(RunIdTest, IsTheUtcStartThenEightHexDigitsAndDiffersWithinASecond) {
  // 2026-12-02T04:44:33.900Z
  const std::chrono::system_clock::time_point start{std::chrono::milliseconds(1796186673900)};
  const std::string id = NewRunId(start);
  EXPECT_TRUE(std::regex_match(id, std::regex("20261202T044433Z-[0-9a-f]{8}"))) << id;
  EXPECT_NE(NewRunId(start), NewRunId(start));
}

}  // namespace
}  // namespace lakepipe
