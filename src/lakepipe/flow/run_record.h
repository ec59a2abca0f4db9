#pragma once

#include <string>

#include <arrow/status.h>

#include "lakepipe/tablestore/table_store.h"

namespace lakepipe::flow {

/// A flow run's records in the metadata store: how a run is named, and how the record of a
/// run that died is closed.

/// A new run's id: its UTC start time and a random suffix ("2026-01-31T12-00-00-1a2b3c4d"),
/// so ids sort by start.
std::string NewRunId();

/// Records every run still recorded as running as abandoned. Call holding the lock of
/// every stage: no other run of the instance is alive then, so such a run was killed (or
/// its machine lost) before it could say how it ended.
arrow::Status CloseDeadRuns(tablestore::TableStore* store);

}  // namespace lakepipe::flow
