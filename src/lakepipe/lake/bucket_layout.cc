#include "lakepipe/lake/bucket_layout.h"

#include <charconv>

#include <fmt/format.h>

namespace lakepipe::lake {

storage::Uri BucketLayout::ManifestUri() const { return bucket_.Join(".dataspoc/manifest.json"); }

storage::Uri BucketLayout::TableEntriesDir() const { return bucket_.Join(".dataspoc/tables"); }

storage::Uri BucketLayout::TableEntryUri(std::string_view source, std::string_view table) const {
  return TableEntriesDir().Join(fmt::format("{}/{}.json", source, table));
}

storage::Uri BucketLayout::StateUri(std::string_view pipeline) const {
  return bucket_.Join(fmt::format(".dataspoc/state/{}/state.json", pipeline));
}

storage::Uri BucketLayout::LogsDir(std::string_view pipeline) const {
  return bucket_.Join(fmt::format(".dataspoc/logs/{}", pipeline));
}

storage::Uri BucketLayout::LogUri(std::string_view pipeline, std::string_view stamp) const {
  return LogsDir(pipeline).Join(fmt::format("{}.json", stamp));
}

storage::Uri BucketLayout::JournalDir(std::string_view pipeline) const {
  return bucket_.Join(fmt::format(".dataspoc/journal/{}", pipeline));
}

storage::Uri BucketLayout::JournalUri(std::string_view pipeline, std::string_view run_id) const {
  return JournalDir(pipeline).Join(fmt::format("{}.json", run_id));
}

std::string BucketLayout::TableLocation(std::string_view path, std::string_view source,
                                        std::string_view table) {
  std::string_view trimmed = path;
  while (trimmed.starts_with('/')) trimmed.remove_prefix(1);
  while (trimmed.ends_with('/')) trimmed.remove_suffix(1);
  return trimmed.empty() ? fmt::format("{}/{}", source, table)
                         : fmt::format("{}/{}/{}", trimmed, source, table);
}

std::string BucketLayout::DataFile(std::string_view location, std::string_view table,
                                   std::optional<std::string_view> dt, int64_t number) {
  if (dt) return fmt::format("{}/dt={}/{}_{:04d}.parquet", location, *dt, table, number);
  return fmt::format("{}/{}_{:04d}.parquet", location, table, number);
}

std::optional<int64_t> BucketLayout::DataFileNumber(std::string_view name, std::string_view table) {
  constexpr std::string_view kSuffix = ".parquet";
  if (!name.starts_with(table) || !name.ends_with(kSuffix)) return std::nullopt;
  name.remove_prefix(table.size());
  name.remove_suffix(kSuffix.size());
  if (!name.starts_with('_') || name.size() < 2) return std::nullopt;
  name.remove_prefix(1);
  int64_t number = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return number;
}

}  // namespace lakepipe::lake
