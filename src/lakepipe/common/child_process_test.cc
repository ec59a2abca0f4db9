#include "lakepipe/common/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "lakepipe/common/pipe_streams.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

bool CloseOnExec(const UniqueFd& fd) {
  const int flags = ::fcntl(fd.get(), F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC) != 0;
}

ChildLaunch Shell(const std::string& script) {
  ChildLaunch launch;
  launch.redact = [](std::string_view line) { return std::string(line); };
  launch.argv = {"/bin/sh", "-c", script};
  return launch;
}

TEST(ChildProcessTest, ReadsStdoutAndReportsExitStatusWithStderr) {
  auto launch = Shell("echo hello; echo 'it broke' >&2; exit 3");
  launch.role = "helper";
  launch.name = "broken";
  ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Start(launch));
  UniqueFd out = child->TakeStdout();
  ASSERT_TRUE(out.valid());
  EXPECT_TRUE(CloseOnExec(out));
  EXPECT_FALSE(child->TakeStdout().valid()) << "a pipe is handed over once";
  EXPECT_FALSE(child->TakeStdin().valid()) << "stdin is /dev/null by default";
  EXPECT_EQ(ReadAll(out.get()), "hello\n");
  out.reset();
  ASSERT_NOT_OK_WITH(child->Wait(), "helper 'broken' exited with status 3: it broke");
  EXPECT_EQ(child->stderr_lines(), 1);
}

TEST(ChildProcessTest, StdinPipeReachesTheChild) {
  auto launch = Shell("cat");
  launch.stdin_mode = ChildStdio::kPipe;
  ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Start(launch));
  UniqueFd in = child->TakeStdin();
  ASSERT_TRUE(in.valid());
  EXPECT_TRUE(CloseOnExec(in));
  PipeOutputStream sink(in.release());
  ASSERT_OK(sink.Write("fed", 3));
  ASSERT_OK(sink.Close());  // the end of its input
  UniqueFd out = child->TakeStdout();
  EXPECT_EQ(ReadAll(out.get()), "fed");
  out.reset();
  ASSERT_OK(child->Wait());
}

TEST(ChildProcessTest, IpcDescriptorIsSeparateFromStdout) {
  auto launch = Shell("echo chatter; echo result >&4");
  launch.ipc_fd = 4;
  ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Start(launch));
  UniqueFd ipc = child->TakeIpc();
  UniqueFd out = child->TakeStdout();
  ASSERT_TRUE(ipc.valid());
  EXPECT_TRUE(CloseOnExec(ipc));
  EXPECT_EQ(ReadAll(ipc.get()), "result\n");
  EXPECT_EQ(ReadAll(out.get()), "chatter\n");
  ipc.reset();
  out.reset();
  ASSERT_OK(child->Wait());
}

TEST(ChildProcessTest, StdoutToNullOrOurStderrGivesNoPipe) {
  for (auto mode : {ChildStdio::kNull, ChildStdio::kOurStderr}) {
    auto launch = Shell("echo ignored >&2; echo ignored");
    launch.stdout_mode = mode;
    ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Start(launch));
    EXPECT_FALSE(child->TakeStdout().valid());
    ASSERT_OK(child->Wait());
  }
}

TEST(ChildProcessTest, RejectsALowIpcDescriptor) {
  auto launch = Shell("true");
  launch.ipc_fd = 1;
  ASSERT_NOT_OK_WITH(ChildProcess::Start(launch), "3 or more");
}

TEST(ChildProcessTest, MissingProgramSaysSo) {
  ChildLaunch launch;
  launch.redact = [](std::string_view line) { return std::string(line); };
  launch.argv = {"lakepipe-no-such-program"};
  launch.role = "tap";
  ASSERT_NOT_OK_WITH(ChildProcess::Start(launch),
                     "starting tap 'lakepipe-no-such-program': No such file or directory");
}

TEST(ChildProcessTest, TimeoutStopsTheChild) {
  auto launch = Shell("sleep 30");
  launch.timeout_seconds = 0.3;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Start(launch));
  ASSERT_NOT_OK_WITH(child->Wait(), "timed out and was stopped");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(ChildProcessTest, TerminateEndsAHungChild) {
  auto launch = Shell("trap '' TERM; sleep 30");
  ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Start(launch));
  EXPECT_FALSE(child->ExitsWithin(0.1));
  child->Terminate();  // SIGTERM is ignored: SIGKILL after the grace period
  ASSERT_NOT_OK_WITH(child->Wait(), "was killed by signal");
}

// Every descriptor we hold for a child is close-on-exec: a program started meanwhile
// must not hold another's pipe (its reader would never see the end of it).
TEST(ChildProcessTest, AnotherChildInheritsNoPipeOfTheFirst) {
  auto first = Shell("cat >&4");
  first.stdin_mode = ChildStdio::kPipe;
  first.ipc_fd = 4;
  ASSERT_OK_AND_ASSIGN(auto a, ChildProcess::Start(first));
  UniqueFd a_in = a->TakeStdin();
  UniqueFd a_ipc = a->TakeIpc();
  auto pipe_name = [](const UniqueFd& fd) {
    struct stat st{};
    EXPECT_EQ(::fstat(fd.get(), &st), 0);
    return "pipe:[" + std::to_string(st.st_ino) + "]";
  };
  ASSERT_OK_AND_ASSIGN(auto b, ChildProcess::Start(Shell("ls -l /proc/$$/fd")));
  UniqueFd b_out = b->TakeStdout();
  const std::string fds = ReadAll(b_out.get());
  EXPECT_NE(fds.find("0 -> /dev/null"), std::string::npos) << fds;
  EXPECT_EQ(fds.find(pipe_name(a_in)), std::string::npos) << fds;
  EXPECT_EQ(fds.find(pipe_name(a_ipc)), std::string::npos) << fds;
  b_out.reset();
  ASSERT_OK(b->Wait());
  ASSERT_OK(PipeOutputStream(a_in.release()).Write("x", 1));  // and closes it
  EXPECT_EQ(ReadAll(a_ipc.get()), "x");  // ends: no one else holds a's stdin
  a_ipc.reset();
  ASSERT_OK(a->Wait());
}

// Writing to a child that is gone fails with EPIPE; it neither kills us nor changes how
// the process handles SIGPIPE, and leaves no SIGPIPE pending.
TEST(ChildProcessTest, WritingToAnExitedChildIsAnErrorNotASignal) {
  struct sigaction before{};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &before), 0);
  auto launch = Shell("exec 0<&-; exit 0");
  launch.stdin_mode = ChildStdio::kPipe;
  ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Start(launch));
  PipeOutputStream sink(child->TakeStdin().release());
  ASSERT_TRUE(child->ExitsWithin(10));
  ASSERT_NOT_OK_WITH(sink.Write("x", 1), "Broken pipe");
  ASSERT_OK(child->Wait());
  struct sigaction after{};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
  sigset_t pending;
  sigemptyset(&pending);
  ASSERT_EQ(::sigpending(&pending), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  sigset_t mask;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, nullptr, &mask), 0);
  EXPECT_EQ(sigismember(&mask, SIGPIPE), 0) << "the thread's mask is restored";
}

}  // namespace
}  // namespace lakepipe
