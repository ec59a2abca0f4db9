#include "lakepipe/storage/atomic_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include <arrow/buffer.h>

#include <fmt/format.h>

#include "lakepipe/storage/errors.h"
#include "lakepipe/common/error_subject.h"

namespace lakepipe::storage {
namespace {

// Arrow's object-store streams upload parts in the background and accept writes without
// limit, so a fast producer would buffer a whole file in memory. Waiting for the uploads
// every so many bytes keeps memory flat.
constexpr int64_t kMaxUnflushedBytes = 32 << 20;

// A hidden name beside the target; listings skip it and readers such as pyarrow's
// dataset ignore names starting with '.'.
std::string StagingSibling(const Uri& uri) {
  std::random_device rd;
  return uri.Parent()
      .Join(fmt::format(".{}.tmp-{}-{:08x}", uri.Name(), ::getpid(), rd()))
      .FileSystemPath();
}

}  // namespace

arrow::Status SyncLocalPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return arrow::Status::IOError(fmt::format("open for fsync: {}", strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return arrow::Status::IOError(fmt::format("fsync: {}", strerror(err)));
  return arrow::Status::OK();
}

arrow::Result<std::shared_ptr<AtomicWriter>> AtomicWriter::Open(
    std::shared_ptr<arrow::fs::FileSystem> fs, const Uri& uri, Guards guards) {
  std::optional<HungCallWatchdog::Watch> watch;
  if (guards.watchdog) {
    watch.emplace(guards.watchdog->Start(fmt::format("writing '{}'", uri.ToString())));
  }
  Publish publish = Publish::kComplete;
  std::string staging_path;
  if (uri.is_local()) {
    auto status = fs->CreateDir(uri.Parent().FileSystemPath(), /*recursive=*/true);
    if (!status.ok()) return OperationFailed("creating folder for", uri, status);
    publish = Publish::kRename;
  } else if (uri.provider() != Provider::kS3) {
    publish = Publish::kCopyFromStaging;
  }
  if (publish != Publish::kComplete) staging_path = StagingSibling(uri);
  auto stream = fs->OpenOutputStream(staging_path.empty() ? uri.FileSystemPath() : staging_path);
  if (!stream.ok()) return OperationFailed("writing", uri, stream.status());
  return std::shared_ptr<AtomicWriter>(new AtomicWriter(
      std::move(fs), uri, publish, std::move(staging_path), std::move(*stream), std::move(guards)));
}

AtomicWriter::AtomicWriter(std::shared_ptr<arrow::fs::FileSystem> fs, Uri uri, Publish publish,
                           std::string staging_path,
                           std::shared_ptr<arrow::io::OutputStream> stream, Guards guards)
    : fs_(std::move(fs)),
      uri_(std::move(uri)),
      publish_(publish),
      staging_path_(std::move(staging_path)),
      stream_(std::move(stream)),
      guards_(std::move(guards)) {}

std::optional<HungCallWatchdog::Watch> AtomicWriter::Watched(std::string_view operation) const {
  if (!guards_.watchdog) return std::nullopt;
  return guards_.watchdog->Start(fmt::format("{} '{}'", operation, uri_.ToString()));
}

AtomicWriter::~AtomicWriter() {
  if (!closed_) (void)Abort();
}

arrow::Status AtomicWriter::Fail(std::string_view operation, const arrow::Status& cause) {
  // The stream's client has retried already; a transient failure means the store is down.
  if (guards_.retry) guards_.retry->GaveUp(cause);
  failed_ = true;
  (void)Abort();
  return OperationFailed(operation, uri_, cause);
}

arrow::Status AtomicWriter::WriteAfterClose() const {
  return Naming(arrow::Status::Invalid(fmt::format("'{}': write after close", uri_.ToString())),
                Subject::Uri(uri_.ToString()));
}

arrow::Result<int64_t> AtomicWriter::Tell() const { return stream_->Tell(); }

arrow::Status AtomicWriter::Write(const void* data, int64_t nbytes) {
  if (closed_) return WriteAfterClose();
  auto watch = Watched("writing");
  auto status = stream_->Write(data, nbytes);
  return status.ok() ? Written(nbytes) : Fail("writing", status);
}

arrow::Status AtomicWriter::Write(const std::shared_ptr<arrow::Buffer>& data) {
  if (closed_) return WriteAfterClose();
  auto watch = Watched("writing");
  auto status = stream_->Write(data);
  return status.ok() ? Written(data->size()) : Fail("writing", status);
}

arrow::Status AtomicWriter::Written(int64_t nbytes) {
  if (publish_ == Publish::kRename) return arrow::Status::OK();
  unflushed_bytes_ += nbytes;
  if (unflushed_bytes_ < kMaxUnflushedBytes) return arrow::Status::OK();
  unflushed_bytes_ = 0;
  return Flush();
}

arrow::Status AtomicWriter::Flush() {
  auto watch = Watched("writing");
  auto status = stream_->Flush();
  return status.ok() ? status : Fail("writing", status);
}

arrow::Status AtomicWriter::Close() {
  if (closed_) return arrow::Status::OK();
  auto watch = Watched("completing");
  auto status = stream_->Close();
  if (!status.ok()) return Fail("completing", status);
  status = PublishStaged();
  if (!status.ok()) {
    closed_ = true;
    DiscardStaged();
    return OperationFailed("publishing", uri_, status);
  }
  closed_ = true;
  if (guards_.on_published) guards_.on_published();
  return arrow::Status::OK();
}

arrow::Status AtomicWriter::PublishStaged() {
  const std::string target = uri_.FileSystemPath();
  switch (publish_) {
    case Publish::kComplete:
      return arrow::Status::OK();
    case Publish::kRename:
      ARROW_RETURN_NOT_OK(SyncLocalPath(staging_path_));
      ARROW_RETURN_NOT_OK(fs_->Move(staging_path_, target));
      return SyncLocalPath(uri_.Parent().FileSystemPath());
    case Publish::kCopyFromStaging:
      ARROW_RETURN_NOT_OK(fs_->CopyFile(staging_path_, target));
      // The target is published; a staging object left by a failed delete is garbage
      // that listings hide, so the write still succeeded.
      DiscardStaged();
      return arrow::Status::OK();
  }
  return arrow::Status::OK();
}

void AtomicWriter::DiscardStaged() {
  if (staging_path_.empty()) return;
  if (publish_ == Publish::kRename) {
    std::error_code ec;
    std::filesystem::remove(staging_path_, ec);
  } else {
    (void)fs_->DeleteFile(staging_path_);
  }
}

arrow::Status AtomicWriter::Abort() {
  if (closed_) return arrow::Status::OK();
  closed_ = true;
  auto watch = Watched("discarding");
  // Arrow's Azure stream uploads blocks in the background and its Abort() does not wait
  // for them: a block still in flight when the process exits threw from the SDK's thread
  // (std::terminate). Waiting first keeps the abort clean; what it uploads is staging.
  // Not after a failure: the store is in trouble, and a flush would only wait on it.
  if (publish_ == Publish::kCopyFromStaging && !failed_) (void)stream_->Flush();
  // GCS cannot abort an upload (Abort() finalizes it), which is why it writes to staging.
  auto status = stream_->Abort();
  DiscardStaged();
  return status;
}

}  // namespace lakepipe::storage
