#include "lakepipe/storage/redact.h"

#include <gtest/gtest.h>

#include "lakepipe/common/error_subject.h"

namespace lakepipe::storage {
namespace {

TEST(RedactTest, UserInfoOfEveryUrlBecomesStars) {
  EXPECT_EQ(RedactUriUserInfo("at \"postgresql://bob:pw@127.0.0.1:1/db\": refused"),
            "at \"postgresql://***@127.0.0.1:1/db\": refused");
  EXPECT_EQ(RedactUriUserInfo("'s3://K:S@a/x' and 'gs://K:S@b/y'"),
            "'s3://***@a/x' and 'gs://***@b/y'");
  // A password with an unencoded '/' is hidden whole.
  EXPECT_EQ(RedactUriUserInfo("https://K:se/cret@host/x"), "https://***@host/x");
}

TEST(RedactTest, NamesWithoutPasswordsStay) {
  for (const char* text :
       {"abfs://container@acct.dfs.core.windows.net/x", "postgresql://bob@host/db",
        "s3://lake/a@b.png", "no url at all", "mailto:me@example.com"}) {
    EXPECT_EQ(RedactUriUserInfo(text), text);
  }
  // In bucket schemes an '@' before the bucket can only be credentials.
  EXPECT_EQ(RedactUriUserInfo("az://KEY@container/x"), "az://***@container/x");
}

TEST(RedactTest, RedactSecretsAlsoHidesUrlUserInfo) {
  EXPECT_EQ(RedactSecrets("Unable to connect to Postgres at \"postgresql://u:p4ss@h/db\""),
            "Unable to connect to Postgres at \"postgresql://***@h/db\"");
}

TEST(RedactTest, SubjectsOfAStatusAreRedactedLikeItsMessage) {
  auto status = RedactSecrets(WithSubject(arrow::Status::IOError("refused"),
                                          {Subject::Pipeline("p"), Subject::Uri("s3://K:S@b/x")}));
  EXPECT_EQ(status.message(), "pipeline 'p', 's3://***@b/x': refused");
  const std::vector<Subject> expected = {Subject::Pipeline("p"), Subject::Uri("s3://***@b/x")};
  EXPECT_EQ(SubjectsOf(status), expected);
  EXPECT_EQ(status.detail()->ToString().find("K:S"), std::string::npos);
}

}  // namespace
}  // namespace lakepipe::storage
