#include "lakepipe/tablestore/advisory_locks.h"

#include <algorithm>
#include <mutex>

#include <fmt/format.h>

#include "lakepipe/common/lock_holder.h"
#include "lakepipe/common/lock_wait_reporter.h"
#include "lakepipe/common/sha256.h"
#include "lakepipe/tablestore/lock_names.h"
#include "lakepipe/postgres/postgres_connection.h"

namespace lakepipe::tablestore {

using postgres::PgConnection;
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

/// This process as a waiter reads it in pg_stat_activity (application_name holds 63
/// bytes: the host, most likely to be long, goes last).
std::string ApplicationName(const LockHolder& self, bool holding) {
  std::string name = holding ? fmt::format("lakepipe since {} pid {} {}@{}", self.since, self.pid,
                                           self.user, self.host)
                             : fmt::format("lakepipe pid {} {}@{}", self.pid, self.user, self.host);
  return name.substr(0, 63);
}

arrow::Status SetApplicationName(PgConnection& connection, const std::string& name) {
  return connection.Execute("naming the lock session",
                            "SELECT set_config('application_name', $1, false)", {name});
}

/// Who holds the advisory lock `name`, from pg_locks and pg_stat_activity.
std::string Holder(PgConnection& connection, const std::string& name) {
  // A bigint key is stored as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
  const auto key = static_cast<uint64_t>(AdvisoryLockKey(name));
  auto rows = connection.Query(
      fmt::format("finding who holds the lock '{}'", name),
      "SELECT a.pid, a.application_name, a.usename, host(a.client_addr) FROM pg_locks l "
      "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
      "AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 1",
      {std::to_string(key >> 32), std::to_string(key & 0xffffffffu)});
  if (!rows.ok() || rows->empty()) return "held by another session";
  const auto& row = rows->front();
  return fmt::format("held by {} (PostgreSQL session {} of user {}, from {})",
                     row[1].value_or("a session without a name"), row[0].value_or("?"),
                     row[2].value_or("?"), row[3].value_or("a local socket"));
}

/// Takes the advisory lock `name`, waiting in PostgreSQL's queue as long as another
/// session holds it; meanwhile a connection of its own to `url` says who that is.
arrow::Status Take(PgConnection& connection, const std::string& url, const std::string& name,
                   const std::string& what) {
  const std::string key = std::to_string(AdvisoryLockKey(name));
  ARROW_ASSIGN_OR_RAISE(auto rows,
                        connection.Query(fmt::format("taking the lock '{}'", name),
                                         "SELECT pg_try_advisory_lock($1::bigint)", {key}));
  if (!rows.empty() && rows[0][0].value_or("") == "t") return arrow::Status::OK();
  std::unique_ptr<PgConnection> observer;
  LockWaitReporter reporter(what, [&]() -> std::string {
    if (!observer) {
      auto opened = PgConnection::Open(url);
      if (!opened.ok()) return "held by another session (" + opened.status().message() + ")";
      observer = std::move(*opened);
    }
    return Holder(*observer, name);
  });
  return connection.Execute(fmt::format("waiting for the lock '{}'", name),
                            "SELECT pg_advisory_lock($1::bigint)", {key});
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
  const LockHolder self = LockHolder::Self();
  ARROW_RETURN_NOT_OK(SetApplicationName(*connection, ApplicationName(self, false)));
  const std::string setup = instance + "#__setup__";
  ARROW_RETURN_NOT_OK(Take(*connection, url, setup, SetupLockName(instance)));
  for (const auto& stage : stages) {
    ARROW_RETURN_NOT_OK(Take(*connection, url, fmt::format("{}#{}", instance, stage),
                             StageLockName(instance, stage)));
  }
  ARROW_RETURN_NOT_OK(SetApplicationName(*connection, ApplicationName(LockHolder::Self(), true)));
  ARROW_RETURN_NOT_OK(connection->Execute(fmt::format("releasing the lock '{}'", setup),
                                          "SELECT pg_advisory_unlock($1::bigint)",
                                          {std::to_string(AdvisoryLockKey(setup))}));
  return std::make_unique<AdvisoryStageLocks>(std::move(connection), instance);
}

}  // namespace lakepipe::tablestore
