#include "lakepipe/flow/read_task.h"

#include <fmt/format.h>

#include "lakepipe/common/yaml_reader.h"
#include "lakepipe/flow/file_fingerprint.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/sources/file_formats.h"
#include "lakepipe/sources/file_source.h"

namespace lakepipe::flow {
namespace {

using tablestore::StageTransaction;
using tablestore::TableRecord;

arrow::Result<std::shared_ptr<const Task>> Parse(const TaskYaml& yaml) {
  const auto& r = yaml.reader;
  const auto& path = yaml.path;
  const auto read = yaml.node["read"];
  ARROW_RETURN_NOT_OK(r.OnlyKeys(read, path + ".read", {"uri", "format", "options"}));
  if (!read["uri"]) return r.Error(read, path + ".read: 'uri' is required");
  ARROW_ASSIGN_OR_RAISE(auto uri, r.String(read["uri"], path + ".read.uri"));
  std::string format;
  if (read["format"]) {
    ARROW_ASSIGN_OR_RAISE(format, r.String(read["format"], path + ".read.format"));
    if (!sources::IsFileFormat(format)) {
      return r.Error(read["format"], fmt::format("'{}.read.format' is '{}': use {}", path, format,
                                                 sources::FileFormatNames()));
    }
  }
  std::map<std::string, std::string> options;
  if (const auto given = read["options"]) {
    if (!given.IsMap()) return r.Error(given, path + ".read.options must be a map");
    for (const auto& item : given) {
      ARROW_ASSIGN_OR_RAISE(auto key, r.Key(item.first, path + ".read.options"));
      if (item.second.IsMap() || item.second.IsSequence()) {
        return r.Error(item.second, fmt::format("'{}.read.options.{}' must be a value", path, key));
      }
      ARROW_ASSIGN_OR_RAISE(options[key], r.Value(item.second, path + ".read.options." + key));
    }
  }
  return std::make_shared<ReadTask>(ResolveFlowPath(yaml.dir, uri), std::move(format),
                                    std::move(options));
}

/// Writes a built-in reader's batches into one table.
class TableSink : public sources::IngestSink {
 public:
  TableSink(StageTransaction* tx, tablestore::TableStore* store, const TaskConfig& task,
            const std::string& uri)
      : tx_(tx), store_(store), task_(task), uri_(uri) {}

  arrow::Status OnSchema(const std::string&,
                         const std::shared_ptr<arrow::Schema>& schema) override {
    if (writer_) {
      if (schema->Equals(*schema_)) return arrow::Status::OK();
      return arrow::Status::Invalid("the files do not all have the same columns");
    }
    schema_ = schema;
    ARROW_ASSIGN_OR_RAISE(
        writer_, tablestore::TableWriter::Make(
                     store_->storage(), store_->base(),
                     store_->TableDir(tx_->stage(), tx_->slot(), task_.name), schema, task_.table,
                     tx_->file_stem()));
    return arrow::Status::OK();
  }
  arrow::Status OnBatch(const std::string&,
                        const std::shared_ptr<arrow::RecordBatch>& batch) override {
    return writer_->Write(*batch);
  }
  arrow::Status OnState(const nlohmann::json&) override { return arrow::Status::OK(); }

  arrow::Result<TableRecord> Finish() {
    if (!writer_) return arrow::Status::Invalid(fmt::format("'{}' matched no file", uri_));
    TableRecord record;
    ARROW_RETURN_NOT_OK(writer_->Finish(&record));
    return record;
  }

 private:
  StageTransaction* tx_;
  tablestore::TableStore* store_;
  const TaskConfig& task_;
  const std::string& uri_;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<tablestore::TableWriter> writer_;
};

}  // namespace

TaskKindEntry ReadTask::Entry() { return {"read", {}, &Parse}; }

std::vector<ExternalSource> ReadTask::ExternalSources() const {
  return {{"files", uri_, uri_.find("://") == std::string::npos}};
}

arrow::Result<nlohmann::json> ReadTask::CacheKeyParts(const TaskConfig&,
                                                      const TaskContext& context) const {
  nlohmann::json parts;
  parts["read"] = {{"uri", uri_}, {"format", format_}, {"options", options_}};
  ARROW_ASSIGN_OR_RAISE(parts["files"], ListFiles(&context.store->storage(), uri_));
  return parts;
}

arrow::Result<TableRecord> ReadTask::Execute(const TaskConfig& task,
                                             const TaskContext& context) const {
  const std::string format = format_.empty() ? sources::FormatOfPath(uri_) : format_;
  if (format.empty()) {
    return arrow::Status::Invalid(fmt::format(
        "cannot tell the format of '{}': set read.format ({})", uri_, sources::FileFormatNames()));
  }
  auto* store = context.store;
  sources::FileSource source(&store->storage(), format, uri_, task.name, options_);
  TableSink sink(context.tx, store, task, uri_);
  ARROW_RETURN_NOT_OK(source.Run(&sink));
  ARROW_ASSIGN_OR_RAISE(auto record, sink.Finish());
  return context.tx->AddWritten(task.name, std::move(record));
}


}  // namespace lakepipe::flow
