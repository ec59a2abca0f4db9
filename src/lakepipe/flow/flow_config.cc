#include "lakepipe/flow/flow_config.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "lakepipe/common/yaml_reader.h"
#include "lakepipe/flow/flow_names.h"
#include "lakepipe/parquet/parquet_options_yaml.h"

namespace lakepipe::flow {
namespace {

using common::YamlReader;

bool IsIdentifier(const std::string& name) {
  static const std::regex kIdentifier("[A-Za-z_][A-Za-z0-9_]*");
  return std::regex_match(name, kIdentifier);
}

/// Options shared by the store block and each task (codec, sizes).
arrow::Status ParseTableOptions(const YamlReader& r, const YAML::Node& node,
                                const std::string& path, tablestore::TableOptions* out) {
  // `path` ends with '.', as the keys below are written; the Parquet parser wants the map's.
  ARROW_RETURN_NOT_OK(parquet::ParseParquetYaml(r, node, path.substr(0, path.size() - 1),
                                                &out->parquet, &out->file_size_bytes));
  for (auto [key, value] : {std::pair{"max_partitions", &out->max_partitions},
                             std::pair{"max_open_files", &out->max_open_files}}) {
    if (!node[key]) continue;
    ARROW_ASSIGN_OR_RAISE(*value, r.Int(node[key], path + key));
    if (*value < 1) return r.Error(node[key], fmt::format("'{}{}' must be at least 1", path, key));
  }
  return arrow::Status::OK();
}

/// `node`'s keys are all in `allowed` (YamlReader::OnlyKeys, for a list known at run time).
arrow::Status OnlyTaskKeys(const YamlReader& r, const YAML::Node& node, const std::string& path,
                           const std::set<std::string>& allowed) {
  if (!node.IsMap()) return r.Error(node, fmt::format("'{}' must be a map", path));
  for (const auto& item : node) {
    ARROW_ASSIGN_OR_RAISE(const auto key, r.Key(item.first, path));
    if (!allowed.contains(key)) {
      return r.Error(item.first, fmt::format("unknown key '{}.{}'", path, key));
    }
  }
  return arrow::Status::OK();
}

arrow::Status ParseTask(const YamlReader& r, const YAML::Node& node, const std::string& path,
                        const std::string& dir, const tablestore::TableOptions& defaults,
                        TaskConfig* task) {
  std::set<std::string> keys = {"name",         "version",           "inputs",
                                "not_null",     "sort_by",           "partition_by",
                                "compression",  "compression_level", "row_group_rows",
                                "file_size_mb", "max_partitions",    "max_open_files"};
  std::string kind_names;
  for (const auto& kind : TaskKinds()) {
    keys.insert(kind.key);
    keys.insert(kind.extra_keys.begin(), kind.extra_keys.end());
    kind_names += (kind_names.empty() ? "" : ", ") + std::string(kind.key);
  }
  ARROW_RETURN_NOT_OK(OnlyTaskKeys(r, node, path, keys));
  task->line = node.Mark().line + 1;
  if (!node["name"]) return r.Error(node, path + ": 'name' is required");
  ARROW_ASSIGN_OR_RAISE(task->name, r.String(node["name"], path + ".name"));
  if (auto status = CheckTaskName(task->name); !status.ok()) {
    return r.Error(node["name"], fmt::format("'{}.name': task name {}", path, status.message()));
  }
  if (const auto version = node["version"]) {
    if (!version.IsScalar() || version.Scalar().empty()) {
      return r.Error(version, fmt::format("'{}.version' must be a string or an integer", path));
    }
    task->version = version.Scalar();
  }
  int kinds = 0;
  const TaskKindEntry* chosen = nullptr;
  for (const auto& kind : TaskKinds()) {
    if (!node[kind.key]) continue;
    ++kinds;
    chosen = &kind;
    ARROW_ASSIGN_OR_RAISE(task->kind, kind.parse({r, node, path, dir}));
  }
  if (kinds != 1) {
    return r.Error(node, fmt::format("task '{}' needs exactly one of {}", task->name, kind_names));
  }
  // A key of another kind ("stdin" on a sql task).
  for (const auto& kind : TaskKinds()) {
    if (&kind == chosen) continue;
    for (const char* key : kind.extra_keys) {
      if (node[key]) {
        return r.Error(node[key], fmt::format("{}.{}: only for {} tasks", path, key, kind.key));
      }
    }
  }
  if (node["inputs"]) {
    ARROW_ASSIGN_OR_RAISE(auto inputs, r.Strings(node["inputs"], path + ".inputs"));
    for (const auto& text : inputs) {
      auto ref = ParseTableRef(text);
      if (!ref.ok()) return r.Error(node["inputs"], path + ".inputs: " + ref.status().message());
      task->inputs.push_back(*ref);
    }
  }
  for (const auto& ref : task->kind->DeclaredInputs()) {
    if (std::find(task->inputs.begin(), task->inputs.end(), ref) == task->inputs.end()) {
      task->inputs.push_back(ref);
    }
  }
  task->table = defaults;
  if (node["not_null"]) {
    ARROW_ASSIGN_OR_RAISE(task->table.not_null, r.Strings(node["not_null"], path + ".not_null"));
  }
  if (node["sort_by"]) {
    ARROW_ASSIGN_OR_RAISE(task->table.sort_by, r.Strings(node["sort_by"], path + ".sort_by"));
  }
  if (node["partition_by"]) {
    ARROW_ASSIGN_OR_RAISE(task->table.partition_by,
                          r.Strings(node["partition_by"], path + ".partition_by"));
  }
  return ParseTableOptions(r, node, path + ".", &task->table);
}

}  // namespace

std::string ResolveFlowPath(const std::string& dir, const std::string& path) {
  if (path.find("://") != std::string::npos) return path;
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(dir) / p;
  return p.lexically_normal().string();
}

arrow::Result<tablestore::TableRef> ParseTableRef(const std::string& text) {
  const auto dot = text.find('.');
  if (dot == std::string::npos || text.find('.', dot + 1) != std::string::npos) {
    return arrow::Status::Invalid(fmt::format("'{}' is not stage.table", text));
  }
  return tablestore::TableRef{text.substr(0, dot), text.substr(dot + 1)};
}

const StageConfig* FlowConfig::FindStage(const std::string& name) const {
  for (const auto& stage : stages) {
    if (stage.name == name) return &stage;
  }
  return nullptr;
}

arrow::Result<FlowConfig> LoadFlowConfig(const std::string& path,
                                         const std::optional<std::string>& instance) {
  std::ifstream in(path);
  if (!in) return arrow::Status::IOError(fmt::format("cannot read flow file '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseFlowYaml(text.str(), path, std::filesystem::absolute(path).parent_path().string(),
                       instance);
}

arrow::Result<FlowConfig> ParseFlowYaml(const std::string& text, const std::string& where,
                                        const std::string& dir,
                                        const std::optional<std::string>& instance) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return arrow::Status::Invalid(fmt::format("{}:{}: {}", where, e.mark.line + 1, e.msg));
  }
  YamlReader r(where, text);
  ARROW_RETURN_NOT_OK(r.OnlyKeys(root, "",
                                 {"name", "instance", "table_store", "metadata", "locks", "storage",
                                  "stages", "max_parallel_tasks"}));
  FlowConfig out;
  out.file = where;
  out.dir = dir;
  if (!root["name"]) return r.Error(root, "'name' is required");
  ARROW_ASSIGN_OR_RAISE(out.name, r.String(root["name"], "name"));
  out.store.flow = out.name;
  std::string file_instance = "default";
  if (root["instance"]) {
    ARROW_ASSIGN_OR_RAISE(file_instance, r.String(root["instance"], "instance"));
  }
  out.store.instance = instance.value_or(file_instance);
  if (!IsIdentifier(out.store.instance)) {
    return r.Error(root,
                   fmt::format("instance '{}' must be letters, digits and _", out.store.instance));
  }
  const auto store = root["table_store"];
  if (!store) return r.Error(root, "'table_store' is required");
  ARROW_RETURN_NOT_OK(r.OnlyKeys(
      store, "table_store",
      {"base", "catalog", "compression", "compression_level", "row_group_rows", "file_size_mb",
       "max_partitions", "max_open_files", "keep_replaced_seconds"}));
  if (!store["base"]) return r.Error(store, "'table_store.base' is required");
  ARROW_ASSIGN_OR_RAISE(auto base, r.String(store["base"], "table_store.base"));
  out.store.base = ResolveFlowPath(out.dir, base);
  std::string catalog = out.name + ".duckdb";
  if (store["catalog"]) {
    ARROW_ASSIGN_OR_RAISE(catalog, r.String(store["catalog"], "table_store.catalog"));
  }
  if (const auto at = catalog.find("{instance}"); at != std::string::npos) {
    catalog.replace(at, 10, out.store.instance);
  } else if (out.store.instance != file_instance) {
    const std::filesystem::path p(catalog);
    catalog =
        (p.parent_path() / (p.stem().string() + "_" + out.store.instance + p.extension().string()))
            .string();
  }
  out.store.catalog_path = ResolveFlowPath(out.dir, catalog);
  const std::string catalog_database = CatalogDatabaseName(out.store.catalog_path);
  if (auto status = CheckCatalogDatabaseName(catalog_database); !status.ok()) {
    return r.Error(store["catalog"] ? store["catalog"] : root["name"],
                   fmt::format("'{}': {}", store["catalog"] ? "table_store.catalog" : "name",
                               status.message()));
  }
  ARROW_RETURN_NOT_OK(ParseTableOptions(r, store, "table_store.", &out.store.table_defaults));
  if (store["keep_replaced_seconds"]) {
    ARROW_ASSIGN_OR_RAISE(auto seconds, r.Int(store["keep_replaced_seconds"],
                                              "table_store.keep_replaced_seconds"));
    if (seconds < 0) {
      return r.Error(store["keep_replaced_seconds"],
                     "table_store.keep_replaced_seconds must be 0 or more");
    }
    out.store.keep_replaced_for = std::chrono::seconds(seconds);
  }
  if (root["metadata"]) {
    ARROW_ASSIGN_OR_RAISE(out.store.metadata, r.String(root["metadata"], "metadata"));
  }
  if (root["locks"]) {
    ARROW_ASSIGN_OR_RAISE(auto locks, r.String(root["locks"], "locks"));
    if (locks != "auto")
      return r.Error(root["locks"],
                     fmt::format("locks '{}': only auto is supported "
                                 "(file locks embedded, advisory locks on PostgreSQL)",
                                 locks));
  }
  if (root["max_parallel_tasks"]) {
    ARROW_ASSIGN_OR_RAISE(auto n, r.Int(root["max_parallel_tasks"], "max_parallel_tasks"));
    out.max_parallel_tasks = static_cast<int>(std::max<int64_t>(n, 1));
  }
  out.storage = storage::StorageOptions::FromEnvironment();
  if (root["storage"]) ARROW_RETURN_NOT_OK(out.storage.MergeYaml(r, root["storage"]));

  const auto stages = root["stages"];
  if (!stages || !stages.IsSequence() || stages.size() == 0) {
    return r.Error(root, "'stages' must be a non-empty list");
  }
  std::map<std::string, std::string> stage_names;  // NameKey → the name as written
  for (size_t s = 0; s < stages.size(); ++s) {
    const std::string spath = fmt::format("stages[{}]", s);
    ARROW_RETURN_NOT_OK(r.OnlyKeys(stages[s], spath, {"name", "tasks"}));
    StageConfig stage;
    if (!stages[s]["name"]) return r.Error(stages[s], spath + ": 'name' is required");
    ARROW_ASSIGN_OR_RAISE(stage.name, r.String(stages[s]["name"], spath + ".name"));
    if (auto status = CheckStageName(stage.name, catalog_database); !status.ok()) {
      return r.Error(stages[s]["name"],
                     fmt::format("'{}.name': stage name {}", spath, status.message()));
    }
    // DuckDB folds case: "Raw" and "raw" would be one schema.
    if (auto [it, added] = stage_names.emplace(NameKey(stage.name), stage.name); !added) {
      return r.Error(
          stages[s]["name"],
          fmt::format("'{}.name': stage '{}' appears twice{}", spath, stage.name,
                      it->second == stage.name
                          ? ""
                          : fmt::format(" (as '{}'; case does not matter)", it->second)));
    }
    const auto tasks = stages[s]["tasks"];
    if (!tasks || !tasks.IsSequence() || tasks.size() == 0) {
      return r.Error(stages[s], spath + ".tasks must be a non-empty list");
    }
    std::map<std::string, std::string> task_names;
    for (size_t t = 0; t < tasks.size(); ++t) {
      TaskConfig task;
      ARROW_RETURN_NOT_OK(ParseTask(r, tasks[t], fmt::format("{}.tasks[{}]", spath, t), out.dir,
                                    out.store.table_defaults, &task));
      // DuckDB folds case: "dfA" and "DFA" would be one view.
      if (auto [it, added] = task_names.emplace(NameKey(task.name), task.name); !added) {
        return r.Error(
            tasks[t]["name"],
            fmt::format("'{}.tasks[{}].name': task '{}' appears twice in stage '{}'{}", spath, t,
                        task.name, stage.name,
                        it->second == task.name
                            ? ""
                            : fmt::format(" (as '{}'; case does not matter)", it->second)));
      }
      stage.tasks.push_back(std::move(task));
    }
    out.stages.push_back(std::move(stage));
  }
  return out;
}

}  // namespace lakepipe::flow
