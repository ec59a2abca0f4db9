#include "lakepipe/flow/run_record.h"

#include <chrono>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/time_format.h"

namespace lakepipe::flow {

std::string NewRunId() {
  const auto now = std::chrono::system_clock::now();
  std::string stamp = IsoUtc(now).substr(0, 19);
  for (char& c : stamp) {
    if (c == ':') c = '-';
  }
  return fmt::format("{}-{:08x}", stamp, std::random_device{}());
}

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
