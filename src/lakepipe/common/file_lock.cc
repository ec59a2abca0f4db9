#include "lakepipe/common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/lock_holder.h"
#include "lakepipe/common/lock_wait_reporter.h"

namespace lakepipe {

arrow::Result<int> FileLock::Open(const std::string& path, const std::string& what) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return arrow::Status::IOError(fmt::format(
        "{}cannot open lock '{}': {}", what.empty() ? "" : what + ": ", path, strerror(errno)));
  }
  return fd;
}

arrow::Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path,
                                                           const std::string& what,
                                                           const std::string& busy) {
  ARROW_ASSIGN_OR_RAISE(const int fd, Open(path, what));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return arrow::Status::IOError(
          fmt::format("{} {} (another process holds '{}')", what, busy, path));
    }
    return arrow::Status::IOError(fmt::format("{}: locking '{}': {}", what, path, strerror(err)));
  }
  spdlog::debug("holding {} ('{}')", what, path);
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

arrow::Result<std::unique_ptr<FileLock>> FileLock::Wait(const std::string& path,
                                                        const std::string& what,
                                                        std::chrono::milliseconds report_every) {
  ARROW_ASSIGN_OR_RAISE(const int fd, Open(path, what));
  // errno of the last flock, 0 once it is ours.
  auto take = [fd](int operation) {
    while (::flock(fd, operation) != 0) {
      if (errno != EINTR) return errno;
    }
    return 0;
  };
  int err = take(LOCK_EX | LOCK_NB);
  if (err == EWOULDBLOCK) {
    std::optional<LockWaitReporter> reporter;
    if (!what.empty()) reporter.emplace(what, [fd] { return RecordedHolder(fd); }, report_every);
    err = take(LOCK_EX);
  }
  if (err != 0) {
    ::close(fd);
    return arrow::Status::IOError(fmt::format("locking '{}': {}", path, strerror(err)));
  }
  RecordHolder(fd);
  spdlog::debug("holding {} ('{}')", what.empty() ? std::string("a lock") : what, path);
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

void FileLock::RecordHolder(int fd) {
  // Best effort: a holder left unrecorded only makes a waiter's message vaguer.
  const std::string text = LockHolder::Self().ToJson() + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, text.data(), text.size(), 0);
}

std::string FileLock::RecordedHolder(int fd) {
  char buffer[4096];
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer), 0);
  const auto holder = LockHolder::FromJson(n > 0 ? std::string(buffer, n) : std::string());
  return holder ? "held by " + holder->Describe() : "held by another process (not recorded)";
}

FileLock::~FileLock() { ::close(fd_); }

}  // namespace lakepipe
