#pragma once

#include <memory>

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include "lakepipe/storage/storage_options.h"
#include "lakepipe/storage/uri.h"

namespace lakepipe::storage {

/// Makes the Arrow filesystem that serves `uri` (LocalFileSystem, S3FileSystem,
/// GcsFileSystem or AzureFileSystem) configured from `options` and the provider's
/// standard credential chain. Errors name the URI and never contain a secret.
/// ArrowRuntime::Initialize() must have run.
arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeFileSystem(const Uri& uri,
                                                                     const StorageOptions& options);

/// Splits an endpoint "http://host:port/path" into scheme ("http"), authority
/// ("host:port") and path ("/path"). A bare "host:port" means https.
struct Endpoint {
  std::string scheme;
  std::string authority;
  std::string path;
  static arrow::Result<Endpoint> Parse(const std::string& text);
};

}  // namespace lakepipe::storage
