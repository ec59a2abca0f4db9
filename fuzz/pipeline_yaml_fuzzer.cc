// Fuzzes pipeline::ParsePipelineYaml, and what a run does next with an accepted pipeline:
// name its source and write the tap's inline config as JSON (tap_process.cc).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "lakepipe/pipeline/pipeline_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = lakepipe::pipeline::ParsePipelineYaml(text, "fuzz", "pipelines/fuzz.yaml",
                                                      "/nonexistent/lakepipe-home");
  if (!config.ok()) return 0;
  (void)config->SourceName();
  if (config->source.config_inline) (void)config->source.config_inline->dump();
  return 0;
}
