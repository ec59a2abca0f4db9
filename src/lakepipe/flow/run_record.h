#pragma once

#include <string>

#include <arrow/status.h>

#include "lakepipe/tablestore/table_store.h"

namespace lakepipe::flow {

/// How the record of a flow run that died is closed (its id: common/run_id.h).

/// Records every run still recorded as running as abandoned. Call holding the lock of
/// every stage: no other run of the instance is alive then, so such a run was killed (or
/// its machine lost) before it could say how it ended.
arrow::Status CloseDeadRuns(tablestore::TableStore* store);

}  // namespace lakepipe::flow
