#include "lakepipe/common/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>


extern char** environ;

namespace lakepipe {
namespace {

constexpr size_t kStderrTailBytes = 64 * 1024;
constexpr auto kTerminateGrace = std::chrono::seconds(5);
// How long Wait() lets a process outside the child's group keep its stderr open after the
// child exited, before stopping it.
constexpr auto kStderrLinger = std::chrono::seconds(2);
// Warning lines shown on our stderr per child: enough to see why, not a flood.
constexpr int64_t kEchoedWarnings = 20;
constexpr size_t kMaxLineBytes = 4096;

bool MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  return true;
}

uint64_t InodeOf(int fd) {
  struct stat st{};
  return ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// What posix_spawnp would run: `program` itself when it names a path, else the first
// executable file of that name on our PATH; "" when there is none.
std::string FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    const size_t colon = path.find(':');
    const std::string dir(path.substr(0, colon));
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    struct stat st{};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) return "";
    path.remove_prefix(colon + 1);
  }
}

/// Everything the child needs, prepared before fork(): after it, the child of a threaded
/// process may only make async-signal-safe calls (no allocation).
struct ChildPlan {
  struct Move {
    int target;  // the descriptor number in the child
    int source;  // ours
  };
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* working_dir = nullptr;
  pid_t parent = 0;
  Move fds[4] = {};
  int num_fds = 0;
};

[[noreturn]] void RunChild(const ChildPlan& plan, int error_fd) {
  auto fail = [&](int err) {
    (void)!::write(error_fd, &err, sizeof(err));
    ::_exit(127);
  };
  // Die with lakepipe, even by SIGKILL. If it died before prctl(), we were reparented.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
  if (::getppid() != plan.parent) ::_exit(127);
  // Its own process group, so stopping the child reaches its children too.
  if (::setpgid(0, 0) != 0) fail(errno);
  // The signal mask is inherited through exec, and a thread of ours may block signals
  // (SIGPIPE while writing a pipe): the program starts with none blocked.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // An ignored SIGPIPE is inherited too (when whoever started us ignored it).
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);
  // Every source above every target first: a dup2() must not overwrite a source that is
  // yet to be moved. The copies are close-on-exec, the targets are not.
  int moved[4];
  for (int i = 0; i < plan.num_fds; ++i) {
    moved[i] = ::fcntl(plan.fds[i].source, F_DUPFD_CLOEXEC, 10);
    if (moved[i] < 0) fail(errno);
  }
  for (int i = 0; i < plan.num_fds; ++i) {
    if (::dup2(moved[i], plan.fds[i].target) < 0) fail(errno);
  }
  if (plan.working_dir != nullptr && ::chdir(plan.working_dir) != 0) fail(errno);
  ::execve(plan.path, plan.argv, plan.envp);
  fail(errno);
  ::_exit(127);  // not reached: fail() exits
}

// fork() + exec; the exec's errno comes back through a close-on-exec pipe.
arrow::Result<pid_t> Spawn(const ChildPlan& plan) {
  UniqueFd error_read, error_write;
  if (!MakePipe(&error_read, &error_write)) {
    return arrow::Status::IOError(strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) return arrow::Status::IOError(strerror(errno));
  if (pid == 0) RunChild(plan, error_write.get());
  error_write.reset();
  (void)::setpgid(pid, pid);  // also here: a Terminate() right after Start() must reach it
  int err = 0;
  ssize_t n;
  do {
    n = ::read(error_read.get(), &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(err))) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return arrow::Status::IOError(strerror(err));
  }
  return pid;
}

// Processes other than us that have one of the pipes open. Pipe inodes come from a
// counter (get_next_ino), so a number is not soon reused by another pipe.
std::vector<pid_t> PipeHolders(const std::vector<uint64_t>& inodes) {
  std::vector<pid_t> holders;
  std::vector<std::string> wanted;
  for (uint64_t inode : inodes) {
    if (inode != 0) wanted.push_back(fmt::format("pipe:[{}]", inode));
  }
  if (wanted.empty()) return holders;
  const pid_t self = ::getpid();
  std::error_code ec;
  for (std::filesystem::directory_iterator proc("/proc", ec), end; !ec && proc != end;
       proc.increment(ec)) {
    const std::string name = proc->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == self) continue;
    std::error_code fd_ec;
    for (std::filesystem::directory_iterator fd(proc->path() / "fd", fd_ec), fd_end;
         !fd_ec && fd != fd_end; fd.increment(fd_ec)) {
      char target[64];
      const ssize_t n = ::readlink(fd->path().c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      const std::string_view link(target, static_cast<size_t>(n));
      if (std::find(wanted.begin(), wanted.end(), link) != wanted.end()) {
        holders.push_back(pid);
        break;
      }
    }
  }
  return holders;
}

// Singer taps and Python programs log through Python's logging: "… | WARNING | …",
// "level=ERROR …".
bool IsWarningLine(std::string_view line) {
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::string_view word : {"WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"}) {
    for (size_t pos = line.find(word); pos != std::string_view::npos;
         pos = line.find(word, pos + 1)) {
      const size_t after = pos + word.size();
      if ((pos == 0 || !word_char(line[pos - 1])) &&
          (after == line.size() || !word_char(line[after]))) {
        return true;
      }
    }
  }
  return false;
}

arrow::Result<UniqueFd> OpenDevNull(int flags) {
  UniqueFd fd(::open("/dev/null", flags | O_CLOEXEC));
  if (!fd.valid()) {
    return arrow::Status::IOError(fmt::format("opening /dev/null: {}", strerror(errno)));
  }
  return fd;
}

}  // namespace

std::string ChildProgramName(const std::vector<std::string>& argv) {
  // "python3 my_tap.py --flag" is named after the script, "tap-x" after itself.
  for (size_t i = 1; i < argv.size(); ++i) {
    if (argv[i].ends_with(".py")) return std::filesystem::path(argv[i]).filename().string();
  }
  return std::filesystem::path(argv[0]).filename().string();
}

arrow::Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const ChildLaunch& launch) {
  if (launch.argv.empty()) return arrow::Status::Invalid("no ", launch.role, " command");
  if (launch.ipc_fd >= 0 && launch.ipc_fd < 3) {
    return arrow::Status::Invalid("the IPC descriptor must be 3 or more, not ", launch.ipc_fd);
  }
  if (launch.stdin_mode == ChildStdio::kOurStderr) {
    return arrow::Status::Invalid("a child's stdin cannot be our stderr");
  }
  if (!launch.redact) return arrow::Status::Invalid("no redaction for ", launch.role, " stderr");
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->name_ = launch.name.empty() ? ChildProgramName(launch.argv) : launch.name;
  child->role_ = launch.role;
  child->redact_ = launch.redact;

  const std::string path = FindProgram(launch.argv[0]);
  if (path.empty()) {
    return arrow::Status::IOError(fmt::format("starting {} '{}': {} (is it installed and on PATH?)",
                                              launch.role, launch.argv[0], strerror(ENOENT)));
  }
  // Our ends of the pipes stay with us; the child's ends are closed once it has them.
  UniqueFd child_in, child_out, child_err, child_ipc;
  auto pipe_error = [&] {
    return arrow::Status::IOError(
        fmt::format("pipe for {} '{}': {}", launch.role, child->name_, strerror(errno)));
  };
  if (launch.stdin_mode == ChildStdio::kPipe) {
    if (!MakePipe(&child_in, &child->stdin_)) return pipe_error();
  } else {
    ARROW_ASSIGN_OR_RAISE(child_in, OpenDevNull(O_RDONLY));
  }
  if (launch.stdout_mode == ChildStdio::kPipe) {
    if (!MakePipe(&child->stdout_, &child_out)) return pipe_error();
    // A 1 MiB pipe instead of Linux's 64 KiB: the child and lakepipe then switch 16× less
    // often (pipe reads and writes were ~12% of an ingest's profile). Best effort: a
    // smaller /proc/sys/fs/pipe-max-size only costs speed.
    (void)::fcntl(child->stdout_.get(), F_SETPIPE_SZ, 1 << 20);
  } else if (launch.stdout_mode == ChildStdio::kNull) {
    ARROW_ASSIGN_OR_RAISE(child_out, OpenDevNull(O_WRONLY));
  }
  UniqueFd err_read;
  if (!MakePipe(&err_read, &child_err)) return pipe_error();
  if (launch.ipc_fd >= 3) {
    if (!MakePipe(&child->ipc_, &child_ipc)) return pipe_error();
    (void)::fcntl(child->ipc_.get(), F_SETPIPE_SZ, 1 << 20);
  }
  child->pipe_inodes_ = {child->stdout_.valid() ? InodeOf(child->stdout_.get()) : 0,
                         InodeOf(err_read.get()),
                         child->ipc_.valid() ? InodeOf(child->ipc_.get()) : 0};

  std::vector<std::string> env_entries;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (!launch.env.contains(std::string(entry.substr(0, entry.find('='))))) {
      env_entries.emplace_back(entry);
    }
  }
  for (const auto& [key, value] : launch.env) env_entries.push_back(key + "=" + value);
  std::vector<char*> cenv;
  for (auto& e : env_entries) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  std::vector<std::string> args = launch.argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  ChildPlan plan;
  plan.path = path.c_str();
  plan.argv = cargv.data();
  plan.envp = cenv.data();
  plan.working_dir = launch.working_dir.empty() ? nullptr : launch.working_dir.c_str();
  plan.parent = ::getpid();
  plan.fds[plan.num_fds++] = {0, child_in.get()};
  plan.fds[plan.num_fds++] = {1, launch.stdout_mode == ChildStdio::kOurStderr ? STDERR_FILENO
                                                                              : child_out.get()};
  plan.fds[plan.num_fds++] = {2, child_err.get()};
  if (child_ipc.valid()) plan.fds[plan.num_fds++] = {launch.ipc_fd, child_ipc.get()};
  auto pid = Spawn(plan);
  if (!pid.ok()) {
    return arrow::Status::IOError(fmt::format("starting {} '{}': {} (is it installed and on PATH?)",
                                              launch.role, launch.argv[0], pid.status().message()));
  }
  child->pid_ = *pid;
  child->stderr_thread_ =
      std::thread([c = child.get(), fd = err_read.release()] { c->DrainStderr(fd); });
  if (launch.timeout_seconds > 0) {
    child->watchdog_thread_ =
        std::thread([c = child.get(), s = launch.timeout_seconds] { c->Watchdog(s); });
  }
  return child;
}

void ChildProcess::DrainStderr(int fd) {
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    {
      std::lock_guard lock(mutex_);
      stderr_tail_.append(buffer, static_cast<size_t>(n));
      if (stderr_tail_.size() > 2 * kStderrTailBytes) {
        stderr_tail_.erase(0, stderr_tail_.size() - kStderrTailBytes);
      }
    }
    stderr_lines_ += std::count(buffer, buffer + n, '\n');
    std::string_view chunk(buffer, static_cast<size_t>(n));
    for (size_t newline = chunk.find('\n'); newline != std::string_view::npos;
         newline = chunk.find('\n')) {
      partial_line_.append(chunk.substr(0, std::min(newline, kMaxLineBytes)));
      OnStderrLine(partial_line_);
      partial_line_.clear();
      chunk.remove_prefix(newline + 1);
    }
    if (partial_line_.size() < kMaxLineBytes) {
      partial_line_.append(chunk.substr(0, kMaxLineBytes - partial_line_.size()));
    }
  }
  if (!partial_line_.empty()) OnStderrLine(partial_line_);
  ::close(fd);
  stderr_done_ = true;
}

void ChildProcess::OnStderrLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!IsWarningLine(line)) return;
  const int64_t count = ++warning_lines_;
  {
    std::lock_guard lock(mutex_);
    last_warning_ = std::string(line);
  }
  // On the console, so a child that warns and then succeeds with nothing is not silent.
  if (count <= kEchoedWarnings) {
    spdlog::warn("{} '{}': {}", role_, name_, redact_(line));
  } else if (count == kEchoedWarnings + 1) {
    spdlog::warn("{} '{}': more warnings not shown (the run log keeps the end of its stderr)",
                 role_, name_);
  }
}

std::string ChildProcess::LastWarning() const {
  std::lock_guard lock(mutex_);
  return last_warning_;
}

void ChildProcess::Watchdog(double timeout_seconds) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  // Until the child is reaped and its stderr has ended: the bound covers all of it.
  while (!finished_.load()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out_ = true;
      Terminate();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void ChildProcess::SignalAll(int signal) {
  {
    std::lock_guard lock(reap_mutex_);
    if (!reaped_ && pid_ > 0) ::kill(-pid_, signal);
  }
  for (pid_t holder : PipeHolders(pipe_inodes_)) ::kill(holder, signal);
}

bool ChildProcess::LeaderExited() const {
  std::lock_guard lock(reap_mutex_);
  if (reaped_) return true;
  // Without reaping it: Wait() still reports how it ended.
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid_;
}

void ChildProcess::Terminate() {
  if (pid_ <= 0 || finished_.load()) return;
  SignalAll(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kTerminateGrace;
  while (std::chrono::steady_clock::now() < deadline && !LeaderExited()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Also when the child obeyed: what is left of its group, and whoever still holds its
  // pipes (a reader of its output waits for them), must not outlive it.
  SignalAll(SIGKILL);
}

bool ChildProcess::ExitsWithin(double seconds) const {
  if (pid_ <= 0 || exited_.load()) return true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    if (LeaderExited()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

std::string ChildProcess::StderrTail() const {
  std::lock_guard lock(mutex_);
  std::string tail = stderr_tail_.size() > kStderrTailBytes
                         ? stderr_tail_.substr(stderr_tail_.size() - kStderrTailBytes)
                         : stderr_tail_;
  return tail;
}

arrow::Status ChildProcess::Wait() {
  stdin_.reset();  // the end of its input
  // A child still writing gets EPIPE (or dies of SIGPIPE) rather than blocking forever.
  stdout_.reset();
  ipc_.reset();
  if (!wait_status_) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
    int status = 0;
    {
      std::lock_guard lock(reap_mutex_);
      // The leader is a zombie until reaped, so its group id is still the child's: what
      // is left of the group goes with it.
      ::kill(-pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    wait_status_ = status;
    exited_ = true;
  }
  // A process that left the group (setsid) may still hold stderr: a moment, then stop it.
  const auto linger = std::chrono::steady_clock::now() + kStderrLinger;
  while (!stderr_done_.load() && std::chrono::steady_clock::now() < linger) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!stderr_done_.load()) SignalAll(SIGKILL);
  if (stderr_thread_.joinable()) stderr_thread_.join();
  finished_ = true;
  if (watchdog_thread_.joinable()) watchdog_thread_.join();
  const int status = *wait_status_;
  auto last_lines = [&] {
    std::string tail = StderrTail();
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
    // The last few lines say what went wrong; keep the message to one readable line.
    size_t start = tail.size();
    for (int lines = 0; lines < 5 && start > 0; ++lines) {
      const size_t newline = tail.rfind('\n', start - 1);
      start = newline == std::string::npos ? 0 : newline;
    }
    std::string last = tail.substr(start);
    if (!last.empty() && last.front() == '\n') last.erase(0, 1);
    for (auto& c : last) {
      if (c == '\n') c = '|';
    }
    return last.empty() ? std::string() : ": " + last;
  };
  if (timed_out_) {
    return arrow::Status::IOError(
        fmt::format("{} '{}' timed out and was stopped{}", role_, name_, last_lines()));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return arrow::Status::IOError(fmt::format("{} '{}' exited with status {}{}", role_, name_,
                                              WEXITSTATUS(status), last_lines()));
  }
  if (WIFSIGNALED(status)) {
    return arrow::Status::IOError(fmt::format("{} '{}' was killed by signal {}{}", role_, name_,
                                              WTERMSIG(status), last_lines()));
  }
  return arrow::Status::OK();
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exited_.load()) {
    Terminate();
    (void)Wait();
  }
  if (stderr_thread_.joinable()) stderr_thread_.join();
  if (watchdog_thread_.joinable()) watchdog_thread_.join();
}

}  // namespace lakepipe
