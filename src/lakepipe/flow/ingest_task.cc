#include "lakepipe/flow/ingest_task.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "lakepipe/common/sha256.h"
#include "lakepipe/common/yaml_reader.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/pipeline/pipeline_run.h"
#include "lakepipe/tablestore/layout.h"

namespace lakepipe::flow {
namespace {

arrow::Result<std::shared_ptr<const Task>> Parse(const TaskYaml& yaml) {
  const auto& r = yaml.reader;
  const auto& path = yaml.path;
  const auto ingest = yaml.node["ingest"];
  ARROW_RETURN_NOT_OK(r.OnlyKeys(ingest, path + ".ingest", {"pipeline", "stream"}));
  if (!ingest["pipeline"]) return r.Error(ingest, path + ".ingest: 'pipeline' is required");
  ARROW_ASSIGN_OR_RAISE(auto pipeline, r.String(ingest["pipeline"], path + ".ingest.pipeline"));
  std::string stream;
  if (ingest["stream"]) {
    ARROW_ASSIGN_OR_RAISE(stream, r.String(ingest["stream"], path + ".ingest.stream"));
  }
  return std::make_shared<IngestTask>(std::move(pipeline), std::move(stream));
}

/// What Prepare() left for the task in this run of its stage.
arrow::Result<const IngestedTable*> Ingested(const TaskContext& context) {
  const auto* ingested = dynamic_cast<const IngestedTable*>(context.prepared);
  if (!ingested) return arrow::Status::Invalid("the ingest pipeline has not run in this run");
  return ingested;
}

/// How DuckDB spells a TIMESTAMPTZ column it hands over as Arrow: the zone is its
/// session's ("timestamp[us, tz=Etc/UTC]").
arrow::Result<std::string> DuckDbTimestampTz() {
  ARROW_ASSIGN_OR_RAISE(auto db, duckdb::Database::Open({}));
  ARROW_ASSIGN_OR_RAISE(auto reader, db->QueryArrow("SELECT NULL::TIMESTAMPTZ AS t"));
  return reader->schema()->field(0)->type()->ToString();
}

/// The copied table's recorded columns, as the flow's readers (DuckDB) see them: from the
/// manifest's columns. Read from the files when a type is one whose reading this does not
/// know, when the files' columns differ (DuckDB takes the first file's, the manifest their
/// union), or when the entry lists none (written by another tool).
arrow::Result<nlohmann::json> SchemaJson(tablestore::TableStore& store,
                                         const lake::TableEntry& entry,
                                         const tablestore::TableRecord& record) {
  const bool evolved = std::any_of(entry.files.begin(), entry.files.end(),
                                   [](const auto& f) { return !f.columns.empty(); });
  if (!evolved && !entry.columns.empty()) {
    std::string timestamp_tz;
    for (const auto& column : entry.columns) {
      if (column.type.find("tz=") != std::string::npos) {
        ARROW_ASSIGN_OR_RAISE(timestamp_tz, DuckDbTimestampTz());
        break;
      }
    }
    if (auto known = RecordedColumns(entry.columns, timestamp_tz)) return *known;
  }
  ARROW_ASSIGN_OR_RAISE(auto reader, store.ReadFiles(record));
  return parquet::ColumnsToJson(parquet::ColumnsOf(*reader->schema()));
}

}  // namespace

std::string CopiedFileChecksum(const storage::Uri& source, int64_t bytes) {
  common::Sha256 hash;
  hash.Update(fmt::format("{}:{}", source.ToString(), bytes));
  return hash.HexDigest();
}

TaskKindEntry IngestTask::Entry() { return {"ingest", {}, &Parse}; }

std::vector<ExternalSource> IngestTask::ExternalSources() const {
  return {{"pipeline", stream_.empty() ? pipeline_ : pipeline_ + ", stream " + stream_}};
}

arrow::Result<std::shared_ptr<const TaskPreparation>> IngestTask::Prepare(
    const TaskConfig&, const TaskContext& context) const {
  ARROW_ASSIGN_OR_RAISE(auto ingested,
                        RunIngestTask(context.home, context.storage_file, pipeline_, stream_));
  return std::make_shared<IngestedTable>(std::move(ingested));
}

arrow::Result<nlohmann::json> IngestTask::CacheKeyParts(const TaskConfig&,
                                                        const TaskContext& context) const {
  nlohmann::json parts;
  parts["ingest"] = {{"pipeline", pipeline_}, {"stream", stream_}};
  // Ingest files are immutable (numbers are never reused): names and sizes say it all.
  ARROW_ASSIGN_OR_RAISE(const auto* ingested, Ingested(context));
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : ingested->entry.files) {
    files.push_back({ingested->bucket.Join(file.path).ToString(), file.bytes});
  }
  parts["files"] = files;
  return parts;
}

/// The pipeline's files for the stream, copied into the slot (server-side when the bucket
/// is on the store's filesystem).
arrow::Result<tablestore::TableRecord> IngestTask::Execute(const TaskConfig& task,
                                                           const TaskContext& context) const {
  ARROW_ASSIGN_OR_RAISE(const auto* prepared, Ingested(context));
  const auto& ingested = *prepared;
  if (ingested.entry.files.empty()) {
    return arrow::Status::Invalid(fmt::format("'{}' has no data files yet", ingested.entry.Key()));
  }
  auto* store = context.store;
  auto* tx = context.tx;
  const std::string dir = store->TableDir(tx->stage(), tx->slot(), task.name);
  tablestore::TableRecord record;
  for (size_t i = 0; i < ingested.entry.files.size(); ++i) {
    const auto& file = ingested.entry.files[i];
    const auto source = ingested.bucket.Join(file.path);
    const std::string relative =
        tablestore::layout::DataFile(dir, tx->file_stem(), static_cast<int64_t>(i));
    ARROW_RETURN_NOT_OK(store->storage().Copy(source, store->base().Join(relative)));
    record.files.push_back(
        {relative, file.rows, file.bytes, CopiedFileChecksum(source, file.bytes), {}});
    record.rows += file.rows;
    record.bytes += file.bytes;
  }
  ARROW_ASSIGN_OR_RAISE(record.schema_json, SchemaJson(*store, ingested.entry, record));
  record.content_hash = tablestore::ContentHash(record.files);
  return tx->AddWritten(task.name, std::move(record));
}

arrow::Result<IngestedTable> RunIngestTask(const std::string& home_flag,
                                           const std::string& storage_file,
                                           const std::string& pipeline, const std::string& stream) {
  const auto home = pipeline::Home::Resolve(home_flag);
  ARROW_ASSIGN_OR_RAISE(auto config, pipeline::LoadHomePipeline(home, pipeline, storage_file));
  ARROW_ASSIGN_OR_RAISE(auto run, pipeline::RunPipelineLocked(config, home, {}));
  std::string table = stream;
  if (table.empty()) {
    if (run.result.streams.size() != 1) {
      return arrow::Status::Invalid(
          fmt::format("pipeline '{}' has {} streams: name one with ingest.stream", pipeline,
                      run.result.streams.size()));
    }
    table = run.result.streams.begin()->first;
  }
  const lake::TableEntry* entry = run.FindTable(table);
  if (!entry) {
    return arrow::Status::KeyError(
        fmt::format("pipeline '{}' has no table for stream '{}'", pipeline, table));
  }
  return IngestedTable(run.bucket, *entry);
}

std::optional<std::string> TypeAsDuckDbReadsIt(std::string_view type,
                                               const std::string& timestamp_tz) {
  // Types DuckDB reads back from an Arrow-written Parquet file as another Arrow type.
  static const std::map<std::string_view, std::string_view> kScalars = {
      {"bool", "bool"},
      {"int8", "int8"},
      {"int16", "int16"},
      {"int32", "int32"},
      {"int64", "int64"},
      {"uint8", "uint8"},
      {"uint16", "uint16"},
      {"uint32", "uint32"},
      {"uint64", "uint64"},
      {"float", "float"},
      {"double", "double"},
      {"string", "string"},
      {"large_string", "string"},
      {"binary", "binary"},
      {"large_binary", "binary"},
      {"date32[day]", "date32[day]"},
      {"date64[ms]", "date32[day]"},
      {"time32[s]", "time64[us]"},
      {"time32[ms]", "time64[us]"},
      {"time64[us]", "time64[us]"},
      {"timestamp[s]", "timestamp[us]"},
      {"timestamp[ms]", "timestamp[us]"},
      {"timestamp[us]", "timestamp[us]"},
      {"timestamp[ns]", "timestamp[ns]"},
      {"null", "int32"},
  };
  if (auto it = kScalars.find(type); it != kScalars.end()) return std::string(it->second);
  // Any instant: DuckDB's TIMESTAMPTZ, in microseconds, spelled with its session's zone.
  if (type.starts_with("timestamp[") && type.find(", tz=") != std::string_view::npos) {
    return timestamp_tz;
  }
  if (type.starts_with("decimal128(")) return std::string(type);
  if (type.starts_with("fixed_size_binary[")) return std::string("binary");
  if (type.starts_with("dictionary<values=string,") ||
      type.starts_with("dictionary<values=large_string,")) {
    return std::string("string");
  }
  // A field of a nested type: "name: type" or "name: type not null" (DuckDB's are nullable).
  auto field_type = [&](std::string_view field) -> std::optional<std::string> {
    const auto colon = field.find(": ");
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view child = field.substr(colon + 2);
    if (child.ends_with(" not null")) child.remove_suffix(9);
    auto mapped = TypeAsDuckDbReadsIt(child, timestamp_tz);
    if (!mapped) return std::nullopt;
    return std::string(field.substr(0, colon + 2)) + *mapped;
  };
  auto inside = [&](std::string_view prefix) {
    return type.substr(prefix.size(), type.size() - prefix.size() - 1);
  };
  if ((type.starts_with("list<") || type.starts_with("large_list<")) && type.ends_with(">")) {
    auto child = field_type(inside(type.starts_with("list<") ? "list<" : "large_list<"));
    if (!child) return std::nullopt;
    return "list<l: " + child->substr(child->find(": ") + 2) + ">";
  }
  if (type.starts_with("struct<") && type.ends_with(">")) {
    const std::string_view fields = inside("struct<");
    std::string out;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= fields.size(); ++i) {
      const char c = i < fields.size() ? fields[i] : ',';
      if (c == '<' || c == '[' || c == '(') ++depth;
      if (c == '>' || c == ']' || c == ')') --depth;
      if (c != ',' || depth != 0) continue;
      auto field = field_type(fields.substr(start, i - start));
      if (!field) return std::nullopt;
      out += (out.empty() ? "" : ", ") + *field;
      start = i + 2;  // past ", "
    }
    return "struct<" + out + ">";
  }
  return std::nullopt;
}

std::optional<nlohmann::json> RecordedColumns(const std::vector<parquet::Column>& columns,
                                              const std::string& timestamp_tz) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& column : columns) {
    auto type = TypeAsDuckDbReadsIt(column.type, timestamp_tz);
    if (!type) return std::nullopt;
    // DuckDB reads every column back as nullable.
    out.push_back({{"name", column.name}, {"type", *type}, {"nullable", true}});
  }
  return out;
}

}  // namespace lakepipe::flow
