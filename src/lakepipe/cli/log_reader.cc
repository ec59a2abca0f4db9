#include "lakepipe/cli/log_reader.h"

#include <fmt/format.h>

#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/lake/manifest_store.h"

namespace lakepipe::cli {
namespace {

// The fields `status` and `logs` print, where present, have the types they print: a log
// edited by hand must give an error, not an exception.
bool IsUsableLog(const nlohmann::json& log) {
  if (!log.is_object()) return false;
  auto is = [&](const char* key, bool (nlohmann::json::*type)() const noexcept) {
    return !log.contains(key) || (log.at(key).*type)();
  };
  return is("status", &nlohmann::json::is_string) &&
         is("started_at", &nlohmann::json::is_string) &&
         is("finished_at", &nlohmann::json::is_string) &&
         is("error", &nlohmann::json::is_string) &&
         is("total_records", &nlohmann::json::is_number_integer) &&
         is("duration_seconds", &nlohmann::json::is_number);
}

}  // namespace

arrow::Result<std::vector<nlohmann::json>> LastRunLogs(storage::Storage& storage,
                                                       const pipeline::PipelineConfig& config,
                                                       size_t count) {
  ARROW_ASSIGN_OR_RAISE(auto bucket, storage::Uri::Parse(config.destinations.front().bucket));
  lake::BucketLayout layout(bucket);
  ARROW_ASSIGN_OR_RAISE(auto files, storage.List(layout.LogsDir(config.name), false));
  std::vector<storage::Uri> logs;
  for (const auto& f : files) {
    if (!f.is_dir && f.uri.Name().ends_with(".json")) logs.push_back(f.uri);
  }
  // Names are UTC timestamps: name order is time order.
  if (logs.size() > count) logs.erase(logs.begin(), logs.end() - static_cast<ptrdiff_t>(count));
  std::vector<nlohmann::json> out;
  for (const auto& uri : logs) {
    ARROW_ASSIGN_OR_RAISE(auto json, lake::ReadJsonDocument(&storage, uri));
    if (!IsUsableLog(json)) {
      return arrow::Status::Invalid(fmt::format(
          "'{}' is not a run log (an object whose status, times, error and counts are strings "
          "and numbers)",
          uri.ToString()));
    }
    out.push_back(std::move(json));
  }
  return out;
}

}  // namespace lakepipe::cli
