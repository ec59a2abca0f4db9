#include "lakepipe/tablestore/advisory_locks.h"

#include <algorithm>
#include <mutex>

#include <fmt/format.h>

#include "lakepipe/common/sha256.h"
#include "lakepipe/tablestore/postgres_connection.h"

namespace lakepipe::tablestore {
namespace {

class AdvisoryStageLocks : public StageLocks {
 public:
  AdvisoryStageLocks(std::unique_ptr<PgConnection> connection, std::string instance)
      : connection_(std::move(connection)), instance_(std::move(instance)) {}

  // Closing the connection would release the locks too; unlocking first frees them at once
  // even if the close lingers.
  ~AdvisoryStageLocks() override {
    if (!connection_->Broken()) {
      (void)connection_->Execute("releasing the locks", "SELECT pg_advisory_unlock_all()");
    }
  }

  arrow::Status Validate() override {
    std::lock_guard<std::mutex> guard(mutex_);
    if (!lost_.ok()) return lost_;  // a lost connection never holds the locks again
    // A live session keeps its locks (only it could unlock them), so a round trip suffices.
    if (connection_->Broken() ||
        !connection_->Execute("checking the lock session", "SELECT 1").ok()) {
      lost_ = arrow::Status::IOError(fmt::format(
          "lost the PostgreSQL connection holding the locks of instance '{}' ({}: {}); another "
          "run may take them now",
          instance_, connection_->redacted_url(), connection_->LastError()));
    }
    return lost_;
  }

 private:
  std::mutex mutex_;
  const std::unique_ptr<PgConnection> connection_;
  const std::string instance_;
  arrow::Status lost_;
};

arrow::Status Take(PgConnection& connection, const std::string& name) {
  return connection.Execute(fmt::format("waiting for the lock '{}'", name),
                            "SELECT pg_advisory_lock($1::bigint)",
                            {std::to_string(AdvisoryLockKey(name))});
}

}  // namespace

int64_t AdvisoryLockKey(std::string_view name) {
  common::Sha256 hash;
  hash.Update(name);
  const std::string digest = hash.Digest();
  uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | static_cast<unsigned char>(digest[i]);
  return static_cast<int64_t>(key);
}

arrow::Result<std::unique_ptr<StageLocks>> LockStagesAdvisory(const std::string& url,
                                                              const std::string& instance,
                                                              std::vector<std::string> stages) {
  std::sort(stages.begin(), stages.end());
  stages.erase(std::unique(stages.begin(), stages.end()), stages.end());
  ARROW_ASSIGN_OR_RAISE(auto connection, PgConnection::Open(url));
  // Timeouts set for the role or database must neither end the wait for a lock nor close
  // the idle session holding them (idle_session_timeout exists from PostgreSQL 14 on).
  ARROW_RETURN_NOT_OK(connection->Execute(
      "preparing the lock session",
      "SELECT set_config(name, '0', false) FROM pg_settings "
      "WHERE name IN ('statement_timeout', 'lock_timeout', 'idle_session_timeout')"));
  const std::string setup = instance + "#__setup__";
  ARROW_RETURN_NOT_OK(Take(*connection, setup));
  for (const auto& stage : stages) {
    ARROW_RETURN_NOT_OK(Take(*connection, fmt::format("{}#{}", instance, stage)));
  }
  ARROW_RETURN_NOT_OK(connection->Execute(fmt::format("releasing the lock '{}'", setup),
                                          "SELECT pg_advisory_unlock($1::bigint)",
                                          {std::to_string(AdvisoryLockKey(setup))}));
  return std::make_unique<AdvisoryStageLocks>(std::move(connection), instance);
}

}  // namespace lakepipe::tablestore
