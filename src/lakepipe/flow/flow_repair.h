#pragma once

#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/flow/flow_config.h"
#include "lakepipe/tablestore/metadata_store.h"

namespace lakepipe::flow {

struct DroppedStageRecords {
  std::string stage;
  tablestore::DroppedStage rows;
};

struct RepairResult {
  std::vector<DroppedStageRecords> dropped;  ///< in the order asked for
  std::string metadata;                      ///< the metadata store, as Describe() shows it
};

/// Repairs an instance of a flow whose catalog cannot be built (say, a stage an older
/// lakepipe let through with a name DuckDB refuses): under the locks of `drop_stages`, as
/// a run takes them, removes each one's records from the metadata store (one transaction
/// per stage; MetadataStore::DropStage), then rebuilds the catalog from what is left. With
/// no stages it only rebuilds the catalog. A stage to drop need not be in the flow file
/// any more, but must have records: a name with none is an error listing those that have,
/// and nothing is dropped. The dropped stages' files are left for `flow gc`.
arrow::Result<RepairResult> RepairFlow(const FlowConfig& config,
                                       const std::vector<std::string>& drop_stages);

}  // namespace lakepipe::flow
