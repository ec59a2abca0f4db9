#include "lakepipe/tablestore/layout.h"

#include <unistd.h>

#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "lakepipe/lake/path_segment.h"

namespace lakepipe::tablestore::layout {
namespace {

constexpr std::string_view kReplacedPrefix = "_replaced-";

std::string Encode(std::string_view name) { return lake::EncodePathSegment(name); }

}  // namespace

std::string MetadataInstance(std::string_view flow, std::string_view instance) {
  if (flow.empty()) return std::string(instance);
  return fmt::format("{}/{}", flow, instance);
}

std::string FlowDir(std::string_view instance, std::string_view flow) {
  if (flow.empty()) return Encode(instance);
  return Encode(instance) + "/" + Encode(flow);
}

std::string SlotDir(std::string_view flow_dir, std::string_view stage, std::string_view slot) {
  return fmt::format("{}/{}{}{}", flow_dir, Encode(stage), kSlotSeparator, slot);
}

std::string TableDir(std::string_view slot_dir, std::string_view table) {
  return fmt::format("{}/{}", slot_dir, Encode(table));
}

std::optional<std::pair<std::string, std::string>> ParseSlotFolder(std::string_view folder) {
  for (std::string_view slot : kSlots) {
    const std::string suffix = fmt::format("{}{}", kSlotSeparator, slot);
    if (folder.size() > suffix.size() && folder.ends_with(suffix)) {
      return std::pair{lake::DecodePathSegment(folder.substr(0, folder.size() - suffix.size())),
                       std::string(slot)};
    }
  }
  return std::nullopt;
}

std::string NewFileStem() { return fmt::format("part-{:08x}", std::random_device{}()); }

std::string DataFile(std::string_view dir, std::string_view stem, int64_t index) {
  return fmt::format("{}/{}-{:04d}.parquet", dir, stem, index);
}

std::string ReplacedMarker(std::string_view slot_dir, int64_t epoch, std::string_view id) {
  return fmt::format("{}/{}{}-{}.json", slot_dir, kReplacedPrefix, epoch, id);
}

bool IsReplacedMarker(std::string_view slot_dir, std::string_view file) {
  const std::string prefix = fmt::format("{}/{}", slot_dir, kReplacedPrefix);
  return file.starts_with(prefix) && file.find('/', prefix.size()) == std::string_view::npos;
}

std::string SlotSchema(std::string_view stage, std::string_view slot) {
  return fmt::format("{}{}{}", stage, kSlotSeparator, slot);
}

bool IsSlotSchema(std::string_view schema) {
  for (std::string_view slot : kSlots) {
    if (schema.ends_with(fmt::format("{}{}", kSlotSeparator, slot))) return true;
  }
  return false;
}

std::string EmbeddedMetadataPath(const std::string& catalog) {
  const std::filesystem::path path = std::filesystem::absolute(catalog);
  return (path.parent_path() / (path.stem().string() + ".meta.sqlite")).string();
}

std::string LockDir(const std::string& catalog) {
  const std::filesystem::path path = std::filesystem::absolute(catalog);
  return (path.parent_path() / ("." + path.stem().string() + ".locks")).string();
}

// The key is "<flow>/<instance>" and a flow's name is free text ("../x" too): one encoded
// segment keeps every lock inside lock_dir; plain stage names keep the file they had.
std::string StageLockFile(std::string_view lock_dir, std::string_view metadata_instance,
                          std::string_view stage) {
  return fmt::format("{}/{}/{}.lock", lock_dir, Encode(metadata_instance), Encode(stage));
}

std::string SetupLockFile(std::string_view lock_dir, std::string_view metadata_instance) {
  return fmt::format("{}/{}/__setup__.lock", lock_dir, Encode(metadata_instance));
}

std::string CatalogLockPath(const std::string& catalog) {
  const std::filesystem::path path = std::filesystem::absolute(catalog);
  return (path.parent_path() / ("." + path.filename().string() + ".lock")).string();
}

std::string CatalogTempPath(const std::string& catalog) {
  return fmt::format("{}{}{}-{:x}", catalog, kCatalogTempInfix, ::getpid(),
                     std::random_device{}());
}

}  // namespace lakepipe::tablestore::layout
