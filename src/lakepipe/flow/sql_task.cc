#include "lakepipe/flow/sql_task.h"

#include <fmt/format.h>

#include "lakepipe/common/yaml_reader.h"
#include "lakepipe/flow/file_fingerprint.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/flow/sql_references.h"

namespace lakepipe::flow {
namespace {

arrow::Result<std::shared_ptr<const Task>> Parse(const TaskYaml& yaml) {
  ARROW_ASSIGN_OR_RAISE(auto sql, yaml.reader.String(yaml.node["sql"], yaml.path + ".sql"));
  return std::make_shared<SqlTask>(std::move(sql));
}

}  // namespace

TaskKindEntry SqlTask::Entry() { return {"sql", {}, &Parse}; }

arrow::Result<std::vector<tablestore::TableRef>> SqlTask::FoundInputs(
    duckdb::Database& parser) const {
  return TableReferences(parser, sql_);
}

arrow::Result<nlohmann::json> SqlTask::CacheKeyParts(const TaskConfig&,
                                                     const TaskContext& context) const {
  nlohmann::json parts = {{"sql", sql_}};
  // Files the SQL reads itself (read_csv('…'), FROM 'x.parquet'), fingerprinted as a read
  // task's; absent from the key when there are none, so such keys stay as they were.
  ARROW_ASSIGN_OR_RAISE(auto references, context.sql_files->Get(sql_));
  nlohmann::json files = nlohmann::json::array();
  for (const auto& reference : references) {
    const std::string location = ResolveSqlFile(reference.path, context.flow->dir);
    auto listing = ListFiles(&context.store->storage(), location);
    if (!listing.ok()) {
      return listing.status().WithMessage(
          fmt::format("the SQL reads '{}': {}", reference.path, listing.status().message()));
    }
    files.push_back({location, *listing});
  }
  if (!files.empty()) parts["sql_files"] = files;
  return parts;
}

arrow::Result<tablestore::TableRecord> SqlTask::Execute(const TaskConfig& task,
                                                        const TaskContext& context) const {
  // DuckDB would resolve relative file paths against our working folder: make them the
  // flow folder's, as the cache key does.
  ARROW_ASSIGN_OR_RAISE(auto files, context.sql_files->Get(sql_));
  ARROW_ASSIGN_OR_RAISE(auto sql, SqlWithResolvedFiles(sql_, files, context.flow->dir));
  return context.tx->WriteSql(task.name, sql, task.inputs, task.table);
}

}  // namespace lakepipe::flow
