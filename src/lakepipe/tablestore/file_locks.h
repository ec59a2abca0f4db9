#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/tablestore/metadata_store.h"

namespace lakepipe::tablestore {

/// Takes exclusive OS file locks (flock) on <lock_dir>/<instance>/<stage>.lock: first
/// "__setup__", then each stage in sorted order, waiting for other processes; the setup
/// lock is released once the stage locks are held. The OS drops the locks when the
/// process dies, even by SIGKILL, so a crashed run never leaves a stale lock.
arrow::Result<std::unique_ptr<StageLocks>> LockStageFiles(const std::string& lock_dir,
                                                          const std::string& instance,
                                                          std::vector<std::string> stages);

}  // namespace lakepipe::tablestore
