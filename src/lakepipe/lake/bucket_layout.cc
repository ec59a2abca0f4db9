#include "lakepipe/lake/bucket_layout.h"

#include <charconv>

#include <fmt/format.h>

#include "lakepipe/lake/path_segment.h"

namespace lakepipe::lake {

storage::Uri BucketLayout::ManifestUri() const { return bucket_.Join(".dataspoc/manifest.json"); }

storage::Uri BucketLayout::TableEntriesDir() const { return bucket_.Join(".dataspoc/tables"); }

storage::Uri BucketLayout::TableEntryUri(std::string_view source, std::string_view table) const {
  return TableEntriesDir().Join(
      fmt::format("{}/{}.json", EncodePathSegment(source), EncodePathSegment(table)));
}

storage::Uri BucketLayout::StateUri(std::string_view pipeline) const {
  return bucket_.Join(fmt::format(".dataspoc/state/{}/state.json", EncodePathSegment(pipeline)));
}

storage::Uri BucketLayout::LogsDir(std::string_view pipeline) const {
  return bucket_.Join(fmt::format(".dataspoc/logs/{}", EncodePathSegment(pipeline)));
}

storage::Uri BucketLayout::LogUri(std::string_view pipeline, std::string_view stamp) const {
  return LogsDir(pipeline).Join(fmt::format("{}.json", stamp));
}

storage::Uri BucketLayout::JournalDir(std::string_view pipeline) const {
  return bucket_.Join(fmt::format(".dataspoc/journal/{}", EncodePathSegment(pipeline)));
}

storage::Uri BucketLayout::JournalUri(std::string_view pipeline, std::string_view run_id) const {
  return JournalDir(pipeline).Join(fmt::format("{}.json", run_id));
}

storage::Uri BucketLayout::StagingDir(std::string_view pipeline, std::string_view run_id) const {
  return bucket_.Join(fmt::format(".dataspoc/staging/{}/{}", EncodePathSegment(pipeline),
                                  EncodePathSegment(run_id)));
}

storage::Uri BucketLayout::TableLockUri(std::string_view source, std::string_view table) const {
  return bucket_.Join(fmt::format(".dataspoc/locks/{}/{}.lock", EncodePathSegment(source),
                                  EncodePathSegment(table)));
}

storage::Uri BucketLayout::ProbeUri(std::string_view id) const {
  return bucket_.Join(fmt::format(".dataspoc/.lakepipe-probe-{}", id));
}

std::string BucketLayout::StagedPath(std::string_view pipeline, std::string_view run_id,
                                     std::string_view relative) {
  return fmt::format(".dataspoc/staging/{}/{}/{}.staged", EncodePathSegment(pipeline),
                     EncodePathSegment(run_id), relative);
}

std::string BucketLayout::TableLocation(std::string_view path, std::string_view source,
                                        std::string_view table) {
  std::string_view trimmed = path;
  while (trimmed.starts_with('/')) trimmed.remove_prefix(1);
  while (trimmed.ends_with('/')) trimmed.remove_suffix(1);
  const std::string names =
      fmt::format("{}/{}", EncodePathSegment(source), EncodePathSegment(table));
  return trimmed.empty() ? names : fmt::format("{}/{}", trimmed, names);
}

std::string BucketLayout::DataFile(std::string_view location, std::string_view table,
                                   std::optional<std::string_view> dt, int64_t number) {
  const std::string file = EncodePathSegment(table);
  if (dt) return fmt::format("{}/dt={}/{}_{:04d}.parquet", location, *dt, file, number);
  return fmt::format("{}/{}_{:04d}.parquet", location, file, number);
}

std::optional<int64_t> BucketLayout::DataFileNumber(std::string_view name, std::string_view table) {
  constexpr std::string_view kSuffix = ".parquet";
  const std::string stem = EncodePathSegment(table);
  if (!name.starts_with(stem) || !name.ends_with(kSuffix)) return std::nullopt;
  name.remove_prefix(stem.size());
  name.remove_suffix(kSuffix.size());
  if (!name.starts_with('_') || name.size() < 2) return std::nullopt;
  name.remove_prefix(1);
  int64_t number = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return number;
}

bool BucketLayout::IsTableDataPath(std::string_view inside) {
  if (!inside.starts_with('/') || !inside.ends_with(".parquet")) return false;
  inside.remove_prefix(1);
  const size_t slash = inside.find('/');
  if (slash == std::string_view::npos) return true;
  const std::string_view folder = inside.substr(0, slash);
  return folder.starts_with("dt=") && inside.find('/', slash + 1) == std::string_view::npos;
}

}  // namespace lakepipe::lake
