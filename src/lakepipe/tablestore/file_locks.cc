#include "lakepipe/tablestore/file_locks.h"

#include <algorithm>

#include <fmt/format.h>

#include "lakepipe/common/file_lock.h"
#include "lakepipe/tablestore/layout.h"
#include "lakepipe/tablestore/lock_names.h"

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

arrow::Result<std::unique_ptr<StageLocks>> LockStageFiles(const std::string& lock_dir,
                                                          const std::string& instance,
                                                          std::vector<std::string> stages) {
  std::sort(stages.begin(), stages.end());
  stages.erase(std::unique(stages.begin(), stages.end()), stages.end());
  ARROW_ASSIGN_OR_RAISE(auto setup, FileLock::Wait(layout::SetupLockFile(lock_dir, instance),
                                                   SetupLockName(instance)));
  std::vector<std::unique_ptr<FileLock>> locks;
  for (const auto& stage : stages) {
    ARROW_ASSIGN_OR_RAISE(auto lock, FileLock::Wait(layout::StageLockFile(lock_dir, instance, stage),
                                                    StageLockName(instance, stage)));
    locks.push_back(std::move(lock));
  }
  return std::make_unique<FileStageLocks>(std::move(locks));
}

}  // namespace lakepipe::tablestore
