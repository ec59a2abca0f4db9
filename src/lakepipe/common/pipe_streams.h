#pragma once

#include <arrow/io/interfaces.h>
#include <arrow/result.h>

namespace lakepipe {

/// Arrow streams over a pipe's file descriptor (Arrow's file streams seek, which pipes
/// cannot). Each owns its descriptor and closes it on Close() or destruction.
class PipeInputStream : public arrow::io::InputStream {
 public:
  explicit PipeInputStream(int fd) : fd_(fd) {}
  ~PipeInputStream() override;
  arrow::Status Close() override;
  bool closed() const override { return fd_ < 0; }
  arrow::Result<int64_t> Tell() const override { return position_; }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override;
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override;

 private:
  int fd_;
  int64_t position_ = 0;
};

/// Writing after the reader is gone (a child program that exited) fails with an IOError
/// (EPIPE): SIGPIPE is blocked in the writing thread during Write(), not ignored
/// process-wide.
class PipeOutputStream : public arrow::io::OutputStream {
 public:
  explicit PipeOutputStream(int fd) : fd_(fd) {}
  ~PipeOutputStream() override;
  arrow::Status Close() override;
  bool closed() const override { return fd_ < 0; }
  arrow::Result<int64_t> Tell() const override { return position_; }
  arrow::Status Write(const void* data, int64_t nbytes) override;

 private:
  int fd_;
  int64_t position_ = 0;
};

}  // namespace lakepipe
