#pragma once

#include <map>
#include <string>

#include "lakepipe/flow/task.h"

namespace lakepipe::flow {

/// `read:` — files (a URI with an optional glob) read by a built-in reader into the table.
class ReadTask : public Task {
 public:
  static TaskKindEntry Entry();

  ReadTask(std::string uri, std::string format, std::map<std::string, std::string> options)
      : uri_(std::move(uri)), format_(std::move(format)), options_(std::move(options)) {}

  const char* kind() const override { return "read"; }
  std::vector<ExternalSource> ExternalSources() const override;
  arrow::Result<nlohmann::json> CacheKeyParts(const TaskConfig& task,
                                              const TaskContext& context) const override;
  std::string WhatChanges() const override { return "its source files or reader options"; }
  arrow::Result<tablestore::TableRecord> Execute(const TaskConfig& task,
                                                 const TaskContext& context) const override;

 private:
  std::string uri_;
  std::string format_;  ///< csv | jsonl | parquet; "" = told by the file name
  std::map<std::string, std::string> options_;
};


}  // namespace lakepipe::flow
