#include "lakepipe/postgres/postgres_connection.h"

#include <libpq-fe.h>

#include <cctype>
#include <vector>

#include <fmt/format.h>

namespace lakepipe::postgres {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

/// "a=1&password=x&b=2" → "a=1&b=2". libpq decodes keys too, so "pass%77ord" counts; any
/// case counts, to be safe.
std::string DropPasswordParameters(std::string_view query) {
  std::string out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    std::string key = PercentDecode(param.substr(0, param.find('=')));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key != "password" && key != "sslpassword" && !param.empty()) {
      if (!out.empty()) out += '&';
      out += param;
    }
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return out;
}

/// libpq's messages end in a newline and wrap with "\n\t": one line reads better in ours.
std::string OneLine(std::string_view message) {
  std::string out;
  bool space = false;
  for (char c : message) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

bool IsPasswordKey(std::string key) {
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key == "password" || key == "sslpassword";
}

// The passwords of a keyword/value connection string: "host=h password='a b\'c'".
void KeywordPasswords(std::string_view conninfo, std::vector<std::string>* out) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < conninfo.size() && std::isspace(static_cast<unsigned char>(conninfo[i]))) ++i;
  };
  while (i < conninfo.size()) {
    skip_space();
    const size_t key_begin = i;
    while (i < conninfo.size() && conninfo[i] != '=' &&
           !std::isspace(static_cast<unsigned char>(conninfo[i]))) {
      ++i;
    }
    const std::string key(conninfo.substr(key_begin, i - key_begin));
    skip_space();
    if (i >= conninfo.size() || conninfo[i] != '=') return;
    ++i;
    skip_space();
    std::string value;
    if (i < conninfo.size() && conninfo[i] == '\'') {
      for (++i; i < conninfo.size() && conninfo[i] != '\''; ++i) {
        if (conninfo[i] == '\\' && i + 1 < conninfo.size()) ++i;
        value += conninfo[i];
      }
      ++i;
    } else {
      while (i < conninfo.size() && !std::isspace(static_cast<unsigned char>(conninfo[i]))) {
        value += conninfo[i++];
      }
    }
    if (IsPasswordKey(key)) out->push_back(value);
  }
}

// Every password `url` holds, as written and percent-decoded.
std::vector<std::string> Passwords(std::string_view url) {
  std::vector<std::string> found;
  const size_t scheme_end = url.find("://");
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme_end == std::string_view::npos || (scheme != "postgresql" && scheme != "postgres")) {
    KeywordPasswords(url, &found);
  } else {
    const size_t begin = scheme_end + 3;
    const size_t query = url.find('?', begin);
    const std::string_view rest =
        url.substr(begin, query == std::string_view::npos ? url.npos : query - begin);
    // The user info ends at the last '@' before the query, as in RedactPostgresUrl.
    const size_t at = rest.rfind('@');
    const size_t colon = rest.find(':');
    if (at != std::string_view::npos && colon < at) {
      found.emplace_back(rest.substr(colon + 1, at - colon - 1));
    }
    for (std::string_view params = query == std::string_view::npos ? "" : url.substr(query + 1);
         !params.empty();) {
      const size_t amp = params.find('&');
      const std::string_view param = params.substr(0, amp);
      const size_t equals = param.find('=');
      if (equals != std::string_view::npos &&
          IsPasswordKey(PercentDecode(param.substr(0, equals)))) {
        found.emplace_back(param.substr(equals + 1));
      }
      params = amp == std::string_view::npos ? std::string_view() : params.substr(amp + 1);
    }
  }
  const size_t written = found.size();
  for (size_t i = 0; i < written; ++i) found.push_back(PercentDecode(found[i]));
  return found;
}

void ReplaceAll(std::string* text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (size_t pos = text->find(what); pos != std::string::npos;
       pos = text->find(what, pos + with.size())) {
    text->replace(pos, what.size(), with);
  }
}

}  // namespace

std::string RedactPostgresSecrets(std::string_view message, std::string_view url) {
  std::string out(message);
  ReplaceAll(&out, url, RedactPostgresUrl(url));
  for (const auto& password : Passwords(url)) {
    if (password.size() >= 4) ReplaceAll(&out, password, "***");
  }
  return out;
}

std::string RedactPostgresUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme_end == std::string_view::npos || (scheme != "postgresql" && scheme != "postgres")) {
    return "<not a postgresql:// URL>";
  }
  const size_t begin = scheme_end + 3;
  const size_t query = url.find('?', begin);
  std::string_view rest =
      url.substr(begin, query == std::string_view::npos ? url.npos : query - begin);
  std::string out(url.substr(0, begin));
  // The last '@' before the query ends the user info: a password holding an unencoded '@'
  // or '/' is then hidden whole, at worst with part of the host.
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view user_info = rest.substr(0, at);
    out += user_info.substr(0, user_info.find(':'));
    rest = rest.substr(at);
  }
  out += rest;
  if (query != std::string_view::npos) {
    const std::string kept = DropPasswordParameters(url.substr(query + 1));
    if (!kept.empty()) out += "?" + kept;
  }
  return out;
}

arrow::Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& url) {
  std::string redacted = RedactPostgresUrl(url);
  if (redacted.front() == '<') {
    return arrow::Status::Invalid(
        "metadata: expected a postgresql://user[:password]@host:port/db URL (the value is not "
        "shown: it may hold a password)");
  }
  // Defaults first: the URL, expanded in place of "dbname", overrides them.
  const char* keywords[] = {"connect_timeout",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "fallback_application_name",
                            "dbname",
                            nullptr};
  const char* values[] = {"10", "30", "10", "3", "lakepipe", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return arrow::Status::OutOfMemory(fmt::format("connecting to PostgreSQL '{}'", redacted));
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq names host, port and user, and quotes pieces of a URL it cannot parse.
    const std::string message = RedactPostgresSecrets(OneLine(PQerrorMessage(conn)), url);
    PQfinish(conn);
    return arrow::Status::IOError(
        fmt::format("connecting to PostgreSQL '{}': {}", redacted, message));
  }
  // The default notice processor prints to stderr ("NOTICE: … skipping").
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn, std::move(redacted)));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

arrow::Result<PgRows> PgConnection::Query(std::string_view what, const std::string& sql,
                                          const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& param : params) values.push_back(param.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                   nullptr, nullptr, /*resultFormat=text*/ 0),
      &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const char* message = result ? PQresultErrorMessage(result.get()) : "";
    return Error(what, *message != '\0' ? message : PQerrorMessage(conn_));
  }
  PgRows rows(PQntuples(result.get()));
  const int columns = PQnfields(result.get());
  for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result.get(), r, c)) {
        rows[r].emplace_back();
      } else {
        rows[r].emplace_back(
            std::string(PQgetvalue(result.get(), r, c), PQgetlength(result.get(), r, c)));
      }
    }
  }
  return rows;
}

arrow::Status PgConnection::Execute(std::string_view what, const std::string& sql,
                                    const std::vector<std::string>& params) {
  return Query(what, sql, params).status();
}

arrow::Status PgConnection::ExecuteScript(std::string_view what, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_, sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const char* message = result ? PQresultErrorMessage(result.get()) : "";
    return Error(what, *message != '\0' ? message : PQerrorMessage(conn_));
  }
  return arrow::Status::OK();
}

bool PgConnection::Broken() const { return PQstatus(conn_) == CONNECTION_BAD; }

arrow::Status PgConnection::Reconnect() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return arrow::Status::IOError(fmt::format("reconnecting to PostgreSQL '{}': {}", redacted_url_,
                                              OneLine(PQerrorMessage(conn_))));
  }
  return arrow::Status::OK();
}

std::string PgConnection::LastError() const { return OneLine(PQerrorMessage(conn_)); }

arrow::Status PgConnection::Error(std::string_view what, std::string_view message) const {
  if (Broken()) {
    return arrow::Status::IOError(fmt::format("PostgreSQL '{}': {}: lost the connection: {}",
                                              redacted_url_, what, OneLine(message)));
  }
  return arrow::Status::IOError(
      fmt::format("PostgreSQL '{}': {}: {}", redacted_url_, what, OneLine(message)));
}

}  // namespace lakepipe::postgres
