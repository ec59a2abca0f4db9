#include "lakepipe/flow/file_fingerprint.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "lakepipe/common/sha256.h"
#include "lakepipe/sources/file_source.h"

namespace lakepipe::flow {

arrow::Result<nlohmann::json> ListFiles(storage::Storage* storage, const std::string& pattern) {
  nlohmann::json listing = nlohmann::json::array();
  const auto sep = pattern.find("://");
  static const std::set<std::string> kSchemes = {"file", "s3",    "s3a",  "gs",   "gcs",
                                                 "az",   "azure", "abfs", "abfss"};
  if (sep != std::string::npos && !kSchemes.contains(pattern.substr(0, sep))) {
    listing.push_back(pattern);
    return listing;
  }
  ARROW_ASSIGN_OR_RAISE(auto files, sources::ExpandGlob(storage, pattern));
  for (const auto& uri : files) {
    // A file removed since the listing is not an input any more.
    ARROW_ASSIGN_OR_RAISE(auto entry, storage->StatIfExists(uri));
    if (!entry) continue;
    listing.push_back(
        {uri.ToString(), entry->size,
         std::chrono::duration_cast<std::chrono::microseconds>(entry->modified.time_since_epoch())
             .count()});
  }
  return listing;
}

std::string FileDigest(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return "";
  std::ifstream in(path, std::ios::binary);
  common::Sha256 hash;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    hash.Update(buffer, static_cast<size_t>(in.gcount()));
  }
  return hash.HexDigest();
}

}  // namespace lakepipe::flow
