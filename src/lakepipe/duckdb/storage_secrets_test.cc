#include "lakepipe/duckdb/storage_secrets.h"

#include <gtest/gtest.h>

namespace lakepipe::duckdb {
namespace {

using Statements = std::vector<std::string>;

TEST(StorageSettingStatementsTest, EachAttemptGetsAShareOfTheDeadline) {
  storage::StorageOptions options;  // 5 attempts in 60 s, 0.2 s first backoff
  EXPECT_EQ(StorageSettingStatements(options),
            (Statements{"SET http_timeout = 12", "SET http_retries = 4",
                        "SET http_retry_wait_ms = 200", "SET http_retry_backoff = 2"}));
  options.retry.deadline_seconds = 5;
  options.retry.max_attempts = 5;
  EXPECT_EQ(StorageSettingStatements(options)[0], "SET http_timeout = 1");
  options.retry.deadline_seconds = 0.5;  // never below DuckDB's 1 s unit
  options.retry.max_attempts = 1;
  EXPECT_EQ(StorageSettingStatements(options),
            (Statements{"SET http_timeout = 1", "SET http_retries = 0",
                        "SET http_retry_wait_ms = 200", "SET http_retry_backoff = 2"}));
}

}  // namespace
}  // namespace lakepipe::duckdb
