#pragma once

#include <string>
#include <vector>

#include "lakepipe/flow/task.h"

namespace lakepipe::flow {

/// `exec:` — a program that writes the table as Arrow IPC on stdout (exec_process.h), given
/// its inputs' files and, with `stdin:`, one input table on stdin. A script named on its
/// command line is part of its definition.
class ExecTask : public Task {
 public:
  static TaskKindEntry Entry();

  /// `stdin_table`: "stage.table", or "" for none.
  ExecTask(std::vector<std::string> argv, std::string stdin_table)
      : argv_(std::move(argv)), stdin_table_(std::move(stdin_table)) {}

  const char* kind() const override { return "exec"; }
  std::vector<tablestore::TableRef> DeclaredInputs() const override;
  std::vector<ExternalSource> ExternalSources() const override;
  std::shared_ptr<const Task> Respelled(
      const std::function<tablestore::TableRef(tablestore::TableRef)>& respell) const override;
  arrow::Result<nlohmann::json> CacheKeyParts(const TaskConfig& task,
                                              const TaskContext& context) const override;
  std::string WhatChanges() const override { return "its command, scripts or table options"; }
  arrow::Result<tablestore::TableRecord> Execute(const TaskConfig& task,
                                                 const TaskContext& context) const override;

 private:
  std::vector<std::string> argv_;
  std::string stdin_table_;
};

}  // namespace lakepipe::flow
