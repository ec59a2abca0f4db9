#include "lakepipe/storage/storage.h"

#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/storage/errors.h"
#include "lakepipe/storage/filesystem_factory.h"
#include "lakepipe/storage/redact.h"
#include "lakepipe/storage/retry.h"

namespace lakepipe::storage {
namespace {

// Large enough to keep object-store parts full, small enough to keep memory flat.
constexpr int64_t kCopyChunkBytes = 8 << 20;

FileEntry EntryOf(const Uri& base, const std::string& base_path, const arrow::fs::FileInfo& info) {
  FileEntry entry{base, info.size(), info.IsDirectory(),
                  std::chrono::time_point_cast<std::chrono::system_clock::duration>(info.mtime())};
  std::string_view path = info.path();
  if (path.starts_with(base_path)) {
    path.remove_prefix(base_path.size());
    entry.uri = base.Join(path);
  }
  return entry;
}

// Hidden temp files of AtomicWriter are not objects anyone wrote yet.
bool IsWriterTemp(const arrow::fs::FileInfo& info) {
  const std::string name = info.base_name();
  return name.starts_with(".") && name.find(".tmp-") != std::string::npos;
}

bool IsSymlink(const std::string& local_path) {
  struct stat st;
  return ::lstat(local_path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// Arrow's local listing follows symlinked folders (stat, not lstat): a link to elsewhere
// lists files that are not below the folder at all, and a link back into it ("loop -> .")
// lists the same files again under ever longer paths (two such links: exponentially many).
// Callers delete what List returns, so local folders are walked one level at a time and
// symlinked folders are neither listed nor entered.
arrow::Result<std::vector<arrow::fs::FileInfo>> ListLocalWithoutLinks(
    RetryPolicy& retry, arrow::fs::FileSystem* fs, const std::string& base_path) {
  std::vector<arrow::fs::FileInfo> out;
  std::vector<std::string> folders = {base_path};
  while (!folders.empty()) {
    arrow::fs::FileSelector selector;
    selector.base_dir = folders.back();
    selector.allow_not_found = true;
    folders.pop_back();
    ARROW_ASSIGN_OR_RAISE(auto infos, retry.Call<std::vector<arrow::fs::FileInfo>>(
                                          [&] { return fs->GetFileInfo(selector); }));
    for (auto& info : infos) {
      if (info.IsDirectory()) {
        if (IsSymlink(info.path())) continue;
        folders.push_back(info.path());
      }
      out.push_back(std::move(info));
    }
  }
  return out;
}

// A failed write of `uri`: the atomic writer's own errors name the URI already; the retry
// policy's refusal (the store failed every retry moments ago) does not, so it is named here.
arrow::Status WriteFailed(const Uri& uri, const arrow::Status& status) {
  for (const auto& subject : SubjectsOf(status)) {
    if (subject.kind == Subject::Kind::kUri) return status;
  }
  return OperationFailed("writing", uri, status);
}

}  // namespace

arrow::Result<std::unique_ptr<Storage>> Storage::Make(StorageOptions options) {
  return std::unique_ptr<Storage>(new Storage(std::move(options)));
}

Storage::Storage(StorageOptions options)
    : options_(std::move(options)),
      watchdog_(std::make_shared<HungCallWatchdog>(std::chrono::duration<double>(
          options_.retry.deadline_seconds + options_.retry.hung_call_seconds))) {}

HungCallWatchdog::Watch Storage::Watched(std::string_view operation, const Uri& uri) {
  std::string what = fmt::format("{} '{}'", operation, uri.ToString());
  spdlog::debug("{}", RedactSecrets(what));  // -vv: every call to the store
  return watchdog_->Start(std::move(what));
}

arrow::Result<Storage::Endpoint> Storage::EndpointFor(const Uri& uri) {
  const std::string cache_key =
      fmt::format("{}|{}", ProviderName(uri.provider()),
                  uri.provider() == Provider::kAzure ? uri.account() : "");
  std::lock_guard lock(mutex_);
  auto it = endpoints_.find(cache_key);
  if (it != endpoints_.end()) return it->second;
  ARROW_ASSIGN_OR_RAISE(auto fs, MakeFileSystem(uri, options_));
  Endpoint endpoint{std::move(fs), std::make_shared<RetryPolicy>(options_.retry)};
  endpoints_.emplace(cache_key, endpoint);
  return endpoint;
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> Storage::FileSystemFor(const Uri& uri) {
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  return endpoint.fs;
}

arrow::Result<std::optional<FileEntry>> Storage::StatIfExists(const Uri& uri) {
  auto watch = Watched("reading metadata of", uri);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  const auto& fs = endpoint.fs;
  auto info = endpoint.retry->Call<arrow::fs::FileInfo>(
      [&] { return fs->GetFileInfo(uri.FileSystemPath()); });
  if (!info.ok()) return OperationFailed("reading metadata of", uri, info.status());
  if (info->type() == arrow::fs::FileType::NotFound) return std::nullopt;
  return EntryOf(uri, info->path(), *info);
}

arrow::Result<FileEntry> Storage::Stat(const Uri& uri) {
  ARROW_ASSIGN_OR_RAISE(auto entry, StatIfExists(uri));
  if (!entry) return PathNotFound(uri);
  return std::move(*entry);
}

arrow::Result<bool> Storage::Exists(const Uri& uri) {
  ARROW_ASSIGN_OR_RAISE(auto entry, StatIfExists(uri));
  return entry.has_value();
}

arrow::Result<std::vector<FileEntry>> Storage::List(const Uri& uri, bool recursive) {
  return ListFiltered(uri, recursive, /*writer_temps=*/false);
}

arrow::Result<std::vector<FileEntry>> Storage::ListWriterTemps(const Uri& uri) {
  return ListFiltered(uri, /*recursive=*/false, /*writer_temps=*/true);
}

arrow::Result<std::vector<FileEntry>> Storage::ListAllFiles(const Uri& uri) {
  ARROW_ASSIGN_OR_RAISE(auto files, ListFiltered(uri, /*recursive=*/true, /*writer_temps=*/false));
  ARROW_ASSIGN_OR_RAISE(auto temps, ListFiltered(uri, /*recursive=*/true, /*writer_temps=*/true));
  files.insert(files.end(), temps.begin(), temps.end());
  std::erase_if(files, [](const FileEntry& entry) { return entry.is_dir; });
  std::sort(files.begin(), files.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.uri.key() < b.uri.key(); });
  return files;
}

arrow::Result<std::vector<FileEntry>> Storage::ListFiltered(const Uri& uri, bool recursive,
                                                            bool writer_temps) {
  auto watch = Watched("listing", uri);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  const auto& fs = endpoint.fs;
  const std::string base_path = uri.FileSystemPath();
  auto top = endpoint.retry->Call<arrow::fs::FileInfo>([&] { return fs->GetFileInfo(base_path); });
  if (!top.ok()) return OperationFailed("listing", uri, top.status());
  if (top->type() == arrow::fs::FileType::NotFound && !uri.is_local()) {
    // A missing prefix lists empty, a missing bucket is an error (a typo must not look
    // like an empty folder).
    auto bucket =
        endpoint.retry->Call<arrow::fs::FileInfo>([&] { return fs->GetFileInfo(uri.bucket()); });
    if (!bucket.ok()) return OperationFailed("listing", uri, bucket.status());
    if (bucket->type() == arrow::fs::FileType::NotFound) {
      return arrow::Status::IOError(
          fmt::format("listing '{}': bucket '{}' does not exist", uri.ToString(), uri.bucket()));
    }
  }
  std::vector<FileEntry> entries;
  if (top->IsFile()) {
    if (!writer_temps) entries.push_back(EntryOf(uri, base_path, *top));
    return entries;
  }
  arrow::Result<std::vector<arrow::fs::FileInfo>> infos;
  if (uri.is_local() && recursive) {
    infos = ListLocalWithoutLinks(*endpoint.retry, fs.get(), base_path);
  } else {
    arrow::fs::FileSelector selector;
    selector.base_dir = base_path;
    selector.recursive = recursive;
    selector.allow_not_found = true;
    infos = endpoint.retry->Call<std::vector<arrow::fs::FileInfo>>(
        [&] { return fs->GetFileInfo(selector); });
  }
  if (!infos.ok()) return OperationFailed("listing", uri, infos.status());
  for (const auto& info : *infos) {
    if (IsWriterTemp(info) != writer_temps) continue;
    entries.push_back(EntryOf(uri, base_path, info));
  }
  std::sort(entries.begin(), entries.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.uri.key() < b.uri.key(); });
  return entries;
}

arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> Storage::OpenRead(const Uri& uri) {
  auto watch = Watched("reading", uri);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  const auto& fs = endpoint.fs;
  auto file = endpoint.retry->Call<std::shared_ptr<arrow::io::RandomAccessFile>>(
      [&] { return fs->OpenInputFile(uri.FileSystemPath()); });
  if (!file.ok()) return OperationFailed("reading", uri, file.status());
  return file;
}

arrow::Result<std::shared_ptr<arrow::io::InputStream>> Storage::OpenStream(const Uri& uri) {
  auto watch = Watched("reading", uri);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  const auto& fs = endpoint.fs;
  auto stream = endpoint.retry->Call<std::shared_ptr<arrow::io::InputStream>>(
      [&] { return fs->OpenInputStream(uri.FileSystemPath()); });
  if (!stream.ok()) return OperationFailed("reading", uri, stream.status());
  return stream;
}

arrow::Result<std::shared_ptr<arrow::Buffer>> Storage::ReadAll(const Uri& uri) {
  auto watch = Watched("reading", uri);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  const auto& fs = endpoint.fs;
  auto buffer = endpoint.retry->Call<std::shared_ptr<arrow::Buffer>>(
      [&]() -> arrow::Result<std::shared_ptr<arrow::Buffer>> {
        ARROW_ASSIGN_OR_RAISE(auto file, fs->OpenInputFile(uri.FileSystemPath()));
        ARROW_ASSIGN_OR_RAISE(auto size, file->GetSize());
        return file->ReadAt(0, size);
      });
  if (!buffer.ok()) return OperationFailed("reading", uri, buffer.status());
  return buffer;
}

arrow::Result<std::optional<std::shared_ptr<arrow::Buffer>>> Storage::ReadIfExists(
    const Uri& uri) {
  // Providers word "no such object" each their own way: ask the store, not the message.
  // When the object is there by the time we ask, a concurrent writer created it after our
  // read failed (the first publication of a manifest): read again.
  arrow::Status failed;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto buffer = ReadAll(uri);
    if (buffer.ok()) return std::move(*buffer);
    failed = buffer.status();
    ARROW_ASSIGN_OR_RAISE(auto entry, StatIfExists(uri));
    if (!entry) return std::nullopt;
  }
  return failed;
}

arrow::Result<std::shared_ptr<AtomicWriter>> Storage::OpenWrite(const Uri& uri) {
  spdlog::debug("writing '{}'", RedactSecrets(uri.ToString()));
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  // Opening is retried: nothing is written yet, and an upload the store refused to start
  // (GCS answers 503 to the resumable-upload request) leaves nothing behind.
  auto writer = endpoint.retry->Call<std::shared_ptr<AtomicWriter>>([&] {
    return AtomicWriter::Open(endpoint.fs, uri,
                              {watchdog_, endpoint.retry,
                               [this, folder = uri.Parent()] { SweepStaleWrites(folder); }});
  });
  if (!writer.ok()) return WriteFailed(uri, writer.status());
  return writer;
}

arrow::Status Storage::WriteAll(const Uri& uri, std::string_view data) {
  auto watch = Watched("writing", uri);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  const auto& fs = endpoint.fs;
  auto status = endpoint.retry->Call([&]() -> arrow::Status {
    // Not reported to the policy: this whole write is retried by it.
    ARROW_ASSIGN_OR_RAISE(auto writer, AtomicWriter::Open(fs, uri, {watchdog_, nullptr}));
    ARROW_RETURN_NOT_OK(writer->Write(data.data(), static_cast<int64_t>(data.size())));
    return writer->Close();
  });
  if (!status.ok()) return WriteFailed(uri, status);
  SweepStaleWrites(uri.Parent());
  return status;
}

arrow::Status Storage::Delete(const Uri& uri) {
  auto watch = Watched("deleting", uri);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  const auto& fs = endpoint.fs;
  auto status = endpoint.retry->Call([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(uri.FileSystemPath()));
    if (info.type() == arrow::fs::FileType::NotFound) return arrow::Status::OK();
    return fs->DeleteFile(uri.FileSystemPath());
  });
  return OperationFailed("deleting", uri, status);
}

arrow::Status Storage::DeleteTree(const Uri& uri) {
  auto watch = Watched("deleting", uri);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(uri));
  const auto& fs = endpoint.fs;
  auto status = endpoint.retry->Call([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(uri.FileSystemPath()));
    if (info.type() == arrow::fs::FileType::NotFound) return arrow::Status::OK();
    if (info.IsFile()) return fs->DeleteFile(uri.FileSystemPath());
    if (uri.is_local()) return fs->DeleteDir(uri.FileSystemPath());
    // On object stores a folder may be only a prefix with no marker object: empty it,
    // then remove a marker if one remains.
    ARROW_RETURN_NOT_OK(fs->DeleteDirContents(uri.FileSystemPath(), /*missing_dir_ok=*/true));
    ARROW_ASSIGN_OR_RAISE(info, fs->GetFileInfo(uri.FileSystemPath()));
    if (info.type() == arrow::fs::FileType::NotFound) return arrow::Status::OK();
    return fs->DeleteDir(uri.FileSystemPath());
  });
  return OperationFailed("deleting", uri, status);
}

arrow::Status Storage::Move(const Uri& source, const Uri& destination) {
  ARROW_ASSIGN_OR_RAISE(bool source_exists, Exists(source));
  if (!source_exists) {
    ARROW_ASSIGN_OR_RAISE(bool moved, Exists(destination));
    if (moved) return arrow::Status::OK();
    return OperationFailed(fmt::format("moving '{}' to", source.ToString()), destination,
                           arrow::Status::IOError("neither exists"));
  }
  if (!source.is_local() || !destination.is_local()) {
    ARROW_RETURN_NOT_OK(Copy(source, destination));
    return Delete(source);
  }
  auto watch = Watched(fmt::format("moving '{}' to", source.ToString()), destination);
  ARROW_ASSIGN_OR_RAISE(auto endpoint, EndpointFor(destination));
  const auto& fs = endpoint.fs;
  auto status = endpoint.retry->Call([&]() -> arrow::Status {
    const std::string folder = destination.Parent().FileSystemPath();
    ARROW_RETURN_NOT_OK(fs->CreateDir(folder, /*recursive=*/true));
    ARROW_RETURN_NOT_OK(fs->Move(source.FileSystemPath(), destination.FileSystemPath()));
    return SyncLocalPath(folder);  // the rename is durable once its folder is
  });
  return OperationFailed(fmt::format("moving '{}' to", source.ToString()), destination, status);
}

arrow::Status Storage::Copy(const Uri& source, const Uri& destination,
                            const ProgressCallback& progress, const std::atomic<bool>* cancel) {
  ARROW_ASSIGN_OR_RAISE(auto entry, Stat(source));
  if (entry.is_dir) {
    return arrow::Status::Invalid(fmt::format("copying '{}': is a folder", source.ToString()));
  }
  ARROW_ASSIGN_OR_RAISE(auto source_endpoint, EndpointFor(source));
  ARROW_ASSIGN_OR_RAISE(auto destination_fs, FileSystemFor(destination));
  if (source_endpoint.fs == destination_fs && !destination.is_local()) {
    auto watch = Watched(fmt::format("copying '{}' to", source.ToString()), destination);
    auto status = source_endpoint.retry->Call([&] {
      return source_endpoint.fs->CopyFile(source.FileSystemPath(), destination.FileSystemPath());
    });
    if (status.ok() && progress) progress(entry.size, entry.size);
    return OperationFailed(fmt::format("copying '{}' to", source.ToString()), destination, status);
  }
  return StreamCopy(source, destination, entry.size, progress, cancel);
}

arrow::Status Storage::StreamCopy(const Uri& source, const Uri& destination, int64_t size,
                                  const ProgressCallback& progress,
                                  const std::atomic<bool>* cancel) {
  ARROW_ASSIGN_OR_RAISE(auto input, OpenStream(source));
  ARROW_ASSIGN_OR_RAISE(auto output, OpenWrite(destination));
  int64_t done = 0;
  for (;;) {
    if (cancel && cancel->load()) {
      (void)output->Abort();
      return arrow::Status::Cancelled(
          fmt::format("copy to '{}' cancelled: nothing written", destination.ToString()));
    }
    auto chunk = [&] {
      auto watch = Watched("reading", source);
      return input->Read(kCopyChunkBytes);
    }();
    if (!chunk.ok()) {
      (void)output->Abort();
      return OperationFailed("reading", source, chunk.status());
    }
    if ((*chunk)->size() == 0) break;
    ARROW_RETURN_NOT_OK(output->Write(*chunk));  // aborts the upload on failure
    done += (*chunk)->size();
    if (progress) progress(done, size);
  }
  return output->Close();
}

}  // namespace lakepipe::storage
