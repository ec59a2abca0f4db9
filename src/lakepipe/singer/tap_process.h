#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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
  /// Written to a private temp file (0600 in a 0700 folder under $TMPDIR, see
  /// MakeTapTempDir) passed as --config; the file is removed when the TapProcess is
  /// destroyed, and by a later run when we die before that. Never logged.
  std::optional<nlohmann::json> config;
  /// Passed as --state when present.
  std::optional<nlohmann::json> state;
  /// Passed as --catalog when present, in its own key order.
  std::optional<nlohmann::ordered_json> catalog;
  /// Extra arguments after the standard ones (e.g. --discover).
  std::vector<std::string> extra_args;
  /// The tap is stopped after this long (SIGTERM to its process group, then SIGKILL after
  /// 5 s to the group and to any process still holding its output or stderr, such as a
  /// setsid grandchild), so Wait() and the reader of stdout_fd() end too; 0 = never.
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
  /// When >= 3, the output pipe (stdout_fd()) reaches the child on this descriptor instead
  /// of its stdout, and the child's stdout is our stderr: user code that print()s cannot
  /// corrupt the channel. -1: the output pipe is the child's stdout.
  int output_fd = -1;
};

/// A running tap: its stdout is read by the caller through stdout_fd(); its stderr is
/// drained by a thread so a chatty tap never blocks on a full pipe (the last 64 KiB are
/// kept for error messages, every line is counted, and the first lines that say WARNING,
/// ERROR, CRITICAL or FATAL are shown on our stderr). The tap runs in its own process
/// group and dies with us (Linux: PR_SET_PDEATHSIG, SIGKILL when the thread that started
/// it ends, so start a tap on a thread that outlives it). Destruction stops the tap if it
/// still runs and removes the temp files. Not thread-safe, except Terminate().
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

  /// Waits for the tap to exit, then kills what is left of its process group, and after
  /// 2 s any other process still holding its stderr (the tap is over; they must not keep
  /// us waiting). Error when it exited non-zero, was killed, or timed out; the message ends
  /// with the last lines the tap wrote on stderr.
  arrow::Status Wait();
  /// SIGTERM to the tap's group and its pipes' holders, then (after the tap exits, or a
  /// grace period) SIGKILL to them. Safe from any thread.
  void Terminate();
  /// True when the tap exits on its own within `seconds` (it is not reaped: Wait() still
  /// reports how it ended).
  bool ExitsWithin(double seconds) const;

  /// The last lines of the tap's stderr (at most 64 KiB).
  std::string StderrTail() const;
  int64_t stderr_lines() const { return stderr_lines_.load(); }
  /// How many stderr lines said WARNING, ERROR, CRITICAL or FATAL, and the last of them.
  int64_t warning_lines() const { return warning_lines_.load(); }
  std::string LastWarning() const;

 private:
  TapProcess() = default;
  void DrainStderr(int fd);
  void OnStderrLine(std::string_view line);
  void Watchdog(double timeout_seconds);
  /// Sends `signal` to the tap's process group while its leader is not reaped (so the
  /// group id cannot belong to anyone else yet), and to every other process that holds
  /// one of its pipes (a setsid grandchild escapes the group, not the pipe).
  void SignalAll(int signal);
  bool LeaderExited() const;

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
  std::atomic<int64_t> warning_lines_{0};
  std::string last_warning_;
  std::string partial_line_;  // DrainStderr's unfinished line (its thread only)
  /// The inodes of the stdout and stderr pipes, to find their holders in /proc.
  uint64_t pipe_inodes_[2] = {0, 0};
  mutable std::mutex reap_mutex_;  // held while reaping; guards reaped_
  bool reaped_ = false;
  std::atomic<bool> stderr_done_{false};
  std::atomic<bool> finished_{false};  // reaped and stderr drained: the watchdog may stop
  std::atomic<bool> exited_{false};
  std::atomic<bool> timed_out_{false};
  std::optional<int> wait_status_;
};

}  // namespace lakepipe::singer
