#include "lakepipe/flow/exec_task.h"

#include <filesystem>

#include "lakepipe/common/shell_quote.h"
#include "lakepipe/common/yaml_reader.h"
#include "lakepipe/flow/exec_process.h"
#include "lakepipe/flow/file_fingerprint.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/storage/storage_environment.h"
#include "lakepipe/tablestore/catalog.h"

namespace lakepipe::flow {
namespace {

arrow::Result<std::shared_ptr<const Task>> Parse(const TaskYaml& yaml) {
  const auto& r = yaml.reader;
  const auto& path = yaml.path;
  const auto exec = yaml.node["exec"];
  ARROW_ASSIGN_OR_RAISE(auto argv, r.Strings(exec, path + ".exec"));
  if (argv.empty()) return r.Error(exec, path + ".exec: the command is empty");
  std::string stdin_table;
  if (const auto given = yaml.node["stdin"]) {
    ARROW_ASSIGN_OR_RAISE(stdin_table, r.String(given, path + ".stdin"));
    auto ref = ParseTableRef(stdin_table);
    if (!ref.ok()) return r.Error(given, path + ".stdin: " + ref.status().message());
  }
  return std::make_shared<ExecTask>(std::move(argv), std::move(stdin_table));
}

}  // namespace

TaskKindEntry ExecTask::Entry() { return {"exec", {"stdin"}, &Parse}; }

std::vector<tablestore::TableRef> ExecTask::DeclaredInputs() const {
  if (auto ref = ParseTableRef(stdin_table_); ref.ok()) return {*ref};
  return {};
}

std::vector<ExternalSource> ExecTask::ExternalSources() const {
  // As a shell would be given it, so words with spaces stay apart.
  std::string line;
  for (const auto& arg : argv_) {
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789_-./:,+@%") == std::string::npos;
    line += (line.empty() ? "" : " ") + (plain ? arg : common::ShellQuote(arg));
  }
  return {{"command", line}};
}

std::shared_ptr<const Task> ExecTask::Respelled(
    const std::function<tablestore::TableRef(tablestore::TableRef)>& respell) const {
  auto ref = ParseTableRef(stdin_table_);
  if (!ref.ok()) return nullptr;
  return std::make_shared<ExecTask>(argv_, respell(*ref).ToString());
}

arrow::Result<nlohmann::json> ExecTask::CacheKeyParts(const TaskConfig&,
                                                      const TaskContext& context) const {
  nlohmann::json parts = {{"exec", argv_}, {"stdin", stdin_table_}};
  nlohmann::json scripts = nlohmann::json::object();
  for (const auto& arg : argv_) {
    const std::string digest =
        FileDigest((std::filesystem::path(context.flow->dir) / arg).string());
    if (!digest.empty()) scripts[arg] = digest;
  }
  parts["scripts"] = scripts;
  return parts;
}

arrow::Result<tablestore::TableRecord> ExecTask::Execute(const TaskConfig& task,
                                                         const TaskContext& context) const {
  auto* tx = context.tx;
  ExecLaunch launch;
  launch.argv = argv_;
  launch.working_dir = context.flow->dir;
  launch.env = storage::StorageEnvironment(context.flow->storage);
  for (const auto& ref : task.inputs) {
    ARROW_ASSIGN_OR_RAISE(const tablestore::TableRecord* record, tx->Resolve(ref));
    auto& files = launch.input_files[ref.ToString()];
    for (const auto& file : record->files) {
      files.push_back(tablestore::DuckDbPath(context.store->base().Join(file.path)));
    }
  }
  if (!stdin_table_.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto ref, ParseTableRef(stdin_table_));
    ARROW_ASSIGN_OR_RAISE(launch.stdin_table, tx->ReadTable(ref));
  }
  ARROW_ASSIGN_OR_RAISE(auto reader, StartExecProgram(launch));
  return tx->WriteTable(task.name, *reader, task.table);
}

}  // namespace lakepipe::flow
