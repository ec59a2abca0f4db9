#include "lakepipe/common/error_subject.h"

#include <algorithm>

namespace lakepipe {
namespace {

const SubjectDetail* SubjectDetailOf(const arrow::Status& status) {
  const auto& detail = status.detail();
  if (!detail || std::string_view(detail->type_id()) != SubjectDetail::kTypeId) return nullptr;
  return static_cast<const SubjectDetail*>(detail.get());
}

const char* KindName(Subject::Kind kind) {
  switch (kind) {
    case Subject::Kind::kPipeline:
      return "pipeline";
    case Subject::Kind::kFlow:
      return "flow";
    case Subject::Kind::kStage:
      return "stage";
    case Subject::Kind::kTask:
      return "task";
    case Subject::Kind::kStream:
      return "stream";
    case Subject::Kind::kLine:
      return "line";
    case Subject::Kind::kUri:
      return "";
  }
  return "";
}

// `status` with `subjects` in front of the ones it carries, under the message `message`.
arrow::Status Carrying(const arrow::Status& status, std::string message,
                       std::vector<Subject> subjects) {
  auto carried = SubjectsOf(status);
  subjects.insert(subjects.end(), carried.begin(), carried.end());
  return arrow::Status(status.code(), std::move(message),
                       std::make_shared<SubjectDetail>(std::move(subjects), CauseDetail(status)));
}

}  // namespace

std::string Subject::ToString() const {
  switch (kind) {
    case Kind::kLine:
      return "line " + name;
    case Kind::kUri:
      return "'" + name + "'";
    default:
      return std::string(KindName(kind)) + " '" + name + "'";
  }
}

SubjectDetail::SubjectDetail(std::vector<Subject> subjects,
                             std::shared_ptr<arrow::StatusDetail> cause)
    : subjects_(std::move(subjects)), cause_(std::move(cause)) {}

std::string SubjectDetail::ToString() const {
  std::string out;
  for (const auto& subject : subjects_) out += (out.empty() ? "" : ", ") + subject.ToString();
  if (cause_) out += " (" + cause_->ToString() + ")";
  return out;
}

arrow::Status WithSubject(const arrow::Status& status, std::vector<Subject> subjects) {
  if (status.ok()) return status;
  std::erase_if(subjects, [&](const Subject& s) { return HasSubject(status, s); });
  if (subjects.empty()) return status;
  std::string prefix;
  for (const auto& subject : subjects) prefix += (prefix.empty() ? "" : ", ") + subject.ToString();
  return Carrying(status, prefix + ": " + status.message(), std::move(subjects));
}

arrow::Status WithSubject(const arrow::Status& status, Subject subject) {
  return WithSubject(status, std::vector<Subject>{std::move(subject)});
}

arrow::Status Naming(const arrow::Status& status, Subject subject) {
  if (status.ok() || HasSubject(status, subject)) return status;
  return Carrying(status, status.message(), {std::move(subject)});
}

std::vector<Subject> SubjectsOf(const arrow::Status& status) {
  const auto* detail = SubjectDetailOf(status);
  return detail ? detail->subjects() : std::vector<Subject>{};
}

std::optional<std::string> SubjectOf(const arrow::Status& status, Subject::Kind kind) {
  for (const auto& subject : SubjectsOf(status)) {
    if (subject.kind == kind) return subject.name;
  }
  return std::nullopt;
}

bool HasSubject(const arrow::Status& status, const Subject& subject) {
  const auto subjects = SubjectsOf(status);
  return std::find(subjects.begin(), subjects.end(), subject) != subjects.end();
}

std::shared_ptr<arrow::StatusDetail> CauseDetail(const arrow::Status& status) {
  const auto* detail = SubjectDetailOf(status);
  return detail ? detail->cause() : status.detail();
}

}  // namespace lakepipe
