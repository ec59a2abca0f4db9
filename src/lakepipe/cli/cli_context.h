#pragma once

#include <memory>
#include <string>

#include <arrow/result.h>

#include "lakepipe/pipeline/home.h"
#include "lakepipe/pipeline/pipeline_config.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::cli {

/// Options every command shares, filled by the global flags.
struct GlobalFlags {
  /// YAML file with a storage block (see StorageOptions); "" = environment only.
  std::string storage_file;
  /// "text" or "json".
  std::string output = "text";
  int verbose = 0;  ///< how many -v: 1 = info, 2 = debug
  /// lakepipe's home folder ("" = $LAKEPIPE_HOME or ~/.lakepipe).
  std::string home;
};

/// Storage options from the environment, then the --storage file over them.
arrow::Result<storage::StorageOptions> LoadStorageOptions(const GlobalFlags& flags);

/// A Storage made from LoadStorageOptions().
arrow::Result<std::unique_ptr<storage::Storage>> OpenStorage(const GlobalFlags& flags);

/// Loads $HOME/pipelines/<name>.yaml; the --storage file, when given, is merged over the
/// pipeline's own storage block.
arrow::Result<pipeline::PipelineConfig> LoadPipeline(const GlobalFlags& flags,
                                                     const std::string& name);

/// True when stderr is a terminal (progress is drawn only then).
bool StderrIsTty();

/// "12.3 MiB".
std::string HumanBytes(double bytes);

}  // namespace lakepipe::cli
