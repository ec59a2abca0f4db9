#include "lakepipe/flow/flow_repair.h"

#include <algorithm>

#include <fmt/format.h>

#include "lakepipe/tablestore/table_store.h"

namespace lakepipe::flow {
namespace {

bool HasRecords(const tablestore::MetadataSnapshot& snapshot, const std::string& stage) {
  auto of_stage = [&](const auto& record) { return record.stage == stage; };
  return snapshot.FindStage(stage) != nullptr ||
         std::any_of(snapshot.tasks.begin(), snapshot.tasks.end(), of_stage) ||
         std::any_of(snapshot.tables.begin(), snapshot.tables.end(), of_stage);
}

}  // namespace

arrow::Result<RepairResult> RepairFlow(const FlowConfig& config,
                                       const std::vector<std::string>& drop_stages) {
  ARROW_ASSIGN_OR_RAISE(auto store, tablestore::TableStore::Open(config.store, config.storage));
  RepairResult result;
  result.metadata = store->metadata().Describe();
  // Held until the catalog is rebuilt, so no run of these stages comes in between.
  std::unique_ptr<tablestore::StageLocks> locks;
  if (!drop_stages.empty()) {
    ARROW_ASSIGN_OR_RAISE(locks, store->Lock(drop_stages));
    ARROW_ASSIGN_OR_RAISE(auto snapshot, store->Load());  // as it is now that no run writes
    for (const auto& stage : drop_stages) {
      if (HasRecords(snapshot, stage)) continue;
      std::string present;
      for (const auto& s : snapshot.stages)
        present += (present.empty() ? "'" : ", '") + s.stage + "'";
      return arrow::Status::Invalid(fmt::format(
          "flow '{}', instance '{}': stage '{}' has no records to drop (stages recorded: {})",
          config.name, config.store.instance, stage, present.empty() ? "none" : present));
    }
    for (const auto& stage : drop_stages) {
      if (std::any_of(result.dropped.begin(), result.dropped.end(),
                      [&](const DroppedStageRecords& d) { return d.stage == stage; })) {
        continue;
      }
      ARROW_RETURN_NOT_OK(locks->Validate());
      ARROW_ASSIGN_OR_RAISE(auto rows,
                            store->metadata().DropStage(store->MetadataInstance(), stage));
      result.dropped.push_back({stage, rows});
    }
  }
  auto published = store->PublishCatalog();
  if (!published.ok()) {
    return published.WithMessage(fmt::format("flow '{}', instance '{}': {}", config.name,
                                             config.store.instance, published.message()));
  }
  return result;
}

}  // namespace lakepipe::flow
