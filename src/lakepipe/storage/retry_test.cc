#include "lakepipe/storage/retry.h"
#include "lakepipe/testing/gtest_util.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace lakepipe::storage {
namespace {

RetryOptions Fast(int attempts, double deadline = 10) {
  RetryOptions retry;
  retry.max_attempts = attempts;
  retry.initial_backoff_seconds = 0.001;
  retry.max_backoff_seconds = 0.002;
  retry.deadline_seconds = deadline;
  return retry;
}

TEST(RetryTest, TransientErrorsAreRetriedUntilSuccess) {
  int calls = 0;
  auto status = RetryPolicy(Fast(5)).Call(
      [&]() { return ++calls < 3 ? arrow::Status::IOError("503 SlowDown") : arrow::Status::OK(); });
  EXPECT_OK(status);
  EXPECT_EQ(calls, 3);
}

TEST(RetryTest, FinalErrorsAreNotRetried) {
  int calls = 0;
  auto status = RetryPolicy(Fast(5)).Call([&]() {
    ++calls;
    return arrow::Status::IOError("AWS Error ACCESS_DENIED during PutObject: 403");
  });
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(calls, 1);
}

TEST(RetryTest, GivesUpAfterMaxAttemptsAndSaysSo) {
  int calls = 0;
  auto status = RetryPolicy(Fast(4)).Call([&]() {
    ++calls;
    return arrow::Status::IOError("Connection refused");
  });
  EXPECT_EQ(calls, 4);
  EXPECT_NE(status.message().find("after 4 attempts"), std::string::npos) << status.message();
}

TEST(RetryTest, DeadlineBoundsTheRetries) {
  RetryOptions retry = Fast(1000, 0.05);
  retry.initial_backoff_seconds = 0.02;
  retry.max_backoff_seconds = 0.02;
  int calls = 0;
  auto status = RetryPolicy(retry).Call([&]() {
    ++calls;
    return arrow::Status::IOError("timed out");
  });
  EXPECT_FALSE(status.ok());
  EXPECT_LT(calls, 10);
}

TEST(RetryTest, ResultFormCarriesTheValue) {
  int calls = 0;
  auto result = RetryPolicy(Fast(3)).Call<int>([&]() -> arrow::Result<int> {
    if (++calls == 1) return arrow::Status::IOError("Connection reset by peer");
    return 42;
  });
  ASSERT_OK(result);
  EXPECT_EQ(*result, 42);
}

TEST(RetryTest, AfterACallGaveUpCallsFailAtOnceForADeadlineThenTryOnce) {
  RetryPolicy policy(Fast(3, /*deadline=*/0.3));
  int calls = 0;
  auto unreachable = [&]() {
    ++calls;
    return arrow::Status::IOError("Connection refused");
  };
  EXPECT_FALSE(policy.Call(unreachable).ok());
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(policy.store_down());

  calls = 0;
  auto status = policy.Call(unreachable);
  EXPECT_EQ(calls, 0);
  EXPECT_NE(status.message().find("not attempted: a call to this store failed every retry"),
            std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("Connection refused"), std::string::npos) << status.message();

  std::this_thread::sleep_for(std::chrono::milliseconds(350));  // past the deadline
  status = policy.Call(unreachable);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(status.message().find("after 1 attempt in"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("the store was already down"), std::string::npos)
      << status.message();

  // The store answers again: the next failure is retried in full.
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  EXPECT_TRUE(policy.Call([] { return arrow::Status::OK(); }).ok());
  EXPECT_FALSE(policy.store_down());
  calls = 0;
  EXPECT_FALSE(policy.Call(unreachable).ok());
  EXPECT_EQ(calls, 3);
}

TEST(RetryTest, AFinalRefusalShowsTheStoreIsUp) {
  RetryPolicy policy(Fast(2, /*deadline=*/0.1));
  EXPECT_FALSE(policy.Call([] { return arrow::Status::IOError("timed out"); }).ok());
  EXPECT_TRUE(policy.store_down());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_FALSE(policy.Call([] { return arrow::Status::IOError("NoSuchKey: 404"); }).ok());
  EXPECT_FALSE(policy.store_down());
}

TEST(RetryTest, AStreamThatGaveUpMarksTheStoreDown) {
  RetryPolicy policy(Fast(3));
  policy.GaveUp(arrow::Status::IOError("Access Denied: 403"));  // final: says nothing
  EXPECT_FALSE(policy.store_down());
  policy.GaveUp(arrow::Status::IOError("Couldn't connect to server"));
  EXPECT_TRUE(policy.store_down());
  int calls = 0;
  EXPECT_FALSE(policy
                   .Call([&] {
                     ++calls;
                     return arrow::Status::OK();
                   })
                   .ok());
  EXPECT_EQ(calls, 0);
}

TEST(RetryTest, ClassifiesCommonProviderMessages) {
  EXPECT_TRUE(IsTransient(arrow::Status::IOError("HTTP 500 InternalError")));
  EXPECT_FALSE(IsTransient(arrow::Status::IOError("Bucket 'x' does not exist")));
  EXPECT_FALSE(IsTransient(arrow::Status::Invalid("500")));  // not an I/O failure
  EXPECT_FALSE(IsTransient(arrow::Status::OK()));
}

}  // namespace
}  // namespace lakepipe::storage
