#include "lakepipe/pipeline/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace lakepipe::pipeline {

arrow::Result<std::unique_ptr<RunLock>> RunLock::Acquire(const std::string& locks_dir,
                                                         const std::string& pipeline) {
  std::error_code ec;
  std::filesystem::create_directories(locks_dir, ec);
  const std::string path = fmt::format("{}/{}.lock", locks_dir, pipeline);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return arrow::Status::IOError(
        fmt::format("pipeline '{}': cannot open lock '{}': {}", pipeline, path, strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return arrow::Status::IOError(fmt::format(
          "pipeline '{}' is already running (another process holds '{}')", pipeline, path));
    }
    return arrow::Status::IOError(
        fmt::format("pipeline '{}': locking '{}': {}", pipeline, path, strerror(err)));
  }
  return std::unique_ptr<RunLock>(new RunLock(fd));
}

RunLock::~RunLock() { ::close(fd_); }

}  // namespace lakepipe::pipeline
