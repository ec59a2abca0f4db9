#include "lakepipe/flow/run_record.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "lakepipe/common/time_format.h"

namespace lakepipe::flow {

arrow::Status CloseDeadRuns(tablestore::TableStore* store) {
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store->Load());
  for (auto& run : snapshot.runs) {
    if (run.status != "running") continue;
    run.status = "abandoned";
    run.finished_at = IsoUtc(std::chrono::system_clock::now());
    run.error = "the process running it stopped before the run finished (killed or crashed)";
    spdlog::warn("flow run {} of {} stopped before it finished: recorded as abandoned", run.run_id,
                 run.instance);
    ARROW_RETURN_NOT_OK(store->metadata().SaveRun(run));
  }
  return arrow::Status::OK();
}

}  // namespace lakepipe::flow
