#include "lakepipe/common/pipe_streams.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <arrow/buffer.h>
#include <fmt/format.h>

namespace lakepipe {

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
  int64_t done = 0;
  while (done < nbytes) {
    const ssize_t n =
        ::write(fd_, static_cast<const char*>(data) + done, static_cast<size_t>(nbytes - done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return arrow::Status::IOError(fmt::format("writing a pipe: {}", strerror(errno)));
    done += n;
  }
  position_ += done;
  return arrow::Status::OK();
}

}  // namespace lakepipe
