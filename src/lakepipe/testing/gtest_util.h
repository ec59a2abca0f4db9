#pragma once

// Helpers every unit test may use, in the manner of Arrow's testing/gtest_util.h: status
// assertions that print the failed status, and a per-test temporary folder.

#include <unistd.h>

#include <filesystem>
#include <string>

#include <arrow/result.h>
#include <arrow/status.h>
#include <gtest/gtest.h>

#define LAKEPIPE_TESTING_CONCAT_INNER(a, b) a##b
#define LAKEPIPE_TESTING_CONCAT(a, b) LAKEPIPE_TESTING_CONCAT_INNER(a, b)

/// Fails the test (fatally / not) unless `expr` (an arrow::Status or arrow::Result) is OK,
/// printing the status.
#define ASSERT_OK(expr)                                                     \
  do {                                                                      \
    const ::arrow::Status _lakepipe_st = ::arrow::ToStatus(expr); \
    ASSERT_TRUE(_lakepipe_st.ok()) << #expr << ": " << _lakepipe_st.ToString();   \
  } while (false)

#define EXPECT_OK(expr)                                                     \
  do {                                                                      \
    const ::arrow::Status _lakepipe_st = ::arrow::ToStatus(expr); \
    EXPECT_TRUE(_lakepipe_st.ok()) << #expr << ": " << _lakepipe_st.ToString();   \
  } while (false)

#define LAKEPIPE_ASSERT_OK_AND_ASSIGN_IMPL(result_name, lhs, rexpr)                     \
  auto result_name = (rexpr);                                                           \
  ASSERT_TRUE(result_name.ok()) << #rexpr << ": " << result_name.status().ToString(); \
  lhs = std::move(result_name).ValueUnsafe();

/// `ASSERT_OK_AND_ASSIGN(auto x, MakeX());`: x is the value, or the test fails printing
/// the status.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  LAKEPIPE_ASSERT_OK_AND_ASSIGN_IMPL(    \
      LAKEPIPE_TESTING_CONCAT(_lakepipe_result_, __COUNTER__), lhs, rexpr)

/// Fails unless `expr` is a non-OK status (or result) whose message contains `needle`.
#define ASSERT_NOT_OK_WITH(expr, needle)                                                  \
  do {                                                                                    \
    const ::arrow::Status _lakepipe_st = ::arrow::ToStatus(expr);        \
    ASSERT_FALSE(_lakepipe_st.ok()) << #expr << " succeeded";                             \
    ASSERT_NE(_lakepipe_st.message().find(needle), std::string::npos)                     \
        << #expr << ": " << _lakepipe_st.ToString() << " (expected it to mention '" << needle \
        << "')";                                                                          \
  } while (false)

namespace lakepipe::testing {

/// A fresh folder for the running test, named after it and the process, removed when the
/// object goes away. `prefix` tells the test file apart ("manifest", "tablestore").
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "none";
    for (char& c : name) {
      if (c == '/') c = '_';  // parameterised tests' names have slashes
    }
    path_ = std::filesystem::temp_directory_path() /
            ("lakepipe-" + prefix + "-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;  // a test that failed may leave files open: best effort
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& child) const { return (path_ / child).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace lakepipe::testing
