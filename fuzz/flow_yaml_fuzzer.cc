// Fuzzes flow::ParseFlowYaml, the text behind LoadFlowConfig, with and without an instance
// given on the command line.

#include <cstdint>
#include <optional>
#include <string>

#include "lakepipe/flow/flow_config.h"
#include "lakepipe/flow/task.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Byte 0: odd means `--instance ci` was given.
  const std::optional<std::string> instance =
      data[0] % 2 ? std::optional<std::string>("ci") : std::nullopt;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto config = lakepipe::flow::ParseFlowYaml(text, "flows/fuzz.yaml", "/work/flows", instance);
  if (!config.ok()) return 0;
  for (const auto& stage : config->stages) {
    if (config->FindStage(stage.name) == nullptr) __builtin_trap();
    // Every parsed task has a kind that can name itself.
    for (const auto& task : stage.tasks) {
      if (task.kind == nullptr || task.kind->kind() == nullptr) __builtin_trap();
    }
  }
  return 0;
}
