#include "lakepipe/lake/run_journal.h"

#include <unistd.h>

#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/crash_point.h"
#include "lakepipe/common/process_start.h"
#include "lakepipe/lake/manifest_store.h"
#include "lakepipe/lake/path_segment.h"

namespace lakepipe::lake {
namespace {

constexpr int kJournalVersion = 1;

nlohmann::json CommitToJson(const PendingCommit& commit) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : commit.entries) entries.push_back(e.ToJson());
  nlohmann::json published = nlohmann::json::array();
  for (const auto& p : commit.published) {
    published.push_back({{"staged", p.staged}, {"to", p.final_path}});
  }
  return {{"run_id", commit.run_id},    {"published", published},
          {"entries", entries},         {"state", commit.state ? *commit.state : nlohmann::json()},
          {"log", commit.log},          {"log_stamp", commit.log_stamp},
          {"replaced", commit.replaced}};
}

arrow::Result<PendingCommit> CommitFromJson(const nlohmann::json& json, const std::string& where) {
  PendingCommit commit;
  try {
    for (const auto& e : json.at("entries")) {
      ARROW_ASSIGN_OR_RAISE(auto entry, TableEntry::FromJson(e, where));
      commit.entries.push_back(std::move(entry));
    }
    if (!json.at("state").is_null()) commit.state = json.at("state");
    commit.log = json.at("log");
    commit.log_stamp = json.at("log_stamp").get<std::string>();
    commit.replaced = json.at("replaced").get<std::vector<std::string>>();
    commit.run_id = json.value("run_id", "");
    for (const auto& p : json.value("published", nlohmann::json::array())) {
      commit.published.push_back(
          {p.at("staged").get<std::string>(), p.at("to").get<std::string>()});
    }
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(fmt::format("{}: malformed commit: {}", where, e.what()));
  }
  return commit;
}

// A journal whose run still runs on this host (another home folder's run of the same
// pipeline: the run lock is per home) must not be recovered from under it. Owners on other
// hosts cannot be seen from here (RELIABILITY.md says what holds then).
arrow::Status RefuseLiveOwner(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) return arrow::Status::OK();
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  const auto pid = json.value("pid", nlohmann::json());
  const auto start = json.value("pid_start_ticks", nlohmann::json());
  if (json.value("host", "") != host || !pid.is_number_integer() || !start.is_number_integer() ||
      start.get<long long>() < 0 || pid.get<int>() == ::getpid()) {
    return arrow::Status::OK();
  }
  if (ProcessStartTicks(pid.get<int>()) != start.get<long long>()) return arrow::Status::OK();
  return arrow::Status::Invalid(fmt::format(
      "run {} of this pipeline is still running (pid {} on this host, since {}; its journal "
      "is '{}'): two runs of one pipeline at once are refused",
      json.value("run_id", "?"), pid.get<int>(), json.value("started_at", "?"), where));
}

// What the primary journal of a prepared one says: "committed", or "running" when it is
// not committed (or gone: the run removes its primary journal last).
arrow::Result<std::string> PrimaryStatus(storage::Storage* storage, const nlohmann::json& json,
                                         const std::string& where) {
  const auto text = json.value("primary_journal", "");
  auto primary = storage::Uri::Parse(text);
  if (!primary.ok()) {
    return arrow::Status::Invalid(
        fmt::format("{}: prepared journal names no primary journal", where));
  }
  ARROW_ASSIGN_OR_RAISE(bool exists, storage->Exists(*primary));
  if (!exists) return std::string("running");
  ARROW_ASSIGN_OR_RAISE(auto primary_json, ReadJsonDocument(storage, *primary));
  const bool committed =
      primary_json.is_object() && primary_json.value("status", "") == "committed";
  return std::string(committed ? "committed" : "running");
}

}  // namespace

arrow::Result<RunJournal> RunJournal::Begin(storage::Storage* storage, const BucketLayout& layout,
                                            std::string pipeline, std::string run_id,
                                            std::string started_at) {
  RunJournal journal(storage, layout, std::move(pipeline), std::move(run_id),
                     std::move(started_at));
  ARROW_RETURN_NOT_OK(journal.Save());
  return journal;
}

nlohmann::json RunJournal::ToJson() const {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  nlohmann::json json = {{"format", "lakepipe.run_journal"},
                         {"version", kJournalVersion},
                         {"pipeline", pipeline_},
                         {"run_id", run_id_},
                         {"started_at", started_at_},
                         {"host", host},
                         {"pid", ::getpid()},
                         {"pid_start_ticks", ProcessStartTicks(::getpid())},
                         {"status", !commit_           ? "running"
                                    : primary_journal_ ? "prepared"
                                                       : "committed"},
                         {"written", written_}};
  if (commit_) json["commit"] = CommitToJson(*commit_);
  if (primary_journal_) json["primary_journal"] = *primary_journal_;
  return json;
}

arrow::Status RunJournal::Save() {
  return storage_->WriteAll(layout_.JournalUri(pipeline_, run_id_), ToJson().dump(1));
}

arrow::Status RunJournal::AddWritten(const std::string& relative_path) {
  written_.push_back(relative_path);
  return Save();
}

arrow::Status RunJournal::Commit(PendingCommit commit) {
  commit_ = std::move(commit);
  return Save();
}

arrow::Status RunJournal::Prepare(PendingCommit commit, const storage::Uri& primary_journal) {
  commit_ = std::move(commit);
  primary_journal_ = primary_journal.ToString();
  return Save();
}

arrow::Status RunJournal::Remove() {
  return storage_->Delete(layout_.JournalUri(pipeline_, run_id_));
}

arrow::Status ApplyCommit(storage::Storage* storage, const BucketLayout& layout,
                          const std::string& pipeline, const PendingCommit& commit) {
  for (const auto& p : commit.published) {
    if (!IsContainedRelativePath(p.staged) || !IsContainedRelativePath(p.final_path)) continue;
    ARROW_RETURN_NOT_OK(storage->Move(layout.Resolve(p.staged), layout.Resolve(p.final_path)));
  }
  CrashPoint("after-publish-before-manifest");
  ManifestStore manifest(storage, layout);
  for (const auto& entry : commit.entries) ARROW_RETURN_NOT_OK(manifest.SaveTable(entry));
  ARROW_RETURN_NOT_OK(manifest.Publish());
  CrashPoint("after-manifest-before-state");
  if (commit.state) {
    ARROW_RETURN_NOT_OK(storage->WriteAll(layout.StateUri(pipeline), commit.state->dump(2)));
  }
  ARROW_RETURN_NOT_OK(
      storage->WriteAll(layout.LogUri(pipeline, commit.log_stamp), commit.log.dump(2)));
  for (const auto& path : commit.replaced) {
    if (!IsContainedRelativePath(path)) continue;  // never outside the bucket
    ARROW_RETURN_NOT_OK(storage->Delete(layout.Resolve(path)));
  }
  if (commit.run_id.empty()) return arrow::Status::OK();
  return storage->DeleteTree(layout.StagingDir(pipeline, commit.run_id));
}

arrow::Result<int> RunJournal::RecoverDeadRuns(storage::Storage* storage,
                                               const BucketLayout& layout,
                                               const std::string& pipeline) {
  const storage::Uri journal_dir = layout.JournalDir(pipeline);
  ARROW_ASSIGN_OR_RAISE(auto files, storage->List(journal_dir, false));
  // Folders the dead runs wrote into: a run killed inside an atomic write leaves that
  // write's hidden temp file there (never a partial target), found by no listing.
  std::set<std::string> written_dirs = {journal_dir.ToString(),
                                        layout.StateUri(pipeline).Parent().ToString(),
                                        layout.LogsDir(pipeline).ToString()};
  int recovered = 0;
  for (const auto& file : files) {
    if (file.is_dir || !file.uri.Name().ends_with(".json")) continue;
    ARROW_ASSIGN_OR_RAISE(auto json, ReadJsonDocument(storage, file.uri));
    const std::string where = file.uri.ToString();
    ARROW_RETURN_NOT_OK(RefuseLiveOwner(json, where));
    std::string status = json.value("status", "");
    if (status == "prepared") {
      ARROW_ASSIGN_OR_RAISE(status, PrimaryStatus(storage, json, where));
    }
    if (status == "committed") {
      ARROW_ASSIGN_OR_RAISE(auto commit, CommitFromJson(json.at("commit"), where));
      spdlog::warn("finishing the commit of run {} of pipeline '{}' that stopped midway",
                   json.value("run_id", "?"), pipeline);
      ARROW_RETURN_NOT_OK(ApplyCommit(storage, layout, pipeline, commit));
    } else {
      spdlog::warn("removing {} file(s) of run {} of pipeline '{}' that did not commit",
                   json.value("written", nlohmann::json::array()).size(), json.value("run_id", "?"),
                   pipeline);
      for (const auto& path : json.value("written", std::vector<std::string>{})) {
        // A path that cannot name a file below the bucket was never written: nothing to
        // remove, and it must not keep every later run from starting.
        if (!IsContainedRelativePath(path)) {
          spdlog::warn("journal '{}' lists '{}', which cannot be a file of the bucket: skipped",
                       where, EncodePathSegment(path));
          continue;
        }
        const storage::Uri uri = layout.Resolve(path);
        ARROW_RETURN_NOT_OK(storage->Delete(uri));
        written_dirs.insert(uri.Parent().ToString());
      }
      // And whatever else it left in its staging folder (an atomic write's temp file).
      const std::string run_id = json.value("run_id", "");
      if (!run_id.empty())
        ARROW_RETURN_NOT_OK(storage->DeleteTree(layout.StagingDir(pipeline, run_id)));
    }
    ARROW_RETURN_NOT_OK(storage->Delete(file.uri));
    ++recovered;
  }
  // The pipeline's own folders only: under its run lock no live writer uses them.
  for (const auto& dir : written_dirs) {
    ARROW_ASSIGN_OR_RAISE(auto uri, storage::Uri::Parse(dir));
    ARROW_ASSIGN_OR_RAISE(auto temps, storage->ListWriterTemps(uri));
    for (const auto& temp : temps) ARROW_RETURN_NOT_OK(storage->Delete(temp.uri));
  }
  return recovered;
}

}  // namespace lakepipe::lake
