#include "lakepipe/singer/tap_process.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "lakepipe/singer/tap_temp_dir.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::singer {
namespace {

arrow::Status WritePrivateFile(const std::string& path, const std::string& content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return arrow::Status::IOError(fmt::format("creating '{}': {}", path, strerror(errno)));
  }
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return arrow::Status::IOError(fmt::format("writing '{}': {}", path, strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return arrow::Status::OK();
}

}  // namespace

arrow::Result<std::unique_ptr<TapProcess>> TapProcess::Start(const TapLaunch& launch) {
  if (launch.argv.empty()) return arrow::Status::Invalid("no tap command");
  ChildLaunch child;
  child.redact = [](std::string_view line) { return storage::RedactSecrets(line); };
  child.role = "tap";
  child.stdin_mode = ChildStdio::kNull;
  child.stdout_mode = ChildStdio::kPipe;
  child.timeout_seconds = launch.timeout_seconds;
  child.argv = launch.argv;
  // Named after the command the user gave, not the temp files appended below.
  child.name = ChildProgramName(launch.argv);
  std::unique_ptr<TapProcess> tap(new TapProcess());
  auto temp_dir = MakeTapTempDir();
  if (!temp_dir.ok()) {
    return temp_dir.status().WithMessage(
        fmt::format("tap '{}': {}", child.name, temp_dir.status().message()));
  }
  tap->temp_dir_ = *temp_dir;
  auto add_file = [&](const char* flag, const char* file, const auto& json) -> arrow::Status {
    if (!json) return arrow::Status::OK();
    const std::string path = tap->temp_dir_ + "/" + file;
    ARROW_RETURN_NOT_OK(WritePrivateFile(path, json->dump()));
    child.argv.push_back(flag);
    child.argv.push_back(path);
    return arrow::Status::OK();
  };
  ARROW_RETURN_NOT_OK(add_file("--config", "config.json", launch.config));
  ARROW_RETURN_NOT_OK(add_file("--state", "state.json", launch.state));
  ARROW_RETURN_NOT_OK(add_file("--catalog", "catalog.json", launch.catalog));
  child.argv.insert(child.argv.end(), launch.extra_args.begin(), launch.extra_args.end());
  ARROW_ASSIGN_OR_RAISE(tap->process_, ChildProcess::Start(child));
  tap->stdout_ = tap->process_->TakeStdout();
  return tap;
}

TapProcess::~TapProcess() {
  stdout_.reset();
  process_.reset();  // stops the tap before its files go
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

}  // namespace lakepipe::singer
