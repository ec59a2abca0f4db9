#include "lakepipe/common/pipe_streams.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <arrow/buffer.h>
#include <fmt/format.h>

namespace lakepipe {
namespace {

// A write to a pipe whose reader is gone (a child program that exited) raises SIGPIPE,
// which kills the process by default. Rather than ignore SIGPIPE for the whole process
// (that would change how every other write of ours fails, e.g. `lakepipe query | head`
// no longer ending quietly), the writing thread blocks it for the duration of the write
// and, when the write failed with EPIPE, takes the SIGPIPE it raised off the pending set
// (it is sent to the thread that wrote). One that was pending before is left alone.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    blocked_ = ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;
  ~ScopedSigpipeBlock() {
    if (!blocked_) return;
    if (saw_epipe_ && !was_pending_) {
      const struct timespec no_wait{0, 0};
      while (::sigtimedwait(&pipe_, nullptr, &no_wait) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void SawEpipe() { saw_epipe_ = true; }

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
  bool blocked_ = false;
  bool saw_epipe_ = false;
};

}  // namespace

PipeInputStream::~PipeInputStream() { (void)Close(); }

arrow::Status PipeInputStream::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return arrow::Status::OK();
}

arrow::Result<int64_t> PipeInputStream::Read(int64_t nbytes, void* out) {
  if (fd_ < 0) return arrow::Status::Invalid("read from a closed pipe");
  int64_t done = 0;
  while (done < nbytes) {
    const ssize_t n =
        ::read(fd_, static_cast<char*>(out) + done, static_cast<size_t>(nbytes - done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return arrow::Status::IOError(fmt::format("reading a pipe: {}", strerror(errno)));
    if (n == 0) break;  // end of input
    done += n;
  }
  position_ += done;
  return done;
}

arrow::Result<std::shared_ptr<arrow::Buffer>> PipeInputStream::Read(int64_t nbytes) {
  ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::AllocateResizableBuffer(nbytes));
  ARROW_ASSIGN_OR_RAISE(int64_t n, Read(nbytes, buffer->mutable_data()));
  ARROW_RETURN_NOT_OK(buffer->Resize(n, /*shrink_to_fit=*/false));
  return std::shared_ptr<arrow::Buffer>(std::move(buffer));
}

PipeOutputStream::~PipeOutputStream() { (void)Close(); }

arrow::Status PipeOutputStream::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return arrow::Status::OK();
}

arrow::Status PipeOutputStream::Write(const void* data, int64_t nbytes) {
  if (fd_ < 0) return arrow::Status::Invalid("write to a closed pipe");
  ScopedSigpipeBlock no_sigpipe;
  int64_t done = 0;
  while (done < nbytes) {
    const ssize_t n =
        ::write(fd_, static_cast<const char*>(data) + done, static_cast<size_t>(nbytes - done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      if (err == EPIPE) no_sigpipe.SawEpipe();
      return arrow::Status::IOError(fmt::format("writing a pipe: {}", strerror(err)));
    }
    done += n;
  }
  position_ += done;
  return arrow::Status::OK();
}

}  // namespace lakepipe
