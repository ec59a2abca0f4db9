#pragma once

// A throwaway PostgreSQL server for unit tests, started from Debian's postgresql-15 binaries
// like tests/e2e/services.py's Postgres: initdb into a temp folder, postgres on a free
// loopback port. Test-only (header-only, included by *_test.cc files).

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arrow/result.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace lakepipe::tablestore::testing {

class TestPostgres {
 public:
  /// The superuser; host (TCP) connections must give kPassword (scram-sha-256), so tests
  /// see real password authentication. The Unix socket in the temp folder trusts.
  static constexpr char kUser[] = "lakepipe";
  static constexpr char kPassword[] = "Pg-test-secret-9x7";

  /// Starts a server, or says why not (with the tail of the tool's output). As root, the
  /// tools run as user 'postgres' (runuser), because initdb and pg_ctl refuse root.
  static arrow::Result<std::unique_ptr<TestPostgres>> Start() {
    std::string dir_template = (std::filesystem::temp_directory_path() / "lakepipe-unit-pg-XXXXXX");
    if (::mkdtemp(dir_template.data()) == nullptr) {
      return arrow::Status::IOError(fmt::format("mkdtemp: {}", strerror(errno)));
    }
    std::unique_ptr<TestPostgres> server(new TestPostgres(dir_template));
    ARROW_ASSIGN_OR_RAISE(server->owner_, Owner());
    ARROW_RETURN_NOT_OK(server->InitDb());
    arrow::Status started;
    for (int attempt = 0; attempt < 3; ++attempt) {  // another process may grab the port
      ARROW_ASSIGN_OR_RAISE(server->port_, FreePort());
      started = server->StartServer();
      if (started.ok()) return server;
    }
    return started;
  }

  ~TestPostgres() {
    if (port_ != 0) {
      (void)Run({Tool("pg_ctl"), "-D", Data(), "-m", "immediate", "-w", "stop"});
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// postgresql://lakepipe:<password>@127.0.0.1:<port>/<database>
  std::string Url(const std::string& database, const std::string& password = kPassword) const {
    return fmt::format("postgresql://{}:{}@127.0.0.1:{}/{}", kUser, password, port_, database);
  }
  int port() const { return port_; }

 private:
  struct Ids {
    uid_t uid;
    gid_t gid;
  };

  explicit TestPostgres(std::string dir) : dir_(std::move(dir)) {}

  std::string Data() const { return dir_ + "/data"; }

  static arrow::Result<std::optional<Ids>> Owner() {
    if (::geteuid() != 0) return std::nullopt;
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr) {
      return arrow::Status::IOError(
          "running as root, but there is no user 'postgres' to run initdb as (initdb refuses "
          "root; install postgresql-15)");
    }
    return Ids{user->pw_uid, user->pw_gid};
  }

  static std::string Tool(const std::string& name) {
    const std::string debian = "/usr/lib/postgresql/15/bin/" + name;
    if (std::filesystem::exists(debian)) return debian;
    const char* path_variable = std::getenv("PATH");
    std::istringstream path(std::string(path_variable ? path_variable : "") + ":/usr/sbin:/sbin");
    for (std::string dir; std::getline(path, dir, ':');) {
      if (!dir.empty() && std::filesystem::exists(dir + "/" + name)) return dir + "/" + name;
    }
    return name;  // the error will name it
  }

  static arrow::Result<int> FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) return arrow::Status::IOError(fmt::format("finding a free port: {}", strerror(errno)));
    return ntohs(address.sin_port);
  }

  /// Gives the folder (and what initdb reads) to the user the server runs as.
  arrow::Status Chown(const std::string& path) const {
    if (owner_ && ::chown(path.c_str(), owner_->uid, owner_->gid) != 0) {
      return arrow::Status::IOError(fmt::format("chown '{}': {}", path, strerror(errno)));
    }
    return arrow::Status::OK();
  }

  arrow::Status InitDb() const {
    ARROW_RETURN_NOT_OK(Chown(dir_));
    const std::string password_file = dir_ + "/password";
    std::ofstream(password_file) << kPassword << "\n";
    ARROW_RETURN_NOT_OK(Chown(password_file));
    return Run({Tool("initdb"), "-D", Data(), "-U", kUser, "--pwfile=" + password_file,
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
                "--no-sync"});
  }

  arrow::Status StartServer() const {
    ARROW_RETURN_NOT_OK(
        Run({Tool("pg_ctl"), "-D", Data(), "-l", dir_ + "/postgres.log", "-w", "-t", "60", "-o",
             fmt::format("-h 127.0.0.1 -p {} -k {} -F", port_, dir_), "start"}));
    // pg_ctl -w waited for the postmaster; still wait until it takes connections over TCP.
    const std::string conninfo = fmt::format("host=127.0.0.1 port={} dbname=postgres", port_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (PQping(conninfo.c_str()) != PQPING_OK) {
      if (std::chrono::steady_clock::now() > deadline) {
        return arrow::Status::IOError(fmt::format(
            "PostgreSQL on port {} does not accept connections after 30 s; its log:\n{}", port_,
            Tail(dir_ + "/postgres.log")));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return arrow::Status::OK();
  }

  static std::string Tail(const std::string& path) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  }

  /// Runs a tool, through `runuser -u postgres --` when running as root, its output in
  /// <dir>/tools.log; an error quotes the output. posix_spawn, not fork: the test process
  /// has threads and libraries with fork handlers.
  arrow::Status Run(std::vector<std::string> argv) const {
    if (owner_) argv.insert(argv.begin(), {Tool("runuser"), "-u", "postgres", "--"});
    const std::string log = dir_ + "/tools.log";
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    const std::string command = fmt::format("{}", fmt::join(argv, " "));
    if (rc != 0) {
      return arrow::Status::IOError(
          fmt::format("`{}` could not be run: {}", command, strerror(rc)));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return arrow::Status::OK();
    const std::string how = WIFEXITED(status)
                                ? fmt::format("exited with {}", WEXITSTATUS(status))
                                : fmt::format("was killed by signal {}", WTERMSIG(status));
    return arrow::Status::IOError(fmt::format("`{}` {}:\n{}", command, how, Tail(log)));
  }

  const std::string dir_;
  std::optional<Ids> owner_;
  int port_ = 0;
};

}  // namespace lakepipe::tablestore::testing
