"""Credentials never leak. Every command runs (verbose, so debug logs count too) with
distinctive fake credentials: S3 keys in the environment, a tap config with a password, a
PostgreSQL password for the reader and for team metadata, an Azure account key. Then the
secrets are looked for in stdout/stderr, the bucket (Parquet decoded, JSON as is), the
home folder, the flow's catalog (a DuckDB file, dumped through DuckDB) and embedded metadata
(a SQLite file, whose pages hold text as it is: read as bytes), the crontab lakepipe writes, the tap's argv while it runs and the temp folder: nowhere."""
from __future__ import annotations

import gzip
import json
import subprocess
import uuid
from pathlib import Path

import duckdb
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from backends import Backend
from flow_support import Flow
from ingest_support import to_yaml, write_tap

S3_KEY_ID = "AKIALPSECRETKEYID0042"
S3_SECRET = "lp-s3-secret-Zq8vT3nW"
TAP_PASSWORD = "lp-tap-password-Hk29xQ"
PG_PASSWORD = "lp-pg-password-Rt51mY"
SECRETS = [S3_SECRET, TAP_PASSWORD, PG_PASSWORD]
# The S3 key id is not secret by itself, but nothing lakepipe writes needs it either.
NEEDLES = SECRETS + [S3_KEY_ID]

# Records its argv and /proc/self/cmdline (what `ps` shows), then one record and a STATE.
ARGV_TAP = r'''
import json, sys
args = sys.argv[1:]
config = json.load(open(args[args.index("--config") + 1]))
assert config["password"], "the tap needs its password"
with open(config["argv_file"], "a") as f:
    f.write(json.dumps({"argv": sys.argv,
                        "cmdline": open("/proc/self/cmdline").read().split("\0")}) + "\n")
print(json.dumps({"type": "SCHEMA", "stream": "accounts", "key_properties": ["id"],
                  "schema": {"type": "object", "properties": {"id": {"type": "integer"},
                                                              "user": {"type": "string"}}}}))
print(json.dumps({"type": "RECORD", "stream": "accounts", "record": {"id": 1, "user": "ada"}}))
print(json.dumps({"type": "STATE", "value": {"bookmarks": {"accounts": {"id": 1}}}}))
'''


def text_of(name: str, data: bytes) -> str:
    """What a reader of this file can see: Parquet decoded (values, schema, metadata),
    gzip inflated, DuckDB files dumped by the caller; anything else as bytes."""
    if data[:4] == b"PAR1":
        import io
        table = pq.read_table(io.BytesIO(data))
        meta = pq.read_metadata(io.BytesIO(data))
        return f"{table.to_pylist()} {table.schema} {meta.metadata}"
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data).decode(errors="replace")
    return data.decode("latin-1")


def duckdb_dump(path: Path) -> str:
    """Every table's rows, every view's SQL and every secret a DuckDB file holds."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        parts = [str(con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()),
                 str(con.execute("SELECT * FROM duckdb_secrets()").fetchall())]
        for schema, table in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()").fetchall():
            parts.append(str(con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()))
        return "\n".join(parts)
    finally:
        con.close()


class Leaks:
    """Collects every place a secret showed up."""

    def __init__(self):
        self.found: list[str] = []
        self.looked = 0

    def look(self, where: str, text: str) -> None:
        self.looked += 1
        for needle in NEEDLES:
            if needle in text:
                self.found.append(f"{needle} in {where}")

    def folder(self, root: Path, skip: tuple[Path, ...] = ()) -> None:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if any(path == s or s in path.parents for s in skip):
                continue
            data = path.read_bytes()
            self.look(str(path), text_of(path.name, data))
            if data.startswith(b"DUCK", 8):
                self.look(f"{path} (DuckDB dump)", duckdb_dump(path))

    def bucket(self, fs, root: str) -> None:
        selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
        for info in fs.get_file_info(selector):
            if info.type == pafs.FileType.File:
                with fs.open_input_stream(info.path) as f:
                    self.look(f"bucket {info.path}", text_of(info.path, f.read()))


@pytest.fixture
def secret_env(moto, azurite):
    """S3 with the distinctive keys (moto accepts any), Azure with its account key."""
    return {**moto.env, "AWS_ACCESS_KEY_ID": S3_KEY_ID, "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "PGPASSWORD": PG_PASSWORD, **azurite.env}


def test_no_command_leaks_a_credential(moto, azurite, postgres, run_lakepipe, secret_env,
                                       tmp_path):
    leaks = Leaks()
    temp = tmp_path / "tmp"
    temp.mkdir()
    bucket = f"lp-{uuid.uuid4().hex[:12]}"
    moto.create_bucket(bucket)
    azurite.create_bucket(bucket)
    env = {**secret_env, "TMPDIR": str(temp)}
    home = tmp_path / "home"
    user_files = tmp_path / "user"   # what the user wrote: may hold their secrets
    user_files.mkdir()
    # In the home folder too, where a pipeline file wants its tap config by default.
    user_configs = home / "sources"

    def lakepipe(*args, check=True):
        proc = run_lakepipe("-v", "--home", home, *args, env=env, check=check)
        leaks.look(f"stdout of {args}", proc.stdout)
        leaks.look(f"stderr of {args}", proc.stderr)
        leaks.folder(temp)
        return proc

    # --- ingest: a Singer tap with a password, into S3 -------------------------------
    lakepipe("init")
    tap = write_tap(user_files, "tap-accounts.py", ARGV_TAP)
    argv_file = tmp_path / "tap-argv.jsonl"
    user_configs.mkdir(parents=True, exist_ok=True)
    (user_configs / "accounts.json").write_text(json.dumps(
        {"password": TAP_PASSWORD, "argv_file": str(argv_file)}))
    lakepipe("add", "accounts", "--tap", tap, "--config", "sources/accounts.json",
             "--bucket", f"s3://{bucket}", "--incremental")
    lakepipe("validate", "accounts")
    lakepipe("run", "accounts")
    lakepipe("run", "accounts")
    lakepipe("--output", "json", "run", "accounts")
    for call in map(json.loads, argv_file.read_text().splitlines()):
        leaks.look("the tap's argv", " ".join(call["argv"]))
        leaks.look("the tap's /proc cmdline", " ".join(call["cmdline"]))
    # A tap config inline in the pipeline file is passed through a temp file.
    pipelines = home / "pipelines"
    (pipelines / "inline.yaml").write_text(to_yaml({
        "source": {"tap": tap, "config": {"password": TAP_PASSWORD, "argv_file": str(argv_file)}},
        "destination": {"bucket": f"az://{bucket}"}}))
    lakepipe("run", "inline")

    # --- the PostgreSQL reader, its password from PGPASSWORD -------------------------
    postgres.psql("CREATE TABLE IF NOT EXISTS secret_items AS SELECT 1 AS id, 'x' AS name")
    (pipelines / "pg.yaml").write_text(to_yaml({
        "source": {"reader": "postgres", "uri": postgres.url, "stream": "items",
                   "options": {"table": "public.secret_items"}},
        "destination": {"bucket": f"s3://{bucket}"}}))
    lakepipe("run", "pg")
    # A password in the URI itself (the user's file) must not reach an error message.
    (pipelines / "pgbad.yaml").write_text(to_yaml({
        "source": {"reader": "postgres",
                   "uri": postgres.url.replace("lakepipe@", f"lakepipe:{PG_PASSWORD}@"),
                   "stream": "nothing", "options": {"table": "public.no_such_table"}},
        "destination": {"bucket": f"s3://{bucket}"}}))
    assert lakepipe("run", "pgbad", check=False).returncode == 1

    # --- reading commands ----------------------------------------------------------
    for args in (("status",), ("logs", "accounts"), ("--output", "json", "logs", "accounts"),
                 ("manifest", f"s3://{bucket}"), ("ls", "-r", f"s3://{bucket}"),
                 ("ls", f"az://{bucket}"),
                 ("query", f"SELECT count(*) FROM read_parquet('s3://{bucket}/raw/**/*.parquet')"),
                 ("demo", f"s3://{bucket}/demo", "--rows", "100"),
                 # Pipeline settings: a tap password inline, a PostgreSQL password in a URI.
                 ("config", "inline"), ("--output", "json", "config", "pgbad"),
                 ("--output", "json", "config"), ("--output", "json", "validate", "accounts"),
                 ("--output", "json", "validate", "pgbad")):
        lakepipe(*args)
    source = user_files / "blob.bin"
    source.write_bytes(b"some bytes")
    lakepipe("cp", source, f"s3://{bucket}/copied/blob.bin")
    lakepipe("cp", f"s3://{bucket}/copied/blob.bin", f"az://{bucket}/copied/blob.bin")
    lakepipe("cp", f"az://{bucket}/copied/blob.bin", tmp_path / "back.bin")
    # Failures: a missing bucket, a query error.
    assert lakepipe("ls", "s3://no-such-bucket-secrets/x", check=False).returncode == 1
    assert lakepipe("query", "SELECT * FROM read_parquet('s3://no-such-bucket-secrets/x.parquet')",
                    check=False).returncode == 1

    # --- the crontab lakepipe writes --------------------------------------------------
    (pipelines / "accounts.yaml").write_text(
        (pipelines / "accounts.yaml").read_text() + "schedule:\n  cron: '0 3 * * *'\n")
    lakepipe("schedule", "install")
    try:
        crontab = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
        assert "accounts" in crontab
        leaks.look("the crontab", crontab)
    finally:
        lakepipe("schedule", "remove")

    # --- a flow on S3 with team metadata in PostgreSQL (password from PGPASSWORD) --------
    database = f"secrets_{uuid.uuid4().hex[:8]}"
    postgres.psql(f"CREATE DATABASE {database}")
    backend = Backend("s3", f"s3://{bucket}", {}, moto.filesystem(), bucket)
    flow = Flow(tmp_path / "flow", backend, run_lakepipe)
    flow.put_data()
    flow.write(flow.standard_stages(report=False),
               metadata=postgres.url.rsplit("/", 1)[0] + "/" + database)
    for args in (("flow", "run", flow.file), ("flow", "run", flow.file),
                 ("--output", "json", "flow", "status", flow.file), ("flow", "sync", flow.file),
                 ("flow", "gc", flow.file, "--dry-run"), ("flow", "gc", flow.file),
                 ("sql", flow.file, "SELECT count(*) FROM model.totals")):
        lakepipe(*args)
    # The same flow with its metadata password in the file: not in any message either.
    flow.write(flow.standard_stages(report=False), metadata=postgres.url.replace(
        "lakepipe@", f"lakepipe:{PG_PASSWORD}@").rsplit("/", 1)[0] + "/no_such_database")
    assert lakepipe("flow", "run", flow.file, check=False).returncode == 1
    assert lakepipe("flow", "status", flow.file, check=False).returncode == 1

    # --- everything lakepipe wrote ------------------------------------------------------
    leaks.bucket(moto.filesystem(), bucket)
    leaks.bucket(azurite.filesystem(), bucket)
    leaks.folder(home, skip=(user_configs, pipelines))
    leaks.folder(flow.folder, skip=(flow.file,))
    leaks.folder(temp)
    dump = subprocess.run([postgres._bin("pg_dump"), postgres.url.rsplit("/", 1)[0] + "/" + database],
                          check=True, capture_output=True, text=True).stdout
    assert "lakepipe_meta" in dump
    leaks.look("the team metadata (pg_dump)", dump)
    assert leaks.found == []
    assert leaks.looked > 100


# --- the postgres reader's password in its URI (issue 14 §2) ---------------------------

def _leaks_of_failed_pg_run(lake, pipeline: str, url: str, password: str) -> list[str]:
    """Runs a postgres-reader pipeline that cannot connect; where the password showed up."""
    lake.pipeline(pipeline, {"reader": "postgres", "uri": url, "stream": "items",
                             "options": {"table": "public.items"}})
    proc = lake.lakepipe("-v", "run", pipeline, check=False, timeout=120)
    assert proc.returncode == 1, proc
    assert f"pipeline '{pipeline}': connecting to PostgreSQL for stream 'items'" in proc.stderr
    found = [where for where, text in (("stdout", proc.stdout), ("stderr", proc.stderr))
             if password in text]
    root = lake.local_root
    for path in root.rglob("*"):
        if path.is_file() and password in text_of(path.name, path.read_bytes()):
            found.append(str(path.relative_to(root)))
    assert found == [], f"the password is in {found}"
    logs = lake.logs(pipeline)
    assert logs and logs[-1]["status"] == "failure"
    assert "postgresql://lp_reader@127.0.0.1:" in logs[-1]["error"]  # named, without it
    return found


def test_postgres_reader_password_reaches_no_output_when_nothing_listens(local_lake):
    import socket
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    password = "lp-pg-unreachable-Vb38"
    url = f"postgresql://lp_reader:{password}@127.0.0.1:{port}/postgres?connect_timeout=5"
    assert _leaks_of_failed_pg_run(local_lake, "pgdown", url, password) == []


def test_postgres_reader_password_libpq_cannot_parse_reaches_no_output(local_lake):
    # libpq quotes what it cannot decode: `invalid percent-encoded token: "<password>"`.
    password = "lp-pg-%zz-undecodable-Hn40"
    url = f"postgresql://lp_reader:{password}@127.0.0.1:5/postgres"
    assert _leaks_of_failed_pg_run(local_lake, "pgparse", url, password) == []


def test_postgres_reader_password_reaches_no_output_when_it_is_wrong(local_lake, postgres):
    # The test server trusts everyone; this role alone must give a password.
    role = "lp_reader"
    hba = postgres.workdir / "data" / "pg_hba.conf"
    rule = f"host all {role} 127.0.0.1/32 scram-sha-256\n"
    if rule not in hba.read_text():
        hba.write_text(rule + hba.read_text())
    postgres.psql(f"DO $$ BEGIN CREATE ROLE {role} LOGIN PASSWORD 'right-password-Lm27'; "
                  "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    postgres.psql("SELECT pg_reload_conf()")
    password = "lp-pg-wrong-password-Tc64"
    url = f"postgresql://{role}:{password}@127.0.0.1:{postgres.port}/postgres"
    assert _leaks_of_failed_pg_run(local_lake, "pgwrong", url, password) == []


# --- credentials in bucket URIs are refused, never echoed (issue 14 §2) -----------------

KEY_IN_URI = "AKIAURIKEYID0099"
SECRET_IN_URI = "lp-uri/secret+Wq2Zx9"  # AWS secrets hold '/' and '+'


@pytest.mark.parametrize("scheme", ["s3", "gs", "az"])
def test_every_command_refuses_a_bucket_uri_with_credentials_without_echoing_them(
        run_lakepipe, tmp_path, scheme):
    bucket = f"{scheme}://{KEY_IN_URI}:{SECRET_IN_URI}@lake/raw"
    home = tmp_path / "home"
    (home / "pipelines").mkdir(parents=True)
    (home / "pipelines" / "creds.yaml").write_text(to_yaml({
        "source": {"reader": "demo", "options": {"rows": 10}},
        "destination": {"bucket": bucket}}))
    local = tmp_path / "file.bin"
    local.write_bytes(b"x")
    commands = {
        "run": ("run", "creds"),
        "validate": ("validate", "creds"),
        "ls": ("ls", bucket),
        "cp": ("cp", local, f"{bucket}/file.bin"),
        "manifest": ("manifest", bucket),
        "query": ("query", f"SELECT * FROM read_parquet('{bucket}/x.parquet')"),
    }
    for output in ("text", "json"):
        for name, args in commands.items():
            proc = run_lakepipe("--home", home, "--output", output, "-v", *args, check=False)
            where = f"{name} ({output})"
            assert proc.returncode == 1, f"{where}: {proc}"
            for needle in (KEY_IN_URI, SECRET_IN_URI, "uri/secret"):
                assert needle not in proc.stdout + proc.stderr, f"{where} echoed {needle}"
            assert f"'{scheme}://***@lake/raw" in proc.stderr, f"{where}: {proc.stderr}"
            assert "credentials are not accepted in URIs" in proc.stderr, where
    # Nothing lakepipe wrote holds them either (run refused before writing anything).
    for path in home.rglob("*"):
        if path.is_file() and path.parent.name != "pipelines":
            assert SECRET_IN_URI not in path.read_text(errors="replace"), path
