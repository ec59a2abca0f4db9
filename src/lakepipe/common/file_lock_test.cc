#include "lakepipe/common/file_lock.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/lock_holder.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe {
namespace {

/// Captures what spdlog's default logger writes while it lives.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return stream_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

std::string TempLockPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          fmt::format("lakepipe-file-lock-test-{}-{}", ::getpid(), name) / "stage.lock")
      .string();
}

TEST(FileLockTest, HolderIsRecordedInTheLockFile) {
  const std::string path = TempLockPath("record");
  auto lock = FileLock::Wait(path);
  ASSERT_OK(lock);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto holder = LockHolder::FromJson(text);
  ASSERT_TRUE(holder.has_value()) << text;
  EXPECT_EQ(holder->pid, ::getpid());
  EXPECT_EQ(holder->host, LockHolder::Self().host);
  EXPECT_EQ(holder->since.size(), std::string("2026-12-02T00:50:00Z").size());
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(FileLockTest, WaiterNamesTheHolderAtOnceThenAgainWhileItWaits) {
  const std::string path = TempLockPath("wait");
  auto held = FileLock::Wait(path);
  ASSERT_OK(held);
  CapturedLog log;
  std::thread waiter([&] {
    auto lock = FileLock::Wait(path, "the lock of stage 'raw'", std::chrono::milliseconds(100));
    EXPECT_OK(lock);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  held->reset();  // flock: another open of the same file is kept out too, so this frees it
  waiter.join();
  const std::string text = log.text();
  const std::string first =
      fmt::format("waiting for the lock of stage 'raw': held by pid {} on host '{}'", ::getpid(),
                  LockHolder::Self().host);
  EXPECT_EQ(text.find(first), 0u) << text;
  EXPECT_NE(text.find("still waiting for the lock of stage 'raw' after 0 s: held by pid"),
            std::string::npos)
      << text;
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(FileLockTest, NoWaitNoMessage) {
  const std::string path = TempLockPath("free");
  CapturedLog log;
  auto lock = FileLock::Wait(path, "the lock of stage 'raw'");
  ASSERT_OK(lock);
  EXPECT_EQ(log.text(), "");
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

}  // namespace
}  // namespace lakepipe
