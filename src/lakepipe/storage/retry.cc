#include "lakepipe/storage/retry.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/storage/redact.h"

namespace lakepipe::storage {
namespace {

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

bool IsTransient(const arrow::Status& status) {
  if (status.ok() || !status.IsIOError()) return false;
  const std::string& m = status.message();
  // Final refusals first: retrying these only delays the error.
  for (std::string_view final_marker :
       {"NoSuchBucket", "NO_SUCH_BUCKET", "AccessDenied", "ACCESS_DENIED", "InvalidAccessKeyId",
        "SignatureDoesNotMatch", "INVALID_ACCESS_KEY", "SIGNATURE_DOES_NOT_MATCH", "403", "404",
        "NotFound", "ContainerNotFound", "AuthenticationFailed", "PERMISSION_DENIED",
        "Path does not exist", "does not exist", "Permission denied", "No space left",
        "Read-only file system"}) {
    if (Contains(m, final_marker)) return false;
  }
  for (std::string_view transient_marker : {"SlowDown",
                                            "SLOW_DOWN",
                                            "Throttl",
                                            "THROTTL",
                                            "503",
                                            "500",
                                            "502",
                                            "504",
                                            "429",
                                            "InternalError",
                                            "INTERNAL_FAILURE",
                                            "SERVICE_UNAVAILABLE",
                                            "ServiceUnavailable",
                                            "NETWORK_CONNECTION",
                                            "REQUEST_TIMEOUT",
                                            "Timeout",
                                            "timed out",
                                            "Timed out",
                                            "Connection reset",
                                            "connection reset",
                                            "Couldn't connect",
                                            "Could not connect",
                                            "Connection refused",
                                            "UNAVAILABLE",
                                            "DEADLINE_EXCEEDED",
                                            "curl",
                                            "Broken pipe",
                                            "transport",
                                            "Transport"}) {
    if (Contains(m, transient_marker)) return true;
  }
  return false;
}

void RetryPolicy::GaveUp(const arrow::Status& status) {
  if (!IsTransient(status)) return;
  std::lock_guard lock(mutex_);
  outage_ = Outage{Clock::now(), status.message()};
}

void RetryPolicy::Recovered() {
  std::lock_guard lock(mutex_);
  outage_.reset();
}

bool RetryPolicy::store_down() const {
  std::lock_guard lock(mutex_);
  return outage_.has_value();
}

arrow::Status RetryPolicy::Call(const std::function<arrow::Status()>& attempt) {
  using Seconds = std::chrono::duration<double>;
  const auto start = Clock::now();
  const auto deadline = start + Seconds(options_.deadline_seconds);
  bool was_down = false;
  {
    std::lock_guard lock(mutex_);
    if (outage_) {
      const double age = Seconds(start - outage_->since).count();
      if (age < options_.deadline_seconds) {
        return arrow::Status::IOError(
            fmt::format("not attempted: a call to this store failed every retry {:.1f} s ago ({})",
                        age, outage_->cause));
      }
      was_down = true;
    }
  }
  const int max_attempts = was_down ? 1 : options_.max_attempts;
  std::mt19937_64 rng(std::random_device{}());
  double backoff = options_.initial_backoff_seconds;
  for (int n = 1;; ++n) {
    const auto attempt_start = Clock::now();
    arrow::Status status = attempt();
    if (status.ok() || !IsTransient(status)) {
      // A final refusal (404, 403) is an answer too: the store is reachable.
      Recovered();
      return status;
    }
    const auto attempt_took = Clock::now() - attempt_start;
    const double jittered = std::uniform_real_distribution<double>(backoff / 2, backoff)(rng);
    const auto wake = Clock::now() + Seconds(jittered);
    // An SDK may retry inside one attempt, so attempts can be long: start another only
    // if one as long as the last still ends before the deadline.
    if (n >= max_attempts || wake + attempt_took > deadline) {
      const double spent = Seconds(Clock::now() - start).count();
      status = status.WithMessage(fmt::format("{} (after {} attempt{} in {:.1f} s{})",
                                              status.message(), n, n == 1 ? "" : "s", spent,
                                              was_down ? "; the store was already down" : ""));
      GaveUp(status);
      return status;
    }
    spdlog::info("retrying in {:.1f} s (attempt {} of at most {} failed): {}", jittered, n,
                 max_attempts, RedactSecrets(status.message()));
    std::this_thread::sleep_until(wake);
    backoff = std::min(backoff * 2, options_.max_backoff_seconds);
  }
}

}  // namespace lakepipe::storage
