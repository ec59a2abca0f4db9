#include "lakepipe/common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

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
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

arrow::Result<std::unique_ptr<FileLock>> FileLock::Wait(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(const int fd, Open(path, ""));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return arrow::Status::IOError(fmt::format("locking '{}': {}", path, strerror(err)));
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() { ::close(fd_); }

}  // namespace lakepipe
