#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/tablestore/table_store.h"

namespace YAML {
class Node;
}

namespace lakepipe::common {
class YamlReader;
}

namespace lakepipe::duckdb {
class Database;
}

namespace lakepipe::flow {

struct FlowConfig;
struct TaskConfig;
class FileReferenceCache;

/// What a kind's Prepare() leaves for the task's cache key and execution.
struct TaskPreparation {
  virtual ~TaskPreparation() = default;
};

/// What a task kind needs from the run it is part of. One per call: `prepared` and `tx`
/// belong to the task at hand.
struct TaskContext {
  const FlowConfig* flow = nullptr;  ///< its folder (dir) and storage settings
  tablestore::TableStore* store = nullptr;
  FileReferenceCache* sql_files = nullptr;  ///< the run's parsed SQL file references
  std::string home;          ///< lakepipe home of ingest pipelines ("" = default)
  std::string storage_file;  ///< the --storage file merged into pipelines' storage ("" = none)
  /// What the kind's Prepare() returned for this task in this run of its stage, or null.
  const TaskPreparation* prepared = nullptr;
  tablestore::StageTransaction* tx = nullptr;  ///< Execute() only: the stage being written
};

/// Where a task's YAML is, for a kind's parser: the task's map, its key path
/// ("stages[0].tasks[1]") and the flow file's folder (relative paths are relative to it).
struct TaskYaml {
  const common::YamlReader& reader;
  const YAML::Node& node;
  const std::string& path;
  const std::string& dir;
};

/// Something a task reads that is not a table of the flow, as `flow graph` shows it.
struct ExternalSource {
  std::string kind;  ///< what it is: "files", "pipeline", "command"
  std::string name;  ///< the URI or glob, the pipeline (and stream), the command line
  /// Whether `name` is a path on this machine (shown relative to the flow's folder).
  bool local_path = false;

  bool operator==(const ExternalSource&) const = default;
};

/// One kind of task (sql, read, exec, ingest): its kind-specific definition and what the
/// runner asks of it. Immutable once parsed, so flow configs share it when copied. The
/// common fields (name, version, inputs, table options) are the TaskConfig's.
class Task {
 public:
  virtual ~Task() = default;

  /// The kind's name: its YAML key, the "kind" of cache keys and task records.
  virtual const char* kind() const = 0;

  /// Inputs the definition names besides `inputs:` (an exec task's stdin table), added to
  /// the task's inputs when the flow file is read.
  virtual std::vector<tablestore::TableRef> DeclaredInputs() const { return {}; }

  /// What the task reads besides the flow's tables (a read task's files, an ingest task's
  /// pipeline, an exec task's command): what `flow graph` draws as its external inputs.
  virtual std::vector<ExternalSource> ExternalSources() const { return {}; }

  /// Inputs found in the definition by DuckDB's parser (a SQL task's table references),
  /// added when the flow's inputs are resolved. A syntax error is Invalid.
  virtual arrow::Result<std::vector<tablestore::TableRef>> FoundInputs(
      duckdb::Database& parser) const;

  /// The definition with the table references it holds spelled as `respell` gives them
  /// (the flow file's spelling), or null when it holds none.
  virtual std::shared_ptr<const Task> Respelled(
      const std::function<tablestore::TableRef(tablestore::TableRef)>& respell) const {
    return nullptr;
  }

  /// Whether the kind lands data before its stage's cache keys are computed (Prepare());
  /// the cache key of such a task can only be known in a run, so outside one it counts
  /// as current.
  virtual bool Prepares() const { return false; }

  /// Done once per run of the task's stage, before any cache key: an ingest task runs its
  /// pipeline. The result reaches CacheKeyParts() and Execute() as TaskContext::prepared.
  virtual arrow::Result<std::shared_ptr<const TaskPreparation>> Prepare(
      const TaskConfig& task, const TaskContext& context) const;

  /// The kind's part of the cache key (its definition, the files it reads): merged into the
  /// key's JSON object with the common part (see TaskCacheKey). Keys are persisted: a
  /// change of these fields makes every existing task of the kind run again.
  virtual arrow::Result<nlohmann::json> CacheKeyParts(const TaskConfig& task,
                                                      const TaskContext& context) const = 0;

  /// What may have changed when the key differs and neither the version nor an input
  /// explains it: "its SQL or table options".
  virtual std::string WhatChanges() const = 0;

  /// Writes the task's table into `context.tx` (through one of its writers, or
  /// AddWritten) and returns its record.
  virtual arrow::Result<tablestore::TableRecord> Execute(const TaskConfig& task,
                                                         const TaskContext& context) const = 0;
};

/// How a kind is made from YAML: the key that makes a task of it, the other task keys only
/// it takes, and its parser (called when `key` is present; it reads `key` and `extra_keys`).
struct TaskKindEntry {
  const char* key;
  std::vector<const char*> extra_keys;
  arrow::Result<std::shared_ptr<const Task>> (*parse)(const TaskYaml& yaml);
};

/// Every task kind, in the order flow files' messages name them.
const std::vector<TaskKindEntry>& TaskKinds();

/// The content hash of an input table, by reference.
using InputContent = std::function<arrow::Result<std::string>(const tablestore::TableRef&)>;

/// The task's cache key: its name, version, kind, table options, its kind's parts
/// (Task::CacheKeyParts) and its inputs' content, as JSON hashed to base32.
arrow::Result<std::string> TaskCacheKey(const TaskConfig& task, const TaskContext& context,
                                        const InputContent& content);

}  // namespace lakepipe::flow
