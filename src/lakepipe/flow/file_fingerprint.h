#pragma once

#include <string>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/storage/storage.h"

namespace lakepipe::flow {

/// What a task's cache key records of the files it reads, so that a changed file is a new
/// input.

/// The files `pattern` (a path, URI or glob) names, as listed: [[uri, size, modified µs],
/// …]. Schemes lakepipe storage does not know (https://, …) list as their name only.
arrow::Result<nlohmann::json> ListFiles(storage::Storage* storage, const std::string& pattern);

/// sha256 of a local file's bytes, "" when `path` is not a readable regular file.
std::string FileDigest(const std::string& path);

}  // namespace lakepipe::flow
