#pragma once

#include "lakepipe/flow/task.h"

namespace lakepipe::flow {

/// `sql:` — a DuckDB query over the flow's tables (its inputs, found by DuckDB's parser)
/// and the files it reads itself, relative paths under the flow's folder.
class SqlTask : public Task {
 public:
  static TaskKindEntry Entry();

  explicit SqlTask(std::string sql) : sql_(std::move(sql)) {}

  const char* kind() const override { return "sql"; }
  arrow::Result<std::vector<tablestore::TableRef>> FoundInputs(
      duckdb::Database& parser) const override;
  arrow::Result<nlohmann::json> CacheKeyParts(const TaskConfig& task,
                                              const TaskContext& context) const override;
  std::string WhatChanges() const override { return "its SQL or table options"; }
  arrow::Result<tablestore::TableRecord> Execute(const TaskConfig& task,
                                                 const TaskContext& context) const override;

 private:
  std::string sql_;
};

}  // namespace lakepipe::flow
