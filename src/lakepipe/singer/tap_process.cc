#include "lakepipe/singer/tap_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

extern char** environ;

namespace lakepipe::singer {
namespace {

constexpr size_t kStderrTailBytes = 64 * 1024;
constexpr auto kTerminateGrace = std::chrono::seconds(5);

arrow::Status WritePrivateFile(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return arrow::Status::IOError(fmt::format("creating '{}': {}", path, strerror(errno)));
  }
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return arrow::Status::IOError(fmt::format("writing '{}': {}", path, strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return arrow::Status::OK();
}

std::string TapName(const std::vector<std::string>& argv) {
  // "python3 my_tap.py --flag" is named after the script, "tap-x" after itself.
  for (size_t i = 1; i < argv.size(); ++i) {
    if (argv[i].ends_with(".py")) return std::filesystem::path(argv[i]).filename().string();
  }
  return std::filesystem::path(argv[0]).filename().string();
}

}  // namespace

arrow::Result<std::unique_ptr<TapProcess>> TapProcess::Start(const TapLaunch& launch) {
  if (launch.argv.empty()) return arrow::Status::Invalid("no tap command");
  // A child that exits while we write its stdin must give EPIPE, not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<TapProcess> tap(new TapProcess());
  tap->name_ = TapName(launch.argv);
  tap->role_ = launch.role;

  char dir_template[] = "/tmp/lakepipe-tap-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    return arrow::Status::IOError(
        fmt::format("creating a temp folder for tap '{}': {}", tap->name_, strerror(errno)));
  }
  tap->temp_dir_ = dir_template;  // mkdtemp makes it 0700
  std::vector<std::string> args = launch.argv;
  auto add_file = [&](const char* flag, const char* file, const auto& json) -> arrow::Status {
    if (!json) return arrow::Status::OK();
    const std::string path = tap->temp_dir_ + "/" + file;
    ARROW_RETURN_NOT_OK(WritePrivateFile(path, json->dump()));
    args.push_back(flag);
    args.push_back(path);
    return arrow::Status::OK();
  };
  ARROW_RETURN_NOT_OK(add_file("--config", "config.json", launch.config));
  ARROW_RETURN_NOT_OK(add_file("--state", "state.json", launch.state));
  ARROW_RETURN_NOT_OK(add_file("--catalog", "catalog.json", launch.catalog));
  args.insert(args.end(), launch.extra_args.begin(), launch.extra_args.end());

  int out_pipe[2];
  int err_pipe[2];
  int in_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      (launch.stdin_pipe && ::pipe2(in_pipe, O_CLOEXEC) != 0)) {
    return arrow::Status::IOError(
        fmt::format("pipe for tap '{}': {}", tap->name_, strerror(errno)));
  }
  // A 1 MiB pipe instead of Linux's 64 KiB: the tap and lakepipe then switch 16× less
  // often (pipe reads and writes were ~12% of an ingest's profile). Best effort: a smaller
  // /proc/sys/fs/pipe-max-size only costs speed.
  (void)::fcntl(out_pipe[0], F_SETPIPE_SZ, 1 << 20);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (launch.stdin_pipe) {
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!launch.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, launch.working_dir.c_str());
  }
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
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so Terminate() reaches the tap's children too.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const int rc = ::posix_spawnp(&tap->pid_, cargv[0], &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (in_pipe[0] >= 0) ::close(in_pipe[0]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    if (in_pipe[1] >= 0) ::close(in_pipe[1]);
    tap->pid_ = -1;
    return arrow::Status::IOError(fmt::format("starting {} '{}': {} (is it installed and on PATH?)",
                                              launch.role, launch.argv[0], strerror(rc)));
  }
  tap->stdout_fd_ = out_pipe[0];
  tap->stdin_fd_ = in_pipe[1];
  tap->stderr_thread_ = std::thread([t = tap.get(), fd = err_pipe[0]] { t->DrainStderr(fd); });
  if (launch.timeout_seconds > 0) {
    tap->watchdog_thread_ =
        std::thread([t = tap.get(), s = launch.timeout_seconds] { t->Watchdog(s); });
  }
  return tap;
}

void TapProcess::DrainStderr(int fd) {
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    stderr_tail_.append(buffer, static_cast<size_t>(n));
    if (stderr_tail_.size() > 2 * kStderrTailBytes) {
      stderr_tail_.erase(0, stderr_tail_.size() - kStderrTailBytes);
    }
    stderr_lines_ += std::count(buffer, buffer + n, '\n');
  }
  ::close(fd);
}

void TapProcess::Watchdog(double timeout_seconds) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (!exited_.load()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out_ = true;
      Terminate();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void TapProcess::Terminate() {
  if (pid_ <= 0 || exited_.load()) return;
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kTerminateGrace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (exited_.load() || ::kill(pid_, 0) != 0) return;
    // A zombie still answers kill(0): check whether it has exited without reaping it.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid_, SIGKILL);
}

bool TapProcess::ExitsWithin(double seconds) const {
  if (pid_ <= 0 || exited_.load()) return true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

std::string TapProcess::StderrTail() const {
  std::lock_guard lock(mutex_);
  std::string tail = stderr_tail_.size() > kStderrTailBytes
                         ? stderr_tail_.substr(stderr_tail_.size() - kStderrTailBytes)
                         : stderr_tail_;
  return tail;
}

arrow::Status TapProcess::Wait() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
  if (stdout_fd_ >= 0) {
    ::close(stdout_fd_);  // a tap still writing gets SIGPIPE rather than blocking forever
    stdout_fd_ = -1;
  }
  if (!wait_status_) {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    wait_status_ = status;
    exited_ = true;
  }
  if (stderr_thread_.joinable()) stderr_thread_.join();
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

TapProcess::~TapProcess() {
  if (pid_ > 0 && !exited_.load()) {
    Terminate();
    (void)Wait();
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (stderr_thread_.joinable()) stderr_thread_.join();
  if (watchdog_thread_.joinable()) watchdog_thread_.join();
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

}  // namespace lakepipe::singer
