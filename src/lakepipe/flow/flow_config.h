#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/flow/task.h"
#include "lakepipe/storage/storage_options.h"
#include "lakepipe/tablestore/table_store.h"

namespace lakepipe::flow {

/// One task of a flow file (TABLESTORE.md §1): it produces the table named like itself.
struct TaskConfig {
  std::string name;
  /// Its kind and the kind's definition (sql_task.h, read_task.h, exec_task.h,
  /// ingest_task.h); never null in a parsed flow.
  std::shared_ptr<const Task> kind;
  /// `version:` as written ("1.0.0", "2"); "0" when not given. Text, so any change of it
  /// invalidates the task's cache (task_version.h: how it enters the cache key).
  std::string version = "0";
  /// Declared inputs ("stage.table") and the kind's own (Task::DeclaredInputs); SQL tasks
  /// add those DuckDB's parser finds (ResolveTaskInputs).
  std::vector<tablestore::TableRef> inputs;
  tablestore::TableOptions table;
  int line = 0;  ///< where the task starts in the file, for messages
};

struct StageConfig {
  std::string name;
  std::vector<TaskConfig> tasks;
};

/// A flow file.
struct FlowConfig {
  std::string file;  ///< as given, for messages
  std::string dir;   ///< the file's folder: relative paths in it are relative to this
  std::string name;
  tablestore::TableStoreOptions store;
  storage::StorageOptions storage;
  int max_parallel_tasks = 4;
  std::vector<StageConfig> stages;

  const StageConfig* FindStage(const std::string& name) const;
};

/// Loads and checks a flow file. `instance` overrides the file's instance (a catalog path
/// without "{instance}" then gets "_<instance>" before its extension, so instances never
/// share a catalog). Errors name the file, the line and the key; unknown keys are errors.
arrow::Result<FlowConfig> LoadFlowConfig(const std::string& path,
                                         const std::optional<std::string>& instance = {});

/// Parses flow YAML text as LoadFlowConfig does a file's: `where` names it in errors (and
/// becomes FlowConfig::file), `dir` is the folder relative paths in it are resolved against.
arrow::Result<FlowConfig> ParseFlowYaml(const std::string& text, const std::string& where,
                                        const std::string& dir,
                                        const std::optional<std::string>& instance = {});

/// "stage.table" → TableRef; Invalid otherwise.
arrow::Result<tablestore::TableRef> ParseTableRef(const std::string& text);

/// A path of a flow file: relative ones are under `dir` (the file's folder); URIs as
/// written.
std::string ResolveFlowPath(const std::string& dir, const std::string& path);

}  // namespace lakepipe::flow
