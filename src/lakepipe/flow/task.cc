#include "lakepipe/flow/task.h"

#include "lakepipe/common/sha256.h"
#include "lakepipe/flow/exec_task.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/flow/ingest_task.h"
#include "lakepipe/flow/read_task.h"
#include "lakepipe/flow/sql_task.h"
#include "lakepipe/flow/task_version.h"

namespace lakepipe::flow {

arrow::Result<std::vector<tablestore::TableRef>> Task::FoundInputs(duckdb::Database&) const {
  return std::vector<tablestore::TableRef>{};
}

arrow::Result<std::shared_ptr<const TaskPreparation>> Task::Prepare(const TaskConfig&,
                                                                    const TaskContext&) const {
  return nullptr;
}

const std::vector<TaskKindEntry>& TaskKinds() {
  // A new kind: its file, and one line here.
  static const std::vector<TaskKindEntry> kinds = {
      SqlTask::Entry(),
      ReadTask::Entry(),
      ExecTask::Entry(),
      IngestTask::Entry(),
  };
  return kinds;
}

arrow::Result<std::string> TaskCacheKey(const TaskConfig& task, const TaskContext& context,
                                        const InputContent& content) {
  nlohmann::json key = {{"task", task.name},
                        {"version", TaskVersionCacheValue(task.version)},
                        {"kind", task.kind->kind()},
                        {"not_null", task.table.not_null},
                        {"sort_by", task.table.sort_by},
                        {"partition_by", task.table.partition_by},
                        {"compression", task.table.parquet.compression},
                        {"compression_level", task.table.parquet.compression_level},
                        {"row_group_rows", task.table.parquet.row_group_rows},
                        {"file_size_bytes", task.table.file_size_bytes}};
  // An object: its keys are sorted when dumped, so where a part is added does not matter.
  ARROW_ASSIGN_OR_RAISE(auto parts, task.kind->CacheKeyParts(task, context));
  for (auto part = parts.begin(); part != parts.end(); ++part) key[part.key()] = *part;
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& ref : task.inputs) {
    ARROW_ASSIGN_OR_RAISE(inputs[ref.ToString()], content(ref));
  }
  key["inputs"] = inputs;
  common::Sha256 hash;
  hash.Update(key.dump());
  return hash.Base32Digest();
}

}  // namespace lakepipe::flow
