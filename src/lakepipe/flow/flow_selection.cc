#include "lakepipe/flow/flow_selection.h"

#include <deque>

#include <fmt/format.h>

namespace lakepipe::flow {
namespace {

using tablestore::TableRef;

std::string Names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

arrow::Status NoStage(const FlowConfig& config, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& stage : config.stages) names.push_back(stage.name);
  return arrow::Status::Invalid(fmt::format("flow '{}' ({}) has no stage '{}' (its stages: {})",
                                            config.name, config.file, name, Names(names)));
}

const TaskConfig* FindTask(const StageConfig& stage, const std::string& name) {
  for (const auto& task : stage.tasks) {
    if (task.name == name) return &task;
  }
  return nullptr;
}

}  // namespace

bool TaskSelection::Runs(const std::string& stage, const std::string& task) const {
  auto it = tasks_.find(stage);
  return it != tasks_.end() && it->second.contains(task);
}

bool TaskSelection::ReadsAny(const StageConfig& stage, const std::set<std::string>& stages,
                             std::string* which) const {
  for (const auto& task : stage.tasks) {
    if (!Runs(stage.name, task.name)) continue;
    for (const auto& ref : task.inputs) {
      if (ref.stage != stage.name && stages.contains(ref.stage)) {
        *which = ref.stage;
        return true;
      }
    }
  }
  return false;
}

arrow::Result<TaskSelection> SelectTasks(const FlowConfig& config,
                                         const std::vector<std::string>& stages,
                                         const std::vector<std::string>& tasks,
                                         bool with_upstream) {
  std::map<std::string, std::set<std::string>> chosen;
  std::deque<TableRef> work;  // selected tasks whose inputs are still to be followed
  auto add_stage = [&](const StageConfig& stage) {
    for (const auto& task : stage.tasks) {
      if (chosen[stage.name].insert(task.name).second) work.push_back({stage.name, task.name});
    }
  };
  auto add_task = [&](const TableRef& ref) {
    if (chosen[ref.stage].insert(ref.table).second) work.push_back(ref);
  };
  const bool everything = stages.empty() && tasks.empty();
  for (const auto& name : stages) {
    const StageConfig* stage = config.FindStage(name);
    if (!stage) return NoStage(config, name);
    add_stage(*stage);
  }
  for (const auto& text : tasks) {
    auto ref = ParseTableRef(text);
    if (!ref.ok()) {
      return arrow::Status::Invalid(fmt::format("flow '{}' ({}): --task '{}' is not 'stage.task'",
                                                config.name, config.file, text));
    }
    const StageConfig* stage = config.FindStage(ref->stage);
    if (!stage) return NoStage(config, ref->stage);
    if (!FindTask(*stage, ref->table)) {
      std::vector<std::string> names;
      for (const auto& task : stage->tasks) names.push_back(task.name);
      return arrow::Status::Invalid(
          fmt::format("flow '{}' ({}): stage '{}' has no task '{}' (its tasks: {})", config.name,
                      config.file, stage->name, ref->table, Names(names)));
    }
    add_task(*ref);
  }
  if (everything) {
    for (const auto& stage : config.stages) add_stage(stage);
  }
  while (with_upstream && !work.empty()) {
    const TableRef current = work.front();
    work.pop_front();
    const TaskConfig* task = FindTask(*config.FindStage(current.stage), current.table);
    for (const auto& input : task->inputs) {
      if (input.stage == current.stage) {
        add_task(input);
      } else {
        add_stage(*config.FindStage(input.stage));
      }
    }
  }
  TaskSelection selection;
  selection.everything_ = everything;
  for (const auto& stage : config.stages) {
    if (chosen.contains(stage.name)) selection.stages_.push_back(&stage);
  }
  selection.tasks_ = std::move(chosen);
  return selection;
}

std::vector<UpstreamTable> UnselectedUpstream(const FlowConfig& config,
                                              const TaskSelection& selection) {
  std::map<TableRef, UpstreamTable> found;
  std::deque<const TaskConfig*> work;
  std::map<const TaskConfig*, std::string> stage_of;
  for (const auto* stage : selection.stages()) {
    for (const auto& task : stage->tasks) {
      if (!selection.Runs(stage->name, task.name)) continue;
      work.push_back(&task);
      stage_of[&task] = stage->name;
    }
  }
  while (!work.empty()) {
    const TaskConfig* reader = work.front();
    work.pop_front();
    for (const auto& input : reader->inputs) {
      if (selection.Runs(input.stage, input.table) || found.contains(input)) continue;
      const TaskConfig* writer = FindTask(*config.FindStage(input.stage), input.table);
      found[input] = {input, {stage_of[reader], reader->name}, writer};
      stage_of[writer] = input.stage;
      work.push_back(writer);
    }
  }
  std::vector<UpstreamTable> out;
  for (const auto& stage : config.stages) {
    for (const auto& task : stage.tasks) {
      auto it = found.find({stage.name, task.name});
      if (it != found.end()) out.push_back(it->second);
    }
  }
  return out;
}

arrow::Result<std::vector<std::string>> CheckUpstream(const FlowConfig& config,
                                                      const TaskSelection& selection,
                                                      const tablestore::MetadataSnapshot& snapshot,
                                                      const WhyStaleFn& why_stale) {
  std::vector<std::string> warnings;
  if (selection.everything()) return warnings;
  auto is_committed = [&](const std::string& stage, const std::string& table) {
    const auto* record = snapshot.FindStage(stage);
    return record && snapshot.FindTable(stage, record->committed_slot, table);
  };
  const auto upstream = UnselectedUpstream(config, selection);
  std::string never;
  for (const auto& up : upstream) {
    if (is_committed(up.table.stage, up.table.table)) continue;
    never += fmt::format("{}'{}' (read by {})", never.empty() ? "" : ", ", up.table.ToString(),
                         up.read_by.ToString());
  }
  if (!never.empty()) {
    return arrow::Status::Invalid(fmt::format(
        "flow '{}': the selected tasks read tables that were never committed: {}; run with "
        "--with-upstream to build them too",
        config.name, never));
  }
  // Until nothing changes: a table reading a stale one is stale too, in any order.
  std::set<TableRef> stale;
  std::map<TableRef, std::string> reasons;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& up : upstream) {
      if (stale.contains(up.table)) continue;
      auto why = why_stale(up.table.stage, *up.task, stale);
      if (!why.ok()) {
        reasons[up.table] = fmt::format(
            "flow '{}': cannot tell whether '{}' (read by {}) is "
            "current: {}",
            config.name, up.table.ToString(), up.read_by.ToString(), why.status().message());
        continue;
      }
      if (why->empty()) continue;
      stale.insert(up.table);
      changed = true;
      reasons[up.table] = fmt::format(
          "flow '{}': '{}' (read by {}) is stale: {}; this run reads its committed table "
          "(--with-upstream rebuilds it)",
          config.name, up.table.ToString(), up.read_by.ToString(), *why);
    }
  }
  for (const auto& up : upstream) {
    auto it = reasons.find(up.table);
    if (it != reasons.end()) warnings.push_back(it->second);
  }
  for (const auto* stage : selection.stages()) {
    for (const auto& task : stage->tasks) {
      if (selection.Runs(stage->name, task.name) || is_committed(stage->name, task.name)) continue;
      warnings.push_back(
          fmt::format("flow '{}': task '{}.{}' is not selected and was never committed: stage '{}' "
                      "commits without it",
                      config.name, stage->name, task.name, stage->name));
    }
  }
  return warnings;
}

}  // namespace lakepipe::flow
