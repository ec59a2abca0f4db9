#pragma once

#include <optional>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/lake/table_entry.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::lake {

/// A data file written in the staging folder and moved to its table at commit.
struct Publication {
  std::string staged;  ///< relative to the bucket
  std::string final_path;
};

/// What a run commits, recorded in its journal before anything is applied, so that a
/// crash at any point after the commit can be finished by the next run.
struct PendingCommit {
  std::string run_id;                   ///< whose staging folder is removed at the end
  std::vector<Publication> published;   ///< moved into the tables first
  std::vector<TableEntry> entries;      ///< the tables' entries after this run
  std::optional<nlohmann::json> state;  ///< Singer state to store, if any
  nlohmann::json log;                   ///< the run log document
  std::string log_stamp;                ///< log file name stem (UTC start)
  std::vector<std::string> replaced;    ///< files a full refresh replaced, deleted last
};

/// What the journal of a run that died says, checked.
struct DeadRun {
  std::string run_id;                   ///< "" when the journal does not say
  std::string status;                   ///< "running", "prepared" or "committed"
  std::string primary_journal;          ///< of a prepared journal: the one that decides
  std::vector<std::string> written;     ///< data files, relative to the bucket
  std::optional<PendingCommit> commit;  ///< set when the run had committed or prepared
};

/// Reads and checks the journal at `uri`. A journal that is not what lakepipe writes
/// (invalid or truncated JSON, not an object, wrong field types, an unknown status, a
/// path outside the bucket, a newer version) is Invalid with a message naming the URI and
/// what the user can do; lakepipe writes journals atomically, so such a file never comes
/// from one of its own runs and recovery must not guess what it meant.
arrow::Result<DeadRun> ReadDeadRun(storage::Storage* storage, const storage::Uri& uri);

/// The journal of one run: .dataspoc/journal/<pipeline>/<run_id>.json, format documented in
/// docs/FORMATS.md. A run
///   1. records every data file in `written` before it starts writing it;
///   2. commits by rewriting the journal with status "committed" and the PendingCommit
///      (one atomic object write: the commit point);
///   3. applies the commit (ApplyCommit) and deletes the journal.
/// A journal found by the next run of the pipeline belongs to a run that died: "running"
/// → its written files are deleted (nothing was committed); "committed" → the commit is
/// applied again (idempotent) and then the journal is deleted; "prepared" (a second
/// destination) → as "committed" when its primary journal is committed, else as "running".
/// A run removes its prepared journals before its primary one, so a missing primary
/// journal means the run never committed.
class RunJournal {
 public:
  /// Starts a journal for a new run and writes it.
  static arrow::Result<RunJournal> Begin(storage::Storage* storage, const BucketLayout& layout,
                                         std::string pipeline, std::string run_id,
                                         std::string started_at);

  /// Records a data file (relative path) before it is written.
  arrow::Status AddWritten(const std::string& relative_path);
  /// Records the commit; after this returns OK the run counts as committed.
  arrow::Status Commit(PendingCommit commit);
  /// For a run with several destinations, every destination but the first: records this
  /// destination's commit as "prepared". It counts as committed exactly when the journal at
  /// `primary_journal` (the first destination's, committed last) does, so one atomic write
  /// commits the run in every destination or in none.
  arrow::Status Prepare(PendingCommit commit, const storage::Uri& primary_journal);
  /// This journal's own URI.
  storage::Uri uri() const { return layout_.JournalUri(pipeline_, run_id_); }
  /// Deletes the journal file (after the commit was applied or the run cleaned up).
  arrow::Status Remove();

  const std::string& run_id() const { return run_id_; }
  const std::string& pipeline() const { return pipeline_; }
  const std::vector<std::string>& written() const { return written_; }

  /// Finishes or undoes every journal left by dead runs of `pipeline`. Call with the
  /// pipeline's run lock held. Returns how many journals were recovered.
  static arrow::Result<int> RecoverDeadRuns(storage::Storage* storage, const BucketLayout& layout,
                                            const std::string& pipeline);

 private:
  RunJournal(storage::Storage* storage, BucketLayout layout, std::string pipeline,
             std::string run_id, std::string started_at)
      : storage_(storage),
        layout_(std::move(layout)),
        pipeline_(std::move(pipeline)),
        run_id_(std::move(run_id)),
        started_at_(std::move(started_at)) {}

  nlohmann::json ToJson() const;
  arrow::Status Save();

  storage::Storage* storage_;
  BucketLayout layout_;
  std::string pipeline_;
  std::string run_id_;
  std::string started_at_;
  std::vector<std::string> written_;
  std::optional<PendingCommit> commit_;
  std::optional<std::string> primary_journal_;  ///< set by Prepare()
};

/// Applies a commit in the contract's order: data files moved from staging into their
/// tables → table entries → manifest → state → log, then deletes replaced files and the
/// run's staging folder. Idempotent, so recovery can run it again after a crash.
arrow::Status ApplyCommit(storage::Storage* storage, const BucketLayout& layout,
                          const std::string& pipeline, const PendingCommit& commit);

}  // namespace lakepipe::lake
