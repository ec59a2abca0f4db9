#pragma once

#include <string>
#include <string_view>

#include <arrow/result.h>
#include <arrow/status.h>

namespace lakepipe::storage {

/// The storage services a URI can name.
enum class Provider { kLocal, kS3, kGcs, kAzure };

/// Lower-case name of a provider as users write it ("file", "s3", "gs", "az").
std::string_view ProviderName(Provider provider);

/// Invalid when `text` (one URI, or free text such as SQL) holds an s3, gs, az or abfs URI
/// with user info ("s3://KEY:SECRET@bucket/x"), naming that URI as "s3://***@bucket/x" and
/// telling the user where credentials go. Other URLs (postgresql://user:pw@…) pass.
arrow::Status CheckNoUriCredentials(std::string_view text);

/// A location in a bucket or a local folder. Accepted spellings:
///   plain path (relative to the current directory or absolute), file:///abs/path,
///   s3://bucket/key, gs://bucket/key (also gcs://), az://container/path,
///   abfs[s]://container@account.dfs.core.windows.net/path, abfs[s]://container/path.
/// Query strings (and fragments) in bucket URIs are refused: settings and credentials belong
/// in StorageOptions, and a SAS token in a URI would end up in logs. User info
/// (s3://KEY:SECRET@bucket/…) is refused for the same reason (CheckNoUriCredentials); no
/// error shows it. In local paths and
/// file:// URIs '?' and '#' are plain characters. ToString() parses back to an equal Uri.
///
/// Immutable value type; safe to copy and to share between threads.
class Uri {
 public:
  /// Parses `text`. Errors name the text and what is wrong with it.
  static arrow::Result<Uri> Parse(std::string_view text);

  Provider provider() const { return provider_; }
  /// Bucket (S3, GCS) or container (Azure); empty for local paths.
  const std::string& bucket() const { return bucket_; }
  /// Path inside the bucket without a leading '/', or the absolute local path.
  const std::string& key() const { return key_; }
  /// Azure storage account named in an abfs URI; empty otherwise.
  const std::string& account() const { return account_; }

  bool is_local() const { return provider_ == Provider::kLocal; }

  /// Canonical text: file:///abs, s3://bucket/key, gs://bucket/key, az://container/key
  /// (abfs URIs that name an account keep their abfs form).
  std::string ToString() const;

  /// The path Arrow's filesystem for this provider expects ("bucket/key" or "/abs").
  std::string FileSystemPath() const;

  /// This URI with `relative` ("a/b.parquet") appended as child path segments.
  Uri Join(std::string_view relative) const;

  /// The last path segment ("" for a bucket root).
  std::string Name() const;

  /// The parent location; a bucket root is its own parent.
  Uri Parent() const;

  bool operator==(const Uri& other) const = default;

 private:
  Uri() = default;

  Provider provider_ = Provider::kLocal;
  std::string bucket_;
  std::string key_;
  std::string account_;
  bool abfs_form_ = false;
};

}  // namespace lakepipe::storage
