#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/tablestore/metadata_store.h"

namespace lakepipe::tablestore {

/// The pg_advisory_lock key of `name` ("<instance>#<stage>"): the first 8 bytes of its
/// sha256, big-endian, as a signed 64-bit integer. Persisted in effect (every lakepipe
/// sharing a database must agree), so never change it.
int64_t AdvisoryLockKey(std::string_view name);

/// Takes session-level PostgreSQL advisory locks on a connection of its own to `url`:
/// first "<instance>#__setup__", then "<instance>#<stage>" for each stage in sorted order,
/// waiting as long as other runs hold them; the setup lock is released once the stage locks
/// are held. The locks last while the object lives and its connection stays up: the server
/// drops them when the connection ends, so a crashed run never leaves a stale lock, and
/// Validate() fails once the connection is lost. Needs a direct connection or a
/// session-mode pooler (a transaction-mode pooler cannot hold session locks).
arrow::Result<std::unique_ptr<StageLocks>> LockStagesAdvisory(const std::string& url,
                                                              const std::string& instance,
                                                              std::vector<std::string> stages);

}  // namespace lakepipe::tablestore
