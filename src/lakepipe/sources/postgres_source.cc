#include "lakepipe/sources/postgres_source.h"

#include <charconv>

#include <arrow/compute/api_aggregate.h>
#include <arrow/scalar.h>
#include <fmt/format.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/storage/redact.h"
#include "lakepipe/postgres/postgres_connection.h"

namespace lakepipe::sources {
namespace {

std::string QuoteIdentifier(const std::string& id) {
  std::string q = "\"";
  for (char c : id) {
    q.push_back(c);
    if (c == '"') q.push_back('"');
  }
  return q + "\"";
}

// "schema.table" → "pg"."schema"."table" ("public" when no schema is named).
std::string QualifiedName(const std::string& table) {
  const size_t dot = table.find('.');
  const std::string schema = dot == std::string::npos ? "public" : table.substr(0, dot);
  const std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
  return "\"pg\"." + QuoteIdentifier(schema) + "." + QuoteIdentifier(name);
}

// The bookmark as a SQL literal: numbers as they are, anything else as a string DuckDB
// casts to the key's type.
std::string Literal(const nlohmann::json& value) {
  if (value.is_number()) return value.dump();
  return duckdb::SqlString(value.is_string() ? value.get<std::string>() : value.dump());
}

// Integers stay JSON numbers (as taps write them); anything else is its text.
nlohmann::json BookmarkValue(const arrow::Scalar& key) {
  const std::string text = key.ToString();
  if (arrow::is_integer(key.type->id())) {
    int64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && end == text.data() + text.size()) return number;
  }
  return text;
}

}  // namespace

// The stream's bookmark in the saved state: looked up member by member, since a stream
// name may hold any character ('~' and '/' would need escaping in a JSON pointer).
std::optional<nlohmann::json> PostgresSource::SavedBookmark() const {
  if (!state_ || !state_->is_object()) return std::nullopt;
  auto bookmarks = state_->find("bookmarks");
  if (bookmarks == state_->end() || !bookmarks->is_object()) return std::nullopt;
  auto stream = bookmarks->find(stream_);
  if (stream == bookmarks->end() || !stream->is_object()) return std::nullopt;
  auto value = stream->find("replication_key_value");
  if (value == stream->end() || value->is_null()) return std::nullopt;
  return *value;
}

arrow::Status PostgresSource::Redacted(const arrow::Status& status) const {
  if (status.ok()) return status;
  // postgres_scanner repeats the URL it was given ("Unable to connect to Postgres at
  // \"<url>\": …"), as is or already through RedactSecrets (DuckDB's errors are), and
  // libpq may quote pieces of it: both forms become the URL without its passwords, and
  // the passwords themselves "***".
  std::string message = postgres::RedactPostgresSecrets(status.message(), url_);
  const std::string seen = storage::RedactSecrets(url_);
  if (seen != url_) {
    const std::string redacted = postgres::RedactPostgresUrl(url_);
    for (size_t pos = message.find(seen); pos != std::string::npos;
         pos = message.find(seen, pos + redacted.size())) {
      message.replace(pos, seen.size(), redacted);
    }
  }
  return storage::RedactSecrets(status.WithMessage(message));
}

arrow::Status PostgresSource::Run(IngestSink* sink) {
  auto status = ReadAll(sink);
  return Redacted(status);
}

arrow::Status PostgresSource::ReadAll(IngestSink* sink) {
  ARROW_ASSIGN_OR_RAISE(auto db, duckdb::Database::Open({}));
  ARROW_RETURN_NOT_OK(db->LoadExtension("postgres_scanner"));
  auto attached = db->Execute(
      fmt::format("ATTACH {} AS pg (TYPE postgres, READ_ONLY)", duckdb::SqlString(url_)));
  if (!attached.ok()) {
    return Naming(attached.WithMessage(fmt::format("connecting to PostgreSQL for stream '{}': {}",
                                                   stream_, attached.message())),
                  Subject::Stream(stream_));
  }
  std::string sql = fmt::format("SELECT * FROM {}", QualifiedName(table_));
  std::optional<nlohmann::json> bookmark;
  if (!replication_key_.empty()) {
    bookmark = SavedBookmark();
    // ">=": a row that came later with the bookmark's value is read too; the rows at the
    // bookmark that the last run committed are dropped by the runner (BoundaryFilter).
    if (bookmark) {
      sql += fmt::format(" WHERE {} >= {}", QuoteIdentifier(replication_key_), Literal(*bookmark));
    }
    // NULL keys first: the last row then holds the largest key (they are read by the first
    // run only; a NULL is never above a bookmark).
    sql += fmt::format(" ORDER BY {} NULLS FIRST", QuoteIdentifier(replication_key_));
  }
  auto reader = db->QueryArrow(sql);
  if (!reader.ok()) {
    return WithSubject(reader.status(), Subject::Stream(stream_));
  }
  ARROW_RETURN_NOT_OK(sink->OnSchema(stream_, (*reader)->schema()));
  std::shared_ptr<arrow::Scalar> last_key;
  for (;;) {
    if (cancelled_) return arrow::Status::Cancelled("run cancelled");
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK((*reader)->ReadNext(&batch));
    if (!batch) break;
    if (batch->num_rows() == 0) continue;
    if (!replication_key_.empty()) {
      // Rows come in key order: the batch's last key is the largest so far.
      auto column = batch->GetColumnByName(replication_key_);
      if (!column) {
        return arrow::Status::Invalid(
            fmt::format("stream '{}': replication key '{}' is not a "
                        "column of '{}'",
                        stream_, replication_key_, table_));
      }
      ARROW_ASSIGN_OR_RAISE(auto key, column->GetScalar(column->length() - 1));
      if (key->is_valid) last_key = std::move(key);
    }
    ARROW_RETURN_NOT_OK(sink->OnBatch(stream_, batch));
  }
  if (!replication_key_.empty() && (last_key || bookmark)) {
    const nlohmann::json value = last_key ? BookmarkValue(*last_key) : *bookmark;
    nlohmann::json state = state_.value_or(nlohmann::json::object());
    state["bookmarks"][stream_] = {{"replication_key", replication_key_},
                                   {"replication_key_value", value}};
    ARROW_RETURN_NOT_OK(sink->OnState(state));
  }
  return arrow::Status::OK();
}

}  // namespace lakepipe::sources
