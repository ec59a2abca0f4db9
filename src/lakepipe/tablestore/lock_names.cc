#include "lakepipe/tablestore/lock_names.h"

#include <fmt/format.h>

namespace lakepipe::tablestore {
namespace {

std::string OfInstance(const std::string& instance) {
  const auto slash = instance.find('/');
  if (slash == std::string::npos) return fmt::format("of instance {}", instance);
  return fmt::format("of flow '{}' (instance {})", instance.substr(0, slash),
                     instance.substr(slash + 1));
}

}  // namespace

std::string StageLockName(const std::string& instance, const std::string& stage) {
  return fmt::format("the lock of stage '{}' {}", stage, OfInstance(instance));
}

std::string SetupLockName(const std::string& instance) {
  return "the setup lock " + OfInstance(instance);
}

}  // namespace lakepipe::tablestore
