#pragma once

#include <string>
#include <vector>

#include <arrow/result.h>

namespace lakepipe::pipeline {

/// lakepipe's home folder: --home, else $LAKEPIPE_HOME, else ~/.lakepipe. Layout (DataSpoc
/// Pipe's, so its files work unchanged):
///   pipelines/<name>.yaml   sources/*.json (tap configs)   transforms/<name>.py
///   locks/<name>.lock       (lakepipe's run locks)
class Home {
 public:
  static Home Resolve(const std::string& flag);

  const std::string& path() const { return path_; }
  std::string PipelinesDir() const { return path_ + "/pipelines"; }
  std::string PipelineFile(const std::string& name) const;
  std::string TransformsDir() const { return path_ + "/transforms"; }
  std::string LocksDir() const { return path_ + "/locks"; }

  /// Names of the pipelines (file stems under pipelines/), sorted.
  std::vector<std::string> ListPipelines() const;

  /// Creates the folders; returns what it created.
  arrow::Result<std::vector<std::string>> Initialize() const;

 private:
  explicit Home(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace lakepipe::pipeline
