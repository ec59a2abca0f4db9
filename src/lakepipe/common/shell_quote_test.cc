#include "lakepipe/common/shell_quote.h"

#include <gtest/gtest.h>

namespace lakepipe::common {
namespace {

TEST(ShellQuoteTest, QuotesEveryWordAndEscapesSingleQuotes) {
  EXPECT_EQ(ShellQuote("/home/ann/.lakepipe"), "'/home/ann/.lakepipe'");
  EXPECT_EQ(ShellQuote("/tmp/my home"), "'/tmp/my home'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$(rm -rf ~); `x` \\ *"), "'$(rm -rf ~); `x` \\ *'");
  EXPECT_EQ(ShellQuote(""), "''");
}

}  // namespace
}  // namespace lakepipe::common
