#include "lakepipe/storage/atomic_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "lakepipe/storage/errors.h"

namespace lakepipe::storage {
namespace {

// Forces a file's (or folder's) content to disk: like write() then fsync().
arrow::Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return arrow::Status::IOError(fmt::format("open for fsync: {}", strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return arrow::Status::IOError(fmt::format("fsync: {}", strerror(err)));
  return arrow::Status::OK();
}

std::string TempSibling(const Uri& uri) {
  std::random_device rd;
  const auto parent = std::filesystem::path(uri.key()).parent_path();
  return (parent / fmt::format(".{}.tmp-{}-{:08x}", uri.Name(), ::getpid(), rd())).string();
}

}  // namespace

arrow::Result<std::shared_ptr<AtomicWriter>> AtomicWriter::Open(
    std::shared_ptr<arrow::fs::FileSystem> fs, const Uri& uri) {
  std::string temp_path;
  std::string target = uri.FileSystemPath();
  if (uri.is_local()) {
    auto status = fs->CreateDir(uri.Parent().FileSystemPath(), /*recursive=*/true);
    if (!status.ok()) return OperationFailed("creating folder for", uri, status);
    temp_path = TempSibling(uri);
    target = temp_path;
  }
  auto stream = fs->OpenOutputStream(target);
  if (!stream.ok()) return OperationFailed("writing", uri, stream.status());
  return std::shared_ptr<AtomicWriter>(
      new AtomicWriter(std::move(fs), uri, std::move(temp_path), std::move(*stream)));
}

AtomicWriter::AtomicWriter(std::shared_ptr<arrow::fs::FileSystem> fs, Uri uri,
                           std::string temp_path,
                           std::shared_ptr<arrow::io::OutputStream> stream)
    : fs_(std::move(fs)), uri_(std::move(uri)), temp_path_(std::move(temp_path)),
      stream_(std::move(stream)) {}

AtomicWriter::~AtomicWriter() {
  if (!closed_) (void)Abort();
}

arrow::Status AtomicWriter::Fail(std::string_view operation, const arrow::Status& cause) {
  (void)Abort();
  return OperationFailed(operation, uri_, cause);
}

arrow::Result<int64_t> AtomicWriter::Tell() const { return stream_->Tell(); }

arrow::Status AtomicWriter::Write(const void* data, int64_t nbytes) {
  if (closed_) return arrow::Status::Invalid(fmt::format("'{}': write after close", uri_.ToString()));
  auto status = stream_->Write(data, nbytes);
  return status.ok() ? status : Fail("writing", status);
}

arrow::Status AtomicWriter::Write(const std::shared_ptr<arrow::Buffer>& data) {
  if (closed_) return arrow::Status::Invalid(fmt::format("'{}': write after close", uri_.ToString()));
  auto status = stream_->Write(data);
  return status.ok() ? status : Fail("writing", status);
}

arrow::Status AtomicWriter::Flush() {
  auto status = stream_->Flush();
  return status.ok() ? status : Fail("writing", status);
}

arrow::Status AtomicWriter::Close() {
  if (closed_) return arrow::Status::OK();
  auto status = stream_->Close();
  if (!status.ok()) return Fail("completing", status);
  if (!temp_path_.empty()) {
    status = SyncPath(temp_path_);
    if (status.ok()) status = fs_->Move(temp_path_, uri_.FileSystemPath());
    if (status.ok()) status = SyncPath(uri_.Parent().FileSystemPath());
    if (!status.ok()) return Fail("publishing", status);
  }
  closed_ = true;
  return arrow::Status::OK();
}

arrow::Status AtomicWriter::Abort() {
  if (closed_) return arrow::Status::OK();
  closed_ = true;
  auto status = stream_->Abort();
  if (!temp_path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(temp_path_, ec);
  }
  return status;
}

}  // namespace lakepipe::storage
