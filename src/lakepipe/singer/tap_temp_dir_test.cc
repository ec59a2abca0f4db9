#include "lakepipe/singer/tap_temp_dir.h"

#include "lakepipe/common/process_start.h"
#include "lakepipe/testing/gtest_util.h"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace lakepipe::singer {
namespace {

class TapTempDirTest : public ::testing::Test {
 protected:
  std::filesystem::path Make(const std::string& name) {
    auto path = root_ / name;
    std::filesystem::create_directories(path);
    return path;
  }
  lakepipe::testing::TempDir temp_{"tap-temp-dir"};
  const std::filesystem::path root_ = temp_.path();
};

TEST_F(TapTempDirTest, RemovesFoldersOfDeadOwnersOnly) {
  const long long start = ProcessStartTicks(::getpid());
  ASSERT_GT(start, 0);
  auto live = Make(fmt::format("lakepipe-tap-{}-{}-AbCdEf", ::getpid(), start));
  // Our pid with another start time: the pid was reused, the owner is gone.
  auto reused = Make(fmt::format("lakepipe-tap-{}-{}-GhIjKl", ::getpid(), start + 1));
  // A pid no process has (above pid_max).
  auto gone = Make("lakepipe-tap-2147483647-12345-MnOpQr");
  // Names of another shape are not ours to judge.
  auto old_style = Make("lakepipe-tap-XyZ123");
  auto other = Make("something-else-1-2-x");
  EXPECT_EQ(SweepDeadTapTempDirs(root_.string()), 2);
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_FALSE(std::filesystem::exists(reused));
  EXPECT_FALSE(std::filesystem::exists(gone));
  EXPECT_TRUE(std::filesystem::exists(old_style));
  EXPECT_TRUE(std::filesystem::exists(other));
}

TEST_F(TapTempDirTest, MakesAPrivateFolderUnderTmpdirNamedAfterItsOwner) {
  const char* saved = std::getenv("TMPDIR");
  const std::string saved_value = saved ? saved : "";
  ::setenv("TMPDIR", (root_.string() + "/").c_str(), 1);
  auto made = MakeTapTempDir();
  if (saved) {
    ::setenv("TMPDIR", saved_value.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_OK(made);
  const std::filesystem::path path(*made);
  EXPECT_EQ(path.parent_path(), root_);
  EXPECT_TRUE(path.filename().string().starts_with(
      fmt::format("lakepipe-tap-{}-{}-", ::getpid(), ProcessStartTicks(::getpid()))));
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
}

}  // namespace
}  // namespace lakepipe::singer
