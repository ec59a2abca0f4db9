#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/status.h>

namespace lakepipe {

/// One thing an error is about, as the user knows it: a pipeline, a flow, a stage, a task,
/// a stream, a line of a tap's output, a file or object.
struct Subject {
  enum class Kind { kPipeline, kFlow, kStage, kTask, kStream, kLine, kUri };

  Kind kind;
  std::string name;

  static Subject Pipeline(std::string name) { return {Kind::kPipeline, std::move(name)}; }
  static Subject Flow(std::string name) { return {Kind::kFlow, std::move(name)}; }
  static Subject Stage(std::string name) { return {Kind::kStage, std::move(name)}; }
  static Subject Task(std::string name) { return {Kind::kTask, std::move(name)}; }
  static Subject Stream(std::string name) { return {Kind::kStream, std::move(name)}; }
  static Subject Line(int64_t number) { return {Kind::kLine, std::to_string(number)}; }
  /// `uri` as printed (credentials already left out).
  static Subject Uri(std::string uri) { return {Kind::kUri, std::move(uri)}; }

  /// How it reads in a message: "pipeline 'orders'", "line 7", "'s3://lake/a.json'".
  std::string ToString() const;

  bool operator==(const Subject&) const = default;
};

/// The subjects of an error, outermost first, carried as its status' detail. The detail
/// the status had before (an errno, say) is kept as `cause`.
class SubjectDetail : public arrow::StatusDetail {
 public:
  static constexpr const char* kTypeId = "lakepipe::SubjectDetail";

  SubjectDetail(std::vector<Subject> subjects, std::shared_ptr<arrow::StatusDetail> cause);

  const char* type_id() const override { return kTypeId; }
  /// The subjects, then the cause's text in parentheses when there is one.
  std::string ToString() const override;

  const std::vector<Subject>& subjects() const { return subjects_; }
  const std::shared_ptr<arrow::StatusDetail>& cause() const { return cause_; }

 private:
  std::vector<Subject> subjects_;
  std::shared_ptr<arrow::StatusDetail> cause_;
};

/// `status` with `subjects` named in front of its message, joined as the user reads them
/// ("pipeline 'orders': ...", "stream 'things', line 3: ...") and recorded as data. A
/// subject the status carries already is left out, so every layer may name what it knows
/// and the message still names each thing once. OK stays OK.
arrow::Status WithSubject(const arrow::Status& status, std::vector<Subject> subjects);
arrow::Status WithSubject(const arrow::Status& status, Subject subject);

/// Records `subject` without touching the message: for errors whose text names it in its
/// own words ("pipeline 'orders' is already running", "writing 's3://...': ...").
arrow::Status Naming(const arrow::Status& status, Subject subject);

/// The subjects `status` carries, outermost first; empty when it carries none.
std::vector<Subject> SubjectsOf(const arrow::Status& status);

/// The name of the outermost subject of `kind` that `status` carries.
std::optional<std::string> SubjectOf(const arrow::Status& status, Subject::Kind kind);

bool HasSubject(const arrow::Status& status, const Subject& subject);

/// The detail beneath the subjects (an errno detail, say): `status.detail()` when it
/// carries no subjects.
std::shared_ptr<arrow::StatusDetail> CauseDetail(const arrow::Status& status);

}  // namespace lakepipe
