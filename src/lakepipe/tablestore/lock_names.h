#pragma once

#include <string>

namespace lakepipe::tablestore {

/// How a run waiting for a stage lock names it in its messages: "the lock of stage 'raw'
/// of flow 'shop' (instance dev)". `instance` is the metadata instance the lock managers
/// get (TableStore::MetadataInstance: "<flow>/<instance>", or a bare instance).
std::string StageLockName(const std::string& instance, const std::string& stage);

/// "the setup lock of flow 'shop' (instance dev)", taken before the stage locks.
std::string SetupLockName(const std::string& instance);

}  // namespace lakepipe::tablestore
