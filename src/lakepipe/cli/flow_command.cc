#include <csignal>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"
#include "lakepipe/flow/flow_graph.h"
#include "lakepipe/flow/flow_repair.h"
#include "lakepipe/flow/flow_status.h"
#include "lakepipe/flow/flow_runner.h"

namespace lakepipe::cli {
namespace {

std::atomic<bool> g_flow_cancel{false};
void OnFlowSignal(int) { g_flow_cancel = true; }

struct FlowArgs {
  std::string file;
  std::string instance;
};

void AddFlowArgs(CLI::App* cmd, FlowArgs* args) {
  cmd->add_option("flow", args->file, "The flow file (YAML)")->required();
  cmd->add_option("--instance", args->instance, "Instance to use instead of the file's");
}

arrow::Result<flow::FlowConfig> LoadFlow(const GlobalFlags& flags, const FlowArgs& args) {
  std::optional<std::string> instance;
  if (!args.instance.empty()) instance = args.instance;
  ARROW_ASSIGN_OR_RAISE(auto config, flow::LoadFlowConfig(args.file, instance));
  if (!flags.storage_file.empty()) {
    ARROW_RETURN_NOT_OK(config.storage.MergeYamlFile(flags.storage_file));
  }
  return config;
}

void AddRun(CLI::App* flow_cmd, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = flow_cmd->add_subcommand("run", "Run a flow's stages and commit each one");
  auto args = std::make_shared<FlowArgs>();
  auto selection = std::make_shared<flow::FlowRunOptions>();
  AddFlowArgs(cmd, args.get());
  cmd->add_option("--stage", selection->stages,
                  "Run only this stage (repeatable). Stages it reads keep their committed "
                  "tables: a stale one is a warning, one never committed an error")
      ->allow_extra_args(false);
  cmd->add_option("--task", selection->tasks,
                  "Run only this task, as stage.task (repeatable); the stage's other tasks "
                  "are carried into its new slot as committed")
      ->allow_extra_args(false);
  cmd->add_flag("--with-upstream", selection->with_upstream,
                "Also run every stage the selection reads from, transitively (dbt's +model)");
  cmd->add_flag("--keep-going", selection->keep_going,
                "After a failure, still run what does not depend on it; a stage with a failed "
                "task does not commit; report every failure at the end (exit status 1)");
  cmd->add_flag("--force", selection->force, "Ignore the cache: run every selected task");
  cmd->footer(
      "Selections (--stage, --task) run those tasks only and read the tables of other stages "
      "as committed, like dbt's `-s model`: before anything runs, a stale upstream table (its "
      "definition, version or inputs changed since it was committed) is a warning and one "
      "never committed is an error. --with-upstream runs them too, like `-s +model`.");
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto config, LoadFlow(flags, *args));
      flow::FlowRunOptions options = *selection;
      options.home = flags.home;
      options.storage_file = flags.storage_file;
      options.cancel = &g_flow_cancel;
      std::signal(SIGINT, OnFlowSignal);
      std::signal(SIGTERM, OnFlowSignal);
      const bool text = flags.output != "json";
      auto on_task = [text](const flow::TaskOutcome& t) {
        if (!text) return;
        // Progress goes to stderr; the summary to stdout.
        std::cerr << fmt::format("  {}.{}: {} rows, {}{} in {:.2f} s\n", t.stage, t.task, t.rows,
                                 HumanBytes(static_cast<double>(t.bytes)),
                                 t.carried     ? " (not selected: carried as committed)"
                                 : t.cache_hit ? " (cache hit)"
                                               : "",
                                 t.seconds);
      };
      auto result = flow::RunFlow(config, options, on_task);
      if (!result.ok() && result.status().IsCancelled()) {
        return arrow::Status::Cancelled(fmt::format("flow '{}': run cancelled", config.name));
      }
      ARROW_RETURN_NOT_OK(result.status());
      if (!text) {
        std::cout << flow::FlowRunSummary(config, *result).dump() << "\n";
        return arrow::Status::OK();
      }
      for (const auto& s : result->stages) {
        int hits = 0, carried = 0;
        for (const auto& t : s.tasks) {
          carried += t.carried ? 1 : 0;
          hits += t.cache_hit && !t.carried ? 1 : 0;
        }
        std::cout << fmt::format("{}: committed slot {}{} ({} tasks, {} cache hits{})\n", s.stage,
                                 s.slot, s.metadata_only ? ", metadata only" : "", s.tasks.size(),
                                 hits, carried ? fmt::format(", {} carried", carried) : "");
      }
      std::cout << fmt::format("flow '{}' ({}) done in {:.2f} s; catalog {}\n", config.name,
                               result->instance, result->seconds, config.store.catalog_path);
      return arrow::Status::OK();
    };
  });
}

void AddStatus(CLI::App* flow_cmd, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = flow_cmd->add_subcommand("status", "Stages, committed slots, tables and last runs");
  auto args = std::make_shared<FlowArgs>();
  AddFlowArgs(cmd, args.get());
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto config, LoadFlow(flags, *args));
      ARROW_ASSIGN_OR_RAISE(auto status, flow::FlowStatus(config));
      if (flags.output == "json") {
        std::cout << status.dump() << "\n";
        return arrow::Status::OK();
      }
      std::cout << fmt::format("flow '{}', instance '{}', metadata {}\n",
                               status["flow"].get<std::string>(),
                               status["instance"].get<std::string>(),
                               status["metadata"].get<std::string>());
      for (const auto& stage : status["stages"]) {
        const std::string slot = stage["committed_slot"];
        std::cout << fmt::format("{}: {}\n", stage["stage"].get<std::string>(),
                                 slot.empty() ? std::string("never committed")
                                              : "slot " + slot + " at " +
                                                    stage["committed_at"].get<std::string>());
        for (const auto& table : stage["tables"]) {
          const std::string version = table["version"];
          std::cout << fmt::format("  {}: {} rows, {} files, {}{}{}\n",
                                   table["table"].get<std::string>(), table["rows"].get<int64_t>(),
                                   table["files"].get<int64_t>(),
                                   HumanBytes(table["bytes"].get<double>()),
                                   version.empty() || version == "0" ? "" : ", version " + version,
                                   table["cache_hit"].get<bool>() ? " (cache hit)" : "");
        }
      }
      if (!status["runs"].empty()) {
        const auto& last = status["runs"].back();
        const std::string error = last["error"];
        std::cout << fmt::format("last run {}: {}{}\n", last["run_id"].get<std::string>(),
                                 last["status"].get<std::string>(),
                                 error.empty() ? "" : " (" + error + ")");
      }
      return arrow::Status::OK();
    };
  });
}

void AddSync(CLI::App* flow_cmd, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = flow_cmd->add_subcommand("sync", "Rebuild the local catalog from the metadata store");
  auto args = std::make_shared<FlowArgs>();
  AddFlowArgs(cmd, args.get());
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto config, LoadFlow(flags, *args));
      ARROW_ASSIGN_OR_RAISE(auto store, tablestore::TableStore::Open(config.store, config.storage));
      ARROW_RETURN_NOT_OK(store->PublishCatalog());
      if (flags.output == "json") {
        std::cout << nlohmann::json({{"catalog", config.store.catalog_path}}).dump() << "\n";
      } else {
        std::cout << fmt::format("catalog {} rebuilt from {}\n", config.store.catalog_path,
                                 store->metadata().Describe());
      }
      return arrow::Status::OK();
    };
  });
}

void AddRepair(CLI::App* flow_cmd, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = flow_cmd->add_subcommand(
      "repair", "Drop stages' records from the metadata store and rebuild the catalog");
  auto args = std::make_shared<FlowArgs>();
  auto drop = std::make_shared<std::vector<std::string>>();
  AddFlowArgs(cmd, args.get());
  cmd->add_option("--drop-stage", *drop,
                  "Remove this stage's records (it need not be in the flow file); repeatable");
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto config, LoadFlow(flags, *args));
      ARROW_ASSIGN_OR_RAISE(auto result, flow::RepairFlow(config, *drop));
      if (flags.output == "json") {
        nlohmann::json dropped = nlohmann::json::array();
        for (const auto& d : result.dropped) {
          dropped.push_back({{"stage", d.stage},
                             {"stages", d.rows.stages},
                             {"tasks", d.rows.tasks},
                             {"tables", d.rows.tables}});
        }
        std::cout << nlohmann::json({{"flow", config.name},
                                     {"instance", config.store.instance},
                                     {"dropped", dropped},
                                     {"catalog", config.store.catalog_path}})
                         .dump()
                  << "\n";
        return arrow::Status::OK();
      }
      for (const auto& d : result.dropped) {
        std::cout << fmt::format(
            "dropped stage '{}' of instance '{}': {} stage, {} task and {} table records "
            "(its files are left for `lakepipe flow gc`)\n",
            d.stage, config.store.instance, d.rows.stages, d.rows.tasks, d.rows.tables);
      }
      std::cout << fmt::format("catalog {} rebuilt from {}\n", config.store.catalog_path,
                               result.metadata);
      return arrow::Status::OK();
    };
  });
}

void AddGc(CLI::App* flow_cmd, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = flow_cmd->add_subcommand("gc", "Remove files that no committed slot references");
  auto args = std::make_shared<FlowArgs>();
  auto dry_run = std::make_shared<bool>(false);
  AddFlowArgs(cmd, args.get());
  cmd->add_flag("--dry-run", *dry_run, "List what would be removed");
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto config, LoadFlow(flags, *args));
      ARROW_ASSIGN_OR_RAISE(auto store, tablestore::TableStore::Open(config.store, config.storage));
      std::vector<std::string> stages;
      for (const auto& stage : config.stages) stages.push_back(stage.name);
      ARROW_ASSIGN_OR_RAISE(auto removed, store->CollectGarbage(stages, *dry_run));
      if (flags.output == "json") {
        std::cout << nlohmann::json({{"removed", removed}, {"dry_run", *dry_run}}).dump() << "\n";
        return arrow::Status::OK();
      }
      for (const auto& path : removed)
        std::cout << (*dry_run ? "would remove " : "removed ") << path << "\n";
      std::cout << fmt::format("{} files {}\n", removed.size(), *dry_run ? "to remove" : "removed");
      return arrow::Status::OK();
    };
  });
}

void AddGraph(CLI::App* flow_cmd, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = flow_cmd->add_subcommand(
      "graph", "Print the flow's stages, tasks and inputs as a Mermaid or Graphviz graph");
  auto args = std::make_shared<FlowArgs>();
  auto format = std::make_shared<std::string>("mermaid");
  AddFlowArgs(cmd, args.get());
  cmd->add_option("--format", *format, "mermaid (a flowchart, the default) or dot (Graphviz)")
      ->check(CLI::IsMember({"mermaid", "dot"}));
  cmd->footer(
      "Stages are subgraphs (clusters in dot), tasks their nodes; an edge runs from each "
      "input to the task reading it: another task's table, or what a task reads from outside "
      "the flow (a read task's files, an ingest task's pipeline, an exec task's command). "
      "Nothing is run or opened but the flow file. Render it with mermaid, dot or kroki.");
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto config, LoadFlow(flags, *args));
      ARROW_ASSIGN_OR_RAISE(auto text, flow::FlowGraphText(config, *format));
      std::cout << text;
      return arrow::Status::OK();
    };
  });
}

}  // namespace

void AddFlowCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand("flow", "Run and inspect table-store flows (stages of tables)");
  cmd->require_subcommand(1);
  AddRun(cmd, flags, run);
  AddStatus(cmd, flags, run);
  AddSync(cmd, flags, run);
  AddGc(cmd, flags, run);
  AddRepair(cmd, flags, run);
  AddGraph(cmd, flags, run);
}

}  // namespace lakepipe::cli
