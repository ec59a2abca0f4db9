#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

namespace lakepipe::singer {

/// How to start a Singer tap.
struct TapLaunch {
  /// The tap's command line; argv[0] is looked up on PATH when it has no '/'.
  std::vector<std::string> argv;
  /// Written to a private temp file (0600 in a 0700 folder) passed as --config; the file is
  /// removed when the TapProcess is destroyed. Never logged.
  std::optional<nlohmann::json> config;
  /// Passed as --state when present.
  std::optional<nlohmann::json> state;
  /// Passed as --catalog when present, in its own key order.
  std::optional<nlohmann::ordered_json> catalog;
  /// Extra arguments after the standard ones (e.g. --discover).
  std::vector<std::string> extra_args;
  /// The tap is stopped (SIGTERM, then SIGKILL after 5 s) after this long; 0 = never.
  double timeout_seconds = 0;
  /// Give the child a pipe on stdin (stdin_fd()) instead of /dev/null. Taps never need it;
  /// the Python transform worker, started through this same class, does.
  bool stdin_pipe = false;
  /// What the child is called in messages ("tap 'tap-x' exited with status 1").
  std::string role = "tap";
  /// Variables set in the child's environment on top of ours.
  std::map<std::string, std::string> env;
  /// The child's working folder; "" = ours.
  std::string working_dir;
};

/// A running tap: its stdout is read by the caller through stdout_fd(); its stderr is
/// drained by a thread so a chatty tap never blocks on a full pipe (the last 64 KiB are
/// kept for error messages, every line is counted). Destruction stops the tap if it still
/// runs and removes the temp files. Not thread-safe, except Terminate().
class TapProcess {
 public:
  static arrow::Result<std::unique_ptr<TapProcess>> Start(const TapLaunch& launch);
  ~TapProcess();

  int stdout_fd() const { return stdout_fd_; }
  /// The write end of the child's stdin when TapLaunch::stdin_pipe; -1 otherwise. The
  /// caller may take it over (e.g. wrap it in a stream that closes it).
  int stdin_fd() const { return stdin_fd_; }
  /// Hands the write end of the child's stdin to the caller, who must close it (the child
  /// sees the end of its input then); -1 when there is none.
  int TakeStdinFd() { return std::exchange(stdin_fd_, -1); }
  /// The tap's name for messages (argv[0]'s base name, or the script for "python x.py").
  const std::string& name() const { return name_; }

  /// Waits for the tap to exit. Error when it exited non-zero, was killed, or timed out;
  /// the message ends with the last lines the tap wrote on stderr.
  arrow::Status Wait();
  /// SIGTERM, then SIGKILL after a grace period. Safe from any thread.
  void Terminate();
  /// True when the tap exits on its own within `seconds` (it is not reaped: Wait() still
  /// reports how it ended).
  bool ExitsWithin(double seconds) const;

  /// The last lines of the tap's stderr (at most 64 KiB).
  std::string StderrTail() const;
  int64_t stderr_lines() const { return stderr_lines_.load(); }

 private:
  TapProcess() = default;
  void DrainStderr(int fd);
  void Watchdog(double timeout_seconds);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stdin_fd_ = -1;
  std::string name_;
  std::string role_;
  std::string temp_dir_;
  std::thread stderr_thread_;
  std::thread watchdog_thread_;
  mutable std::mutex mutex_;
  std::string stderr_tail_;
  std::atomic<int64_t> stderr_lines_{0};
  std::atomic<bool> exited_{false};
  std::atomic<bool> timed_out_{false};
  std::optional<int> wait_status_;
};

}  // namespace lakepipe::singer
