#include "lakepipe/storage/hung_call_watchdog.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace lakepipe::storage {

HungCallWatchdog::~HungCallWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (patrol_.joinable()) patrol_.join();
}

HungCallWatchdog::Watch::~Watch() {
  if (watchdog_ == nullptr) return;
  std::lock_guard lock(watchdog_->mutex_);
  watchdog_->calls_.erase(id_);
}

HungCallWatchdog::Watch HungCallWatchdog::Start(std::string what) {
  std::lock_guard lock(mutex_);
  if (!patrol_.joinable()) patrol_ = std::thread([this] { Patrol(); });
  const uint64_t id = next_id_++;
  calls_.emplace(id, Call{std::move(what), std::chrono::steady_clock::now()});
  return Watch(this, id);
}

void HungCallWatchdog::Patrol() {
  // A few looks per limit: a hung call is caught within a quarter of the limit past it.
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::clamp(
      limit_ / 4, std::chrono::duration<double>(0.05), std::chrono::duration<double>(1)));
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, call] : calls_) {
      if (now - call.started > limit_) StopProcess(call);
    }
  }
}

void HungCallWatchdog::StopProcess(const Call& call) {
  // The main thread is stuck in the call, so this thread reports it, in the CLI's form.
  std::fputs(fmt::format("lakepipe: error: {}: no answer from the store in {:.0f} s; the run "
                         "stops here (what it wrote is recovered by the next run)\n",
                         call.what, limit_.count())
                 .c_str(),
             stderr);
  std::fflush(stderr);
  std::_Exit(1);
}

}  // namespace lakepipe::storage
