#include "lakepipe/flow/task_graph.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/flow/flow_names.h"

namespace lakepipe::flow {

using tablestore::TableRef;

std::set<std::string> CyclicTasks(const StageConfig& stage) {
  // Repeatedly remove tasks whose same-stage inputs are gone: what stays is in a cycle.
  std::set<std::string> left;
  for (const auto& task : stage.tasks) left.insert(task.name);
  for (bool progress = true; progress && !left.empty();) {
    progress = false;
    for (const auto& task : stage.tasks) {
      if (!left.contains(task.name)) continue;
      const bool blocked = std::any_of(
          task.inputs.begin(), task.inputs.end(),
          [&](const TableRef& r) { return r.stage == stage.name && left.contains(r.table); });
      if (!blocked) {
        left.erase(task.name);
        progress = true;
      }
    }
  }
  return left;
}

arrow::Status ResolveTaskInputs(FlowConfig* config) {
  ARROW_ASSIGN_OR_RAISE(auto parser, duckdb::Database::Open({}));
  // Keyed as DuckDB compares names, so "RAW.orders" in SQL is the stage raw's table.
  std::map<std::string, size_t> stage_index;
  for (size_t i = 0; i < config->stages.size(); ++i) {
    stage_index[NameKey(config->stages[i].name)] = i;
  }
  // A reference spelled as the flow file spells the stage and the task it names.
  auto as_in_flow = [&](TableRef ref) {
    auto it = stage_index.find(NameKey(ref.stage));
    if (it == stage_index.end()) return ref;
    const auto& source = config->stages[it->second];
    ref.stage = source.name;
    for (const auto& t : source.tasks) {
      if (NameKey(t.name) == NameKey(ref.table)) ref.table = t.name;
    }
    return ref;
  };
  for (size_t s = 0; s < config->stages.size(); ++s) {
    auto& stage = config->stages[s];
    for (auto& task : stage.tasks) {
      auto fail = [&](const std::string& message) {
        return arrow::Status::Invalid(fmt::format("flow '{}', stage '{}', task '{}' ({}:{}): {}",
                                                  config->name, stage.name, task.name, config->file,
                                                  task.line, message));
      };
      for (auto& ref : task.inputs) ref = as_in_flow(ref);
      if (auto respelled = task.kind->Respelled(as_in_flow)) task.kind = std::move(respelled);
      auto found = task.kind->FoundInputs(*parser);
      if (!found.ok()) return fail(found.status().message());
      for (const auto& reference : *found) {
        const TableRef ref = as_in_flow(reference);
        if (std::find(task.inputs.begin(), task.inputs.end(), ref) == task.inputs.end()) {
          task.inputs.push_back(ref);
        }
      }
      for (const auto& ref : task.inputs) {
        auto it = stage_index.find(NameKey(ref.stage));
        if (it == stage_index.end()) {
          return fail(fmt::format("'{}' names no stage of the flow", ref.ToString()));
        }
        if (it->second > s) {
          return fail(fmt::format("'{}' is in a later stage", ref.ToString()));
        }
        const auto& source = config->stages[it->second];
        const bool produced = std::any_of(source.tasks.begin(), source.tasks.end(),
                                          [&](const TaskConfig& t) { return t.name == ref.table; });
        if (!produced) {
          return fail(fmt::format("'{}' is not produced by any task", ref.ToString()));
        }
        if (ref.stage == stage.name && ref.table == task.name) {
          return fail("a task cannot read its own table");
        }
      }
    }
    if (const auto cycle = CyclicTasks(stage); !cycle.empty()) {
      std::string names;
      for (const auto& name : cycle) names += (names.empty() ? "" : ", ") + name;
      return arrow::Status::Invalid(fmt::format(
          "flow '{}', stage '{}': tasks {} depend on each other in a cycle", config->name,
          stage.name, names));
    }
  }
  return arrow::Status::OK();
}

}  // namespace lakepipe::flow
