#include "lakepipe/tablestore/metadata.h"

#include <algorithm>

#include <fmt/format.h>

#include "lakepipe/common/sha256.h"

namespace lakepipe::tablestore {

const StageRecord* MetadataSnapshot::FindStage(const std::string& stage) const {
  for (const auto& record : stages) {
    if (record.stage == stage) return &record;
  }
  return nullptr;
}

std::vector<const TableRecord*> MetadataSnapshot::TablesIn(const std::string& stage,
                                                           const std::string& slot) const {
  std::vector<const TableRecord*> out;
  for (const auto& table : tables) {
    if (table.stage == stage && table.slot == slot) out.push_back(&table);
  }
  std::sort(out.begin(), out.end(),
            [](const TableRecord* a, const TableRecord* b) { return a->table < b->table; });
  return out;
}

const TableRecord* MetadataSnapshot::FindTable(const std::string& stage, const std::string& slot,
                                               const std::string& table) const {
  for (const auto& record : tables) {
    if (record.stage == stage && record.slot == slot && record.table == table) return &record;
  }
  return nullptr;
}

const TaskRecord* MetadataSnapshot::FindTask(const std::string& stage, const std::string& slot,
                                             const std::string& task) const {
  for (const auto& record : tasks) {
    if (record.stage == stage && record.slot == slot && record.task == task) return &record;
  }
  return nullptr;
}

std::string OtherSlot(const std::string& slot) { return slot == "odd" ? "even" : "odd"; }

namespace {

// The checksum keeps its persisted key "sha256" (a persisted field is never renamed), and
// that key holds a sha256 (hex) in every row ever written: of the file's bytes, or for an
// ingest file a flow copied, of "<source uri>:<bytes>" (flow::CopiedFileChecksum). Readers
// take it as an opaque fingerprint compared only for equality (ContentHash, so cache keys),
// never against the bytes: rows of both kinds, from any version, read as they were written.
constexpr const char* kChecksumKey = "sha256";

nlohmann::json FileToJson(const parquet::DataFileMeta& file) {
  return {{"path", file.path},
          {"rows", file.rows},
          {"bytes", file.bytes},
          {kChecksumKey, file.checksum}};
}

arrow::Result<parquet::DataFileMeta> FileFromJson(const nlohmann::json& json) {
  try {
    parquet::DataFileMeta file;
    file.path = json.at("path").get<std::string>();
    file.rows = json.at("rows").get<int64_t>();
    file.bytes = json.at("bytes").get<int64_t>();
    file.checksum = json.at(kChecksumKey).get<std::string>();
    return file;
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(fmt::format("table file record {}: {}", json.dump(), e.what()));
  }
}

}  // namespace

nlohmann::json FilesToJson(const std::vector<parquet::DataFileMeta>& files) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& file : files) out.push_back(FileToJson(file));
  return out;
}

arrow::Result<std::vector<parquet::DataFileMeta>> FilesFromJson(const nlohmann::json& json) {
  if (!json.is_array()) return arrow::Status::Invalid("files_json is not a JSON array");
  std::vector<parquet::DataFileMeta> files;
  for (const auto& item : json) {
    ARROW_ASSIGN_OR_RAISE(auto file, FileFromJson(item));
    files.push_back(std::move(file));
  }
  return files;
}

std::string ContentHash(const std::vector<parquet::DataFileMeta>& files) {
  common::Sha256 hash;
  for (const auto& file : files) hash.Update(fmt::format("{}:{};", file.checksum, file.bytes));
  return hash.HexDigest();
}

}  // namespace lakepipe::tablestore
