#include "lakepipe/pipeline/home.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

namespace lakepipe::pipeline {

Home Home::Resolve(const std::string& flag) {
  if (!flag.empty()) return Home(std::filesystem::absolute(flag).lexically_normal().string());
  if (const char* env = std::getenv("LAKEPIPE_HOME"); env && *env) {
    return Home(std::filesystem::absolute(env).lexically_normal().string());
  }
  const char* user_home = std::getenv("HOME");
  return Home(fmt::format("{}/.lakepipe", user_home ? user_home : "."));
}

std::string Home::PipelineFile(const std::string& name) const {
  for (const char* ext : {".yaml", ".yml"}) {
    std::string path = fmt::format("{}/{}{}", PipelinesDir(), name, ext);
    if (std::filesystem::exists(path)) return path;
  }
  return fmt::format("{}/{}.yaml", PipelinesDir(), name);
}

std::vector<std::string> Home::ListPipelines() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(PipelinesDir(), ec)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

arrow::Result<std::vector<std::string>> Home::Initialize() const {
  std::vector<std::string> created;
  for (const auto& dir : {PipelinesDir(), path_ + "/sources", TransformsDir(), LocksDir()}) {
    std::error_code ec;
    if (std::filesystem::create_directories(dir, ec)) created.push_back(dir);
    if (ec) return arrow::Status::IOError(fmt::format("creating '{}': {}", dir, ec.message()));
  }
  return created;
}

}  // namespace lakepipe::pipeline
