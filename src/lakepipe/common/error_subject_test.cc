#include "lakepipe/common/error_subject.h"

#include <arrow/util/io_util.h>
#include <gtest/gtest.h>

namespace lakepipe {
namespace {

TEST(ErrorSubjectTest, WithSubjectPrefixesTheMessageAndRecordsTheSubject) {
  auto status = WithSubject(arrow::Status::Invalid("run cancelled"), Subject::Pipeline("orders"));
  EXPECT_TRUE(status.IsInvalid());
  EXPECT_EQ(status.message(), "pipeline 'orders': run cancelled");
  EXPECT_EQ(SubjectOf(status, Subject::Kind::kPipeline), "orders");
  EXPECT_EQ(SubjectOf(status, Subject::Kind::kStream), std::nullopt);
}

TEST(ErrorSubjectTest, SeveralSubjectsAtOnceReadAsOnePrefix) {
  auto status = WithSubject(arrow::Status::Invalid("field 'id': expected integer"),
                            {Subject::Stream("things"), Subject::Line(3)});
  EXPECT_EQ(status.message(), "stream 'things', line 3: field 'id': expected integer");
  EXPECT_EQ(SubjectOf(status, Subject::Kind::kLine), "3");
}

TEST(ErrorSubjectTest, OuterSubjectsComeFirst) {
  auto inner = WithSubject(arrow::Status::IOError("boom"), Subject::Stream("things"));
  auto outer = WithSubject(inner, Subject::Pipeline("orders"));
  EXPECT_EQ(outer.message(), "pipeline 'orders': stream 'things': boom");
  const std::vector<Subject> expected = {Subject::Pipeline("orders"), Subject::Stream("things")};
  EXPECT_EQ(SubjectsOf(outer), expected);
}

TEST(ErrorSubjectTest, ASubjectCarriedAlreadyIsNotNamedAgain) {
  auto once = WithSubject(arrow::Status::IOError("boom"), Subject::Pipeline("orders"));
  auto twice = WithSubject(once, Subject::Pipeline("orders"));
  EXPECT_EQ(twice.message(), "pipeline 'orders': boom");
  auto mixed = WithSubject(once, {Subject::Pipeline("orders"), Subject::Task("t")});
  EXPECT_EQ(mixed.message(), "task 't': pipeline 'orders': boom");
  // Another pipeline is another subject.
  EXPECT_EQ(WithSubject(once, Subject::Pipeline("other")).message(),
            "pipeline 'other': pipeline 'orders': boom");
}

TEST(ErrorSubjectTest, NamingRecordsWithoutTouchingTheMessage) {
  auto status = Naming(arrow::Status::IOError("pipeline 'orders' is already running"),
                       Subject::Pipeline("orders"));
  EXPECT_EQ(status.message(), "pipeline 'orders' is already running");
  EXPECT_TRUE(HasSubject(status, Subject::Pipeline("orders")));
  EXPECT_EQ(WithSubject(status, Subject::Pipeline("orders")).message(),
            "pipeline 'orders' is already running");
}

TEST(ErrorSubjectTest, UriSubjectsReadQuoted) {
  auto status = WithSubject(arrow::Status::IOError("gone"), Subject::Uri("s3://lake/a.json"));
  EXPECT_EQ(status.message(), "'s3://lake/a.json': gone");
  EXPECT_TRUE(HasSubject(status, Subject::Uri("s3://lake/a.json")));
  EXPECT_FALSE(HasSubject(status, Subject::Uri("s3://lake/b.json")));
}

TEST(ErrorSubjectTest, TheDetailUnderneathIsKept) {
  auto cause = arrow::internal::IOErrorFromErrno(28, "writing");
  ASSERT_NE(cause.detail(), nullptr);
  auto status = WithSubject(cause, Subject::Pipeline("orders"));
  EXPECT_EQ(CauseDetail(status), cause.detail());
  EXPECT_EQ(CauseDetail(cause), cause.detail());
  EXPECT_NE(status.detail()->ToString().find(cause.detail()->ToString()), std::string::npos);
  EXPECT_EQ(CauseDetail(WithSubject(status, Subject::Stream("s"))), cause.detail());
}

TEST(ErrorSubjectTest, OkStaysOkAndCarriesNothing) {
  EXPECT_TRUE(WithSubject(arrow::Status::OK(), Subject::Pipeline("orders")).ok());
  EXPECT_TRUE(Naming(arrow::Status::OK(), Subject::Pipeline("orders")).ok());
  EXPECT_TRUE(SubjectsOf(arrow::Status::IOError("x")).empty());
  EXPECT_EQ(CauseDetail(arrow::Status::IOError("x")), nullptr);
}

}  // namespace
}  // namespace lakepipe
