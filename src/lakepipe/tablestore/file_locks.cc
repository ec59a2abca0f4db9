#include "lakepipe/tablestore/file_locks.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace lakepipe::tablestore {
namespace {

class FileStageLocks : public StageLocks {
 public:
  explicit FileStageLocks(std::vector<std::unique_ptr<FileLock>> locks)
      : locks_(std::move(locks)) {}
  // A file lock cannot be lost while the process lives.
  arrow::Status Validate() override { return arrow::Status::OK(); }

 private:
  std::vector<std::unique_ptr<FileLock>> locks_;
};

}  // namespace

arrow::Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return arrow::Status::IOError(fmt::format("cannot open lock '{}': {}", path, strerror(errno)));
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return arrow::Status::IOError(fmt::format("locking '{}': {}", path, strerror(err)));
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() { ::close(fd_); }

arrow::Result<std::unique_ptr<StageLocks>> LockStageFiles(const std::string& lock_dir,
                                                          const std::string& instance,
                                                          std::vector<std::string> stages) {
  std::sort(stages.begin(), stages.end());
  stages.erase(std::unique(stages.begin(), stages.end()), stages.end());
  const std::string dir = fmt::format("{}/{}", lock_dir, instance);
  ARROW_ASSIGN_OR_RAISE(auto setup, FileLock::Acquire(dir + "/__setup__.lock"));
  std::vector<std::unique_ptr<FileLock>> locks;
  for (const auto& stage : stages) {
    ARROW_ASSIGN_OR_RAISE(auto lock, FileLock::Acquire(fmt::format("{}/{}.lock", dir, stage)));
    locks.push_back(std::move(lock));
  }
  return std::make_unique<FileStageLocks>(std::move(locks));
}

}  // namespace lakepipe::tablestore
