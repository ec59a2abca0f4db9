#pragma once

// A thin libpq wrapper for the PostgreSQL metadata store and its advisory locks: one
// place converts libpq errors to arrow::Status and keeps passwords out of messages.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/result.h>
#include <arrow/status.h>

struct pg_conn;  // libpq's PGconn, kept out of this header

namespace lakepipe::postgres {

/// `url` without its password (the ":password" of the user info and any `password=` or
/// `sslpassword=` query parameter), for messages and Describe(). Anything that is not a
/// postgresql:// or postgres:// URL comes back as "<not a postgresql:// URL>", because a
/// keyword/value connection string may hold a password anywhere.
std::string RedactPostgresUrl(std::string_view url);

/// `message` without what `url` (a postgresql:// URL or a keyword/value connection
/// string) holds secret: the URL itself becomes RedactPostgresUrl(url), and each password in
/// it (of the user info, of password= and sslpassword=), as written and percent-decoded,
/// becomes "***" wherever else it appears: libpq quotes pieces of a connection string it
/// cannot parse (`invalid percent-encoded token: "…"`). Passwords under 4 characters are
/// left, as replacing them would garble the message more than it hides.
std::string RedactPostgresSecrets(std::string_view message, std::string_view url);

/// A query result as text; SQL NULL is nullopt.
using PgRows = std::vector<std::vector<std::optional<std::string>>>;

/// One libpq connection. Needs external synchronization (libpq connections are not
/// thread-safe). Every error names the URL without its password.
class PgConnection {
 public:
  /// Connects to `url` (postgresql:// or postgres://). Defaults the URL may override:
  /// connect_timeout 10 s, TCP keepalives after 30 s idle (a vanished server is noticed
  /// within about a minute, even while waiting for a lock), application_name "lakepipe".
  static arrow::Result<std::unique_ptr<PgConnection>> Open(const std::string& url);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs one statement with text parameters ($1, $2, …; never spliced into the SQL) and
  /// returns its rows. `what` names the operation in errors ("loading instance 'ci'").
  arrow::Result<PgRows> Query(std::string_view what, const std::string& sql,
                              const std::vector<std::string>& params = {});
  /// Query() for statements whose rows do not matter.
  arrow::Status Execute(std::string_view what, const std::string& sql,
                        const std::vector<std::string>& params = {});
  /// Runs several ;-separated statements without parameters (migrations).
  arrow::Status ExecuteScript(std::string_view what, const std::string& sql);

  /// True once libpq noticed the connection is gone (after a failed call).
  bool Broken() const;
  /// Reconnects with the same parameters. Session state (locks, transactions) is gone.
  arrow::Status Reconnect();
  /// libpq's message about the last failure, on one line.
  std::string LastError() const;
  /// The URL without its password.
  const std::string& redacted_url() const { return redacted_url_; }

 private:
  PgConnection(pg_conn* conn, std::string redacted_url)
      : conn_(conn), redacted_url_(std::move(redacted_url)) {}
  /// The IOError of a failed call, from libpq's message; says when the connection was lost.
  arrow::Status Error(std::string_view what, std::string_view message) const;

  pg_conn* conn_;
  const std::string redacted_url_;
};

}  // namespace lakepipe::postgres
