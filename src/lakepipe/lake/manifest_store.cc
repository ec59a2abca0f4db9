#include "lakepipe/lake/manifest_store.h"

#include <chrono>
#include <cstdint>
#include <thread>

#include <fmt/format.h>

#include "lakepipe/common/time_format.h"

namespace lakepipe::lake {
namespace {

constexpr int kMaxPublishRounds = 20;

nlohmann::json EmptyManifest() {
  return {{"version", "1.0"}, {"updated_at", nullptr}, {"tables", nlohmann::json::object()}};
}

int64_t ExtractionsOf(const nlohmann::json& entry) {
  const auto stats = entry.find("stats");
  if (stats == entry.end() || !stats->is_object()) return 0;
  const auto count = stats->find("extractions");
  return count != stats->end() && count->is_number_integer() ? count->get<int64_t>() : 0;
}

// DataSpoc Pipe counts each of its runs in manifest.json only: an entry it advanced past
// lakepipe's entry file is the newer one, and stays until the table's own pipeline runs
// again and reconciles it (lake/table_reconciler.h), counting a higher number.
bool AdvancedByAnotherWriter(const nlohmann::json& in_manifest, const nlohmann::json& entry) {
  return ExtractionsOf(in_manifest) > ExtractionsOf(entry);
}

}  // namespace

arrow::Result<nlohmann::json> ParseJsonDocument(const std::string& text, const storage::Uri& uri) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return arrow::Status::Invalid(
        fmt::format("'{}' is not valid JSON: {}", uri.ToString(), e.what()));
  }
}

namespace {

// Reads with `read` (nullopt: nothing there) and parses; a parse failure is read again.
template <typename Read>
arrow::Result<std::optional<nlohmann::json>> ReadAndParse(const storage::Uri& uri,
                                                          const Read& read) {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    ARROW_ASSIGN_OR_RAISE(std::optional<std::shared_ptr<arrow::Buffer>> buffer, read());
    if (!buffer) return std::nullopt;
    auto json = ParseJsonDocument((*buffer)->ToString(), uri);
    if (json.ok()) return std::move(*json);
    if (attempt == kAttempts) return json.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
  }
}

}  // namespace

arrow::Result<nlohmann::json> ReadJsonDocument(storage::Storage* storage, const storage::Uri& uri) {
  ARROW_ASSIGN_OR_RAISE(
      auto json,
      ReadAndParse(uri, [&]() -> arrow::Result<std::optional<std::shared_ptr<arrow::Buffer>>> {
        return storage->ReadAll(uri);
      }));
  return std::move(*json);  // ReadAll has a document or an error
}

arrow::Result<std::optional<nlohmann::json>> ReadJsonDocumentIfExists(storage::Storage* storage,
                                                                      const storage::Uri& uri) {
  return ReadAndParse(uri, [&] { return storage->ReadIfExists(uri); });
}

arrow::Result<std::optional<TableEntry>> ManifestStore::LoadTable(const std::string& source,
                                                                  const std::string& table) {
  const auto uri = layout_.TableEntryUri(source, table);
  ARROW_ASSIGN_OR_RAISE(auto json, ReadJsonDocumentIfExists(storage_, uri));
  if (!json) return std::nullopt;
  ARROW_ASSIGN_OR_RAISE(auto entry, TableEntry::FromJson(*json, uri.ToString()));
  return entry;
}

arrow::Result<std::optional<TableEntry>> ManifestStore::LoadManifestEntry(
    const std::string& source, const std::string& table) {
  ARROW_ASSIGN_OR_RAISE(auto manifest, LoadManifest());
  const std::string key = source + "/" + table;
  const auto& tables = manifest["tables"];
  if (!tables.contains(key)) return std::nullopt;
  ARROW_ASSIGN_OR_RAISE(
      auto entry,
      TableEntry::FromJson(tables[key],
                           fmt::format("'{}', table '{}'", layout_.ManifestUri().ToString(), key)));
  return entry;
}

arrow::Status ManifestStore::SaveTable(const TableEntry& entry) {
  return storage_->WriteAll(layout_.TableEntryUri(entry.source, entry.table),
                            entry.ToJson().dump(2));
}

arrow::Result<nlohmann::json> ManifestStore::LoadManifest() {
  const auto uri = layout_.ManifestUri();
  ARROW_ASSIGN_OR_RAISE(auto read, ReadJsonDocumentIfExists(storage_, uri));
  if (!read) return EmptyManifest();
  nlohmann::json json = std::move(*read);
  if (!json.is_object() || !json.contains("tables") || !json["tables"].is_object()) {
    return arrow::Status::Invalid(
        fmt::format("'{}' has no \"tables\" object: not a manifest", uri.ToString()));
  }
  return json;
}

arrow::Result<nlohmann::json> ManifestStore::LoadAllEntries() {
  ARROW_ASSIGN_OR_RAISE(auto files, storage_->List(layout_.TableEntriesDir(), true));
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& file : files) {
    if (file.is_dir || !file.uri.Name().ends_with(".json")) continue;
    ARROW_ASSIGN_OR_RAISE(auto json, ReadJsonDocumentIfExists(storage_, file.uri));
    if (!json) continue;  // deleted between list and read: simply gone
    ARROW_ASSIGN_OR_RAISE(auto entry, TableEntry::FromJson(*json, file.uri.ToString()));
    entries[entry.Key()] = *json;
  }
  return entries;
}

arrow::Status ManifestStore::Publish() {
  for (int round = 0; round < kMaxPublishRounds; ++round) {
    ARROW_ASSIGN_OR_RAISE(auto entries, LoadAllEntries());
    ARROW_ASSIGN_OR_RAISE(auto manifest, LoadManifest());
    nlohmann::json tables = manifest["tables"];
    bool up_to_date = true;
    for (const auto& [key, entry] : entries.items()) {
      if (tables.contains(key) && AdvancedByAnotherWriter(tables[key], entry)) continue;
      if (!tables.contains(key) || tables[key] != entry) {
        tables[key] = entry;
        up_to_date = false;
      }
    }
    // After our own write this re-check is what makes concurrent publishers converge.
    if (up_to_date) return arrow::Status::OK();
    manifest["version"] = manifest.value("version", "1.0");
    manifest["updated_at"] = IsoUtc(std::chrono::system_clock::now());
    manifest["tables"] = std::move(tables);
    ARROW_RETURN_NOT_OK(storage_->WriteAll(layout_.ManifestUri(), manifest.dump(2)));
  }
  return arrow::Status::IOError(
      fmt::format("publishing '{}': other writers kept changing it for {} rounds",
                  layout_.ManifestUri().ToString(), kMaxPublishRounds));
}

}  // namespace lakepipe::lake
