#include "lakepipe/common/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <new>

namespace lakepipe {

void CrashPoint(std::string_view point) {
  static const char* target = std::getenv("LAKEPIPE_CRASH_AT");
  if (target != nullptr && point == target) ::kill(::getpid(), SIGKILL);
}

void ThrowPoint(std::string_view point) {
  static const char* target = std::getenv("LAKEPIPE_THROW_AT");
  if (target != nullptr && point == target) throw std::bad_alloc();
}

}  // namespace lakepipe
