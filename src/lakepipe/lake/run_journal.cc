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
  return {{"run_id", commit.run_id},
          {"published", published},
          {"entries", entries},
          {"state", commit.state ? *commit.state : nlohmann::json()},
          {"log", commit.log},
          {"log_stamp", commit.log_stamp},
          {"replaced", commit.replaced}};
}

// A path a journal names, relative to the bucket. A journal is only read back, never
// trusted to point outside the bucket: recovery deletes what it lists.
arrow::Status CheckRelativePath(const nlohmann::json& path, const char* field) {
  if (!path.is_string()) return arrow::Status::Invalid(fmt::format("'{}' holds a non-string", field));
  const auto& text = path.get_ref<const std::string&>();
  if (text.empty() || text.starts_with('/') || text == ".." || text.starts_with("../") ||
      text.find("/../") != std::string::npos || text.ends_with("/..")) {
    return arrow::Status::Invalid(
        fmt::format("'{}' holds \"{}\", which is not a path inside the bucket", field, text));
  }
  return arrow::Status::OK();
}

arrow::Status CheckPaths(const nlohmann::json& json, const char* field) {
  if (!json.contains(field) || !json.at(field).is_array()) {
    return arrow::Status::Invalid(fmt::format("'{}' is not a list", field));
  }
  for (const auto& path : json.at(field)) ARROW_RETURN_NOT_OK(CheckRelativePath(path, field));
  return arrow::Status::OK();
}

arrow::Result<PendingCommit> CommitFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return arrow::Status::Invalid("'commit' is not an object");
  if (!json.contains("entries") || !json.at("entries").is_array()) {
    return arrow::Status::Invalid("'commit.entries' is not a list");
  }
  ARROW_RETURN_NOT_OK(CheckPaths(json, "replaced"));
  PendingCommit commit;
  try {
    for (const auto& e : json.at("entries")) {
      ARROW_ASSIGN_OR_RAISE(auto entry, TableEntry::FromJson(e, "'commit.entries'"));
      for (const auto& file : entry.files) ARROW_RETURN_NOT_OK(CheckRelativePath(file.path, "files"));
      commit.entries.push_back(std::move(entry));
    }
    if (!json.at("state").is_null()) commit.state = json.at("state");
    commit.log = json.at("log");
    commit.log_stamp = json.at("log_stamp").get<std::string>();
    commit.replaced = json.at("replaced").get<std::vector<std::string>>();
    commit.run_id = json.value("run_id", "");
    for (const auto& p : json.value("published", nlohmann::json::array())) {
      ARROW_RETURN_NOT_OK(CheckRelativePath(p.at("staged"), "published"));
      ARROW_RETURN_NOT_OK(CheckRelativePath(p.at("to"), "published"));
      commit.published.push_back(
          {p.at("staged").get<std::string>(), p.at("to").get<std::string>()});
    }
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(fmt::format("malformed commit: {}", e.what()));
  }
  if (!commit.log.is_object()) return arrow::Status::Invalid("'commit.log' is not an object");
  if (commit.log_stamp.empty() || commit.log_stamp.find('/') != std::string::npos) {
    return arrow::Status::Invalid("'commit.log_stamp' is not a log name");
  }
  return commit;
}

// The checks behind ReadDeadRun, with messages that say what is wrong in the document.
arrow::Result<DeadRun> DeadRunFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return arrow::Status::Invalid("it is not a JSON object");
  if (json.contains("format") && json.at("format") != "lakepipe.run_journal") {
    return arrow::Status::Invalid("its 'format' is not \"lakepipe.run_journal\"");
  }
  if (json.contains("version")) {
    const auto& version = json.at("version");
    if (!version.is_number_integer()) return arrow::Status::Invalid("its 'version' is not a number");
    if (version.get<int64_t>() > kJournalVersion) {
      return arrow::Status::Invalid(fmt::format(
          "it has version {}, newer than this lakepipe reads ({}): run a newer lakepipe",
          version.get<int64_t>(), kJournalVersion));
    }
  }
  DeadRun run;
  if (json.contains("run_id") && json.at("run_id").is_string()) run.run_id = json.at("run_id");
  if (!json.contains("status") || !json.at("status").is_string()) {
    return arrow::Status::Invalid("it has no 'status' string");
  }
  const auto& status = json.at("status").get_ref<const std::string&>();
  if (status != "running" && status != "committed" && status != "prepared") {
    return arrow::Status::Invalid(fmt::format(
        "its status \"{}\" is not \"running\", \"prepared\" or \"committed\"", status));
  }
  run.status = status;
  run.primary_journal = json.value("primary_journal", "");
  ARROW_RETURN_NOT_OK(CheckPaths(json, "written"));
  run.written = json.at("written").get<std::vector<std::string>>();
  if (status == "committed" || status == "prepared") {
    if (!json.contains("commit")) return arrow::Status::Invalid("it is committed but has no 'commit'");
    ARROW_ASSIGN_OR_RAISE(run.commit, CommitFromJson(json.at("commit")));
  }
  return run;
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

// Whether the run of a prepared journal committed: its primary journal says "committed".
// Gone or not committed means it did not (a run removes its primary journal last).
arrow::Result<bool> PrimaryCommitted(storage::Storage* storage, const DeadRun& run,
                                     const std::string& where) {
  auto primary = storage::Uri::Parse(run.primary_journal);
  if (!primary.ok()) {
    return arrow::Status::Invalid(
        fmt::format("run journal '{}' is prepared but names no primary journal", where));
  }
  ARROW_ASSIGN_OR_RAISE(auto json, ReadJsonDocumentIfExists(storage, *primary));
  return json && json->is_object() && json->value("status", "") == "committed";
}

}  // namespace

arrow::Result<DeadRun> ReadDeadRun(storage::Storage* storage, const storage::Uri& uri) {
  const std::string where = uri.ToString();
  auto explain = [&](const arrow::Status& why) {
    return arrow::Status::Invalid(fmt::format(
        "run journal '{}' cannot be used: {}. It should say what a run that died wrote, so "
        "lakepipe stops rather than guess: look at it, delete the data files it lists that "
        "the manifest does not (if any), then delete the journal and run again",
        where, why.message()));
  };
  auto buffer = storage->ReadAll(uri);
  if (!buffer.ok()) return buffer.status();  // names the URI; may be transient
  nlohmann::json json;
  try {
    json = nlohmann::json::parse((*buffer)->ToString());
  } catch (const nlohmann::json::parse_error& e) {
    return explain(arrow::Status::Invalid(fmt::format("it is not valid JSON ({})", e.what())));
  }
  ARROW_RETURN_NOT_OK(RefuseLiveOwner(json, where));
  auto run = DeadRunFromJson(json);
  if (!run.ok()) return explain(run.status());
  return run;
}

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
                         {"status", !commit_            ? "running"
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
    ARROW_ASSIGN_OR_RAISE(auto run, ReadDeadRun(storage, file.uri));
    const std::string run_id = run.run_id.empty() ? file.uri.Name() : run.run_id;
    bool committed = run.status == "committed";
    if (run.status == "prepared") {
      ARROW_ASSIGN_OR_RAISE(committed, PrimaryCommitted(storage, run, file.uri.ToString()));
    }
    if (committed) {
      spdlog::warn("finishing the commit of run {} of pipeline '{}' that stopped midway", run_id,
                   pipeline);
      ARROW_RETURN_NOT_OK(ApplyCommit(storage, layout, pipeline, *run.commit));
    } else {
      spdlog::warn("removing {} file(s) of run {} of pipeline '{}' that did not commit",
                   run.written.size(), run_id, pipeline);
      for (const auto& path : run.written) {
        // A path no filesystem takes (a segment over 255 bytes) was never written: nothing
        // to remove, and it must not keep every later run from starting.
        if (!IsContainedRelativePath(path)) {
          spdlog::warn("journal '{}' lists '{}', which cannot be a file of the bucket: skipped",
                       file.uri.ToString(), EncodePathSegment(path.substr(0, 80)));
          continue;
        }
        const storage::Uri uri = layout.Resolve(path);
        ARROW_RETURN_NOT_OK(storage->Delete(uri));
        written_dirs.insert(uri.Parent().ToString());
      }
      // And whatever else it left in its staging folder (an atomic write's temp file).
      if (!run.run_id.empty()) {
        ARROW_RETURN_NOT_OK(storage->DeleteTree(layout.StagingDir(pipeline, run.run_id)));
      }
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
