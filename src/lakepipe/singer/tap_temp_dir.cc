#include "lakepipe/singer/tap_temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "lakepipe/common/process_start.h"

namespace lakepipe::singer {
namespace {

constexpr std::string_view kPrefix = "lakepipe-tap-";

// "<pid>-<start>-XXXXXX" → pid and start; false for names of another shape (the old
// lakepipe-tap-XXXXXX folders among them: their owner is unknown, so they are kept).
bool ParseOwner(std::string_view rest, int* pid, long long* start) {
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos) return false;
  const size_t dash2 = rest.find('-', dash + 1);
  if (dash2 == std::string_view::npos) return false;
  const char* p = rest.data();
  auto [end1, ec1] = std::from_chars(p, p + dash, *pid);
  auto [end2, ec2] = std::from_chars(p + dash + 1, p + dash2, *start);
  return ec1 == std::errc() && end1 == p + dash && ec2 == std::errc() && end2 == p + dash2 &&
         *pid > 0;
}

}  // namespace

std::string TempRoot() {
  const char* dir = std::getenv("TMPDIR");
  std::string root = dir != nullptr && *dir != '\0' ? dir : "/tmp";
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

int SweepDeadTapTempDirs(const std::string& parent) {
  // Without /proc every owner would look gone: then keep everything.
  if (ProcessStartTicks(::getpid()) < 0) return 0;
  std::error_code ec;
  std::filesystem::directory_iterator it(parent, ec);
  if (ec) return 0;
  int removed = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (!name.starts_with(kPrefix)) continue;
    int pid = 0;
    long long start = 0;
    if (!ParseOwner(std::string_view(name).substr(kPrefix.size()), &pid, &start)) continue;
    struct stat st{};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) {
      continue;  // not ours to judge
    }
    if (ProcessStartTicks(pid) == start) continue;  // the owner still runs
    std::filesystem::remove_all(it->path(), ec);
    if (!ec) ++removed;
  }
  return removed;
}

arrow::Result<std::string> MakeTapTempDir() {
  const std::string root = TempRoot();
  static std::once_flag swept;
  std::call_once(swept, [&] { (void)SweepDeadTapTempDirs(root); });
  std::string path =
      fmt::format("{}/{}{}-{}-XXXXXX", root, kPrefix, ::getpid(), ProcessStartTicks(::getpid()));
  if (::mkdtemp(path.data()) == nullptr) {  // mkdtemp makes it 0700
    return arrow::Status::IOError(
        fmt::format("creating a temp folder under '{}': {}", root, strerror(errno)));
  }
  return path;
}

}  // namespace lakepipe::singer
