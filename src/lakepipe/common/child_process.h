#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/common/unique_fd.h"

namespace lakepipe {

/// Where one of a child's standard descriptors leads.
enum class ChildStdio {
  kNull,       ///< /dev/null
  kPipe,       ///< a pipe to or from us: ChildProcess::TakeStdin() / TakeStdout()
  kOurStderr,  ///< our stderr (for a stdout that is only for people to read)
};

/// How to start a child program.
struct ChildLaunch {
  /// The command line; argv[0] is looked up on PATH when it has no '/'.
  std::vector<std::string> argv;
  /// What the child is called in messages ("tap 'tap-x' exited with status 1").
  std::string role = "program";
  /// Its name in messages; "" = argv[0]'s base name, or the script's for "python3 x.py".
  std::string name;
  ChildStdio stdin_mode = ChildStdio::kNull;
  ChildStdio stdout_mode = ChildStdio::kPipe;
  /// When >= 3, one more pipe from the child reaches it on this descriptor (TakeIpc()):
  /// a channel for data that leaves the child's stdout to the child's own code, where a
  /// print() cannot corrupt it. -1: none. (Stderr is always a pipe we drain, see below.)
  int ipc_fd = -1;
  /// Variables set in the child's environment on top of ours.
  std::map<std::string, std::string> env;
  /// The child's working folder; "" = ours.
  std::string working_dir;
  /// Applied to each stderr warning line before it is echoed to the console: a child's
  /// stderr may carry a credential (common/ sits below storage/, so the caller brings
  /// storage::RedactSecrets). Required: Start() refuses a launch without it.
  std::function<std::string(std::string_view)> redact;
  /// The child is stopped after this long (SIGTERM to its process group, then SIGKILL after
  /// 5 s to the group and to any process still holding one of its pipes, such as a setsid
  /// grandchild), so Wait() and the readers of its pipes end too; 0 = never.
  double timeout_seconds = 0;
};

/// A program's name for messages: argv[0]'s base name, or the script's for "python3 x.py".
std::string ChildProgramName(const std::vector<std::string>& argv);

/// A running child program. Its stderr is drained by a thread so a chatty child never
/// blocks on a full pipe (the last 64 KiB are kept for error messages, every line is
/// counted, and the first lines that say WARNING, ERROR, CRITICAL or FATAL are shown on our
/// stderr). It runs in its own process group and dies with us (Linux: PR_SET_PDEATHSIG,
/// SIGKILL when the thread that started it ends, so start it on a thread that outlives
/// it). Every descriptor we keep is close-on-exec, so no other child inherits a pipe.
/// Destruction stops the child if it still runs. Not thread-safe, except Terminate().
///
/// Writing to a child that has exited gives EPIPE, not SIGPIPE, when written through
/// PipeOutputStream (it blocks SIGPIPE in the writing thread only): the process's signal
/// dispositions stay as they are.
class ChildProcess {
 public:
  static arrow::Result<std::unique_ptr<ChildProcess>> Start(const ChildLaunch& launch);
  ~ChildProcess();

  /// The pipes, each handed over once: the caller owns what it takes and closes it (the
  /// child sees the end of its stdin then). Empty when it is not a pipe or was taken.
  /// Close a taken pipe before Wait(): a child blocked on it keeps Wait() waiting (until
  /// Terminate() or the timeout). Pipes not taken are closed by Wait().
  UniqueFd TakeStdin() { return std::move(stdin_); }
  UniqueFd TakeStdout() { return std::move(stdout_); }
  UniqueFd TakeIpc() { return std::move(ipc_); }

  const std::string& name() const { return name_; }
  const std::string& role() const { return role_; }

  /// Closes the pipes not taken, waits for the child to exit, then kills what is left of
  /// its process group, and after 2 s any other process still holding its stderr (the
  /// child is over; they must not keep us waiting). Error when it exited non-zero, was
  /// killed, or timed out; the message ends with the last lines it wrote on stderr.
  arrow::Status Wait();
  /// SIGTERM to the child's group and its pipes' holders, then (after the child exits, or
  /// a grace period) SIGKILL to them. Safe from any thread.
  void Terminate();
  /// True when the child exits on its own within `seconds` (it is not reaped: Wait()
  /// still reports how it ended).
  bool ExitsWithin(double seconds) const;

  /// The last lines of the child's stderr (at most 64 KiB).
  std::string StderrTail() const;
  int64_t stderr_lines() const { return stderr_lines_.load(); }
  /// How many stderr lines said WARNING, ERROR, CRITICAL or FATAL, and the last of them.
  int64_t warning_lines() const { return warning_lines_.load(); }
  std::string LastWarning() const;

 private:
  ChildProcess() = default;
  void DrainStderr(int fd);
  void OnStderrLine(std::string_view line);
  void Watchdog(double timeout_seconds);
  /// Sends `signal` to the child's process group while its leader is not reaped (so the
  /// group id cannot belong to anyone else yet), and to every other process that holds
  /// one of its pipes (a setsid grandchild escapes the group, not the pipe).
  void SignalAll(int signal);
  bool LeaderExited() const;

  pid_t pid_ = -1;
  UniqueFd stdin_;
  UniqueFd stdout_;
  UniqueFd ipc_;
  std::string name_;
  std::string role_;
  std::function<std::string(std::string_view)> redact_;
  std::thread stderr_thread_;
  std::thread watchdog_thread_;
  mutable std::mutex mutex_;
  std::string stderr_tail_;
  std::atomic<int64_t> stderr_lines_{0};
  std::atomic<int64_t> warning_lines_{0};
  std::string last_warning_;
  std::string partial_line_;  // DrainStderr's unfinished line (its thread only)
  /// The inodes of the pipes the child writes (stdout, stderr, ipc; 0 = none), to find
  /// their holders in /proc.
  std::vector<uint64_t> pipe_inodes_;
  mutable std::mutex reap_mutex_;  // held while reaping; guards reaped_
  bool reaped_ = false;
  std::atomic<bool> stderr_done_{false};
  std::atomic<bool> finished_{false};  // reaped and stderr drained: the watchdog may stop
  std::atomic<bool> exited_{false};
  std::atomic<bool> timed_out_{false};
  std::optional<int> wait_status_;
};

}  // namespace lakepipe
