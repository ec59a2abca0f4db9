#include "lakepipe/flow/flow_status.h"

#include "lakepipe/tablestore/table_store.h"

namespace lakepipe::flow {

arrow::Result<nlohmann::json> FlowStatus(const FlowConfig& config) {
  ARROW_ASSIGN_OR_RAISE(auto store, tablestore::TableStore::Open(config.store, config.storage));
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store->Load());
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& stage : config.stages) {
    const auto* record = snapshot.FindStage(stage.name);
    nlohmann::json tables = nlohmann::json::array();
    if (record) {
      for (const auto* table : snapshot.TablesIn(stage.name, record->committed_slot)) {
        const auto* task = snapshot.FindTask(stage.name, record->committed_slot, table->table);
        tables.push_back({{"table", table->table},
                          {"rows", table->rows},
                          {"bytes", table->bytes},
                          {"files", table->files.size()},
                          {"version", task ? task->version : ""},
                          {"cache_hit", task ? task->output_json.value("cache_hit", false) : false}});
      }
    }
    stages.push_back({{"stage", stage.name},
                      {"committed_slot", record ? record->committed_slot : ""},
                      {"committed_at", record ? record->committed_at : ""},
                      {"run_id", record ? record->run_id : ""},
                      {"tables", tables}});
  }
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : snapshot.runs) {
    runs.push_back({{"run_id", r.run_id},
                    {"started_at", r.started_at},
                    {"finished_at", r.finished_at},
                    {"status", r.status},
                    {"error", r.error}});
  }
  return nlohmann::json({{"flow", config.name},
                         {"instance", config.store.instance},
                         {"metadata", store->metadata().Describe()},
                         {"catalog", config.store.catalog_path},
                         {"stages", stages},
                         {"runs", runs}});
}

nlohmann::json FlowRunSummary(const FlowConfig& config, const FlowRunResult& result) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : result.stages) {
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : s.tasks) {
      tasks.push_back({{"stage", t.stage},         {"task", t.task},       {"kind", t.kind},
                       {"cache_hit", t.cache_hit}, {"rows", t.rows},       {"bytes", t.bytes},
                       {"files", t.files},         {"seconds", t.seconds}, {"cache_key", t.cache_key},
                       {"carried", t.carried}});
    }
    stages.push_back({{"stage", s.stage},
                      {"slot", s.slot},
                      {"metadata_only", s.metadata_only},
                      {"tasks", tasks}});
  }
  return {{"flow", config.name},
          {"instance", result.instance},
          {"run_id", result.run_id},
          {"seconds", result.seconds},
          {"catalog", config.store.catalog_path},
          {"warnings", result.warnings},
          {"stages", stages}};
}

}  // namespace lakepipe::flow
