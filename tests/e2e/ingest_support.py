"""Helpers of the ingest end-to-end tests: small Singer taps written by the tests, a `Lake`
(home folder + bucket + the real binary) and independent readers of the bucket contract.

Everything read back here goes through pyarrow's own filesystems (and DuckDB / Polars in
the tests), never through lakepipe.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from services import DEPS

# Real Singer taps from PyPI, one venv each (scripts/install-deps).
TAP_JSONL = DEPS / "taps" / "tap-jsonl" / "bin" / "tap-jsonl"
TAP_POSTGRES = DEPS / "taps" / "meltanolabs-tap-postgres" / "bin" / "tap-postgres"
TAP_PIPELINEWISE_POSTGRES = DEPS / "taps" / "pipelinewise-tap-postgres" / "bin" / "tap-postgres"


def tap_postgres_config(postgres) -> dict:
    """meltanolabs-tap-postgres' config for the session's server (trust auth)."""
    return {"host": "127.0.0.1", "port": postgres.port, "user": "lakepipe",
            "password": "unused-with-trust-auth", "database": "postgres",
            "filter_schemas": ["public"]}

# A deterministic Singer tap driven by its config:
#   {"streams": {"<name>": {"data": "/abs/rows.jsonl", "schema_file": "/abs/s.json"?, "key": "id"}}}
# Emits SCHEMA, then the RECORDs whose key is above the stream's bookmark in --state, then
# STATE {"bookmarks": {"<name>": {"id": <max>}}}. Honours --discover (prints a catalog) and
# --catalog (only selected streams). Rows are read from the data file at every run, so a
# test grows the source by appending to it.
SAMPLE_TAP = r'''
import argparse, json, sys

DEFAULT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "name": {"type": ["null", "string"]},
    "amount": {"type": ["null", "number"]}}}

p = argparse.ArgumentParser()
p.add_argument("--config", required=True)
p.add_argument("--state")
p.add_argument("--catalog")
p.add_argument("--properties")
p.add_argument("--discover", action="store_true")
a = p.parse_args()
config = json.load(open(a.config))
streams = config["streams"]
state = json.load(open(a.state)) if a.state else None
catalog = json.load(open(a.catalog)) if a.catalog else None
with open(config.get("calls", "/dev/null"), "a") as calls:
    calls.write(json.dumps({"discover": a.discover, "state": state, "catalog": catalog}) + "\n")

def schema_of(name):
    # From a file: a config passes through lakepipe's JSON, which need not keep key order.
    if "schema_file" in streams[name]:
        return json.load(open(streams[name]["schema_file"]))
    return DEFAULT_SCHEMA

if a.discover:
    catalog = {"streams": [{
        "tap_stream_id": name, "stream": name, "schema": schema_of(name),
        "key_properties": [s.get("key", "id")],
        "metadata": [{"breadcrumb": [], "metadata": {"inclusion": "available",
                                                     "table-key-properties": [s.get("key", "id")]}}]}
        for name, s in streams.items()]}
    print(json.dumps(catalog))
    sys.exit(0)

selected = list(streams)
if catalog is not None:
    selected = []
    for entry in catalog["streams"]:
        root = [m for m in entry.get("metadata", []) if m.get("breadcrumb") == []]
        if (root and root[0]["metadata"].get("selected")) or entry.get("schema", {}).get("selected"):
            selected.append(entry["tap_stream_id"])

bookmarks = dict((state or {}).get("bookmarks", {}))
out = sys.stdout
for name in selected:
    s = streams[name]
    key = s.get("key", "id")
    out.write(json.dumps({"type": "SCHEMA", "stream": name, "schema": schema_of(name),
                          "key_properties": [key]}) + "\n")
    last = bookmarks.get(name, {}).get(key)
    top = last
    with open(s["data"]) as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            if last is not None and row[key] <= last:
                continue
            out.write(json.dumps({"type": "RECORD", "stream": name, "record": row}) + "\n")
            top = row[key] if top is None else max(top, row[key])
    if top is not None:
        bookmarks[name] = {key: top}
    out.write(json.dumps({"type": "STATE", "value": {"bookmarks": bookmarks}}) + "\n")
out.flush()
'''

# Replays a file of Singer lines verbatim. Config: {"output": "/abs/file"} and optionally
# "pid_file" (writes its pid, and with "child": true starts `sleep 300` and adds its pid),
# "stderr_lines": N (floods stderr first), "sleep_before": s, then the output, then
# "stderr_text": "..", "sleep": s, "self_kill": signal number, "exit_code": N.
REPLAY_TAP = r'''
import argparse, json, os, sys, time
p = argparse.ArgumentParser()
p.add_argument("--config", required=True)
p.add_argument("--state")
p.add_argument("--catalog")
p.add_argument("--discover", action="store_true")
a = p.parse_args()
c = json.load(open(a.config))
if c.get("pid_file"):
    import subprocess
    child = subprocess.Popen(["sleep", "300"]) if c.get("child") else None
    with open(c["pid_file"], "w") as f:
        f.write(" ".join(str(pid) for pid in [os.getpid()] + ([child.pid] if child else [])))
n = c.get("stderr_lines", 0)
if n:
    # Before any output: a runner that does not drain stderr deadlocks here.
    sys.stderr.write("".join(f"tap log line {i} of {n}: lorem ipsum dolor sit amet\n"
                             for i in range(n)))
    sys.stderr.flush()
time.sleep(c.get("sleep_before", 0))
with open(c["output"], "rb") as f:
    sys.stdout.buffer.write(f.read())
sys.stdout.flush()
if c.get("stderr_text"):
    sys.stderr.write(c["stderr_text"])
sys.stderr.flush()
time.sleep(c.get("sleep", 0))
if c.get("self_kill"):
    os.kill(os.getpid(), c["self_kill"])
sys.exit(c.get("exit_code", 0))
'''


def write_tap(folder: Path, name: str, code: str) -> str:
    """Writes a tap script; returns the `source.tap` command that runs it."""
    path = folder / name
    path.write_text(textwrap.dedent(code))
    return f"{sys.executable} {path}"


def write_jsonl(path: Path, rows, append: bool = False) -> Path:
    with open(path, "a" if append else "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


def singer_lines(*messages) -> str:
    return "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)


def schema_msg(stream, properties, **extra):
    return {"type": "SCHEMA", "stream": stream,
            "schema": {"type": "object", "properties": properties}, "key_properties": [], **extra}


def record_msg(stream, record):
    return {"type": "RECORD", "stream": stream, "record": record}


def to_yaml(doc) -> str:
    # JSON is YAML: no YAML writer needed, and every value keeps its exact type.
    return json.dumps(doc, indent=2) + "\n"


# The committed run of `Committed`: three rows of stream things and a STATE.
COMMITTED_OUTPUT = singer_lines(
    schema_msg("things", {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}),
    *[record_msg("things", {"id": i, "name": f"n{i}"}) for i in (1, 2, 3)],
    {"type": "STATE", "value": {"bookmarks": {"things": {"id": 3}}}},
)


class Lake:
    """A lakepipe home folder and one bucket on one backend, driven by the real binary."""

    def __init__(self, backend, run_lakepipe, home: Path):
        self.backend = backend
        self._run = run_lakepipe
        self.home = home
        (home / "pipelines").mkdir(parents=True, exist_ok=True)

    @property
    def bucket(self) -> str:
        return self.backend.root

    @property
    def local_root(self) -> Path:
        """The bucket's folder (file backend only), for DuckDB and Polars globs."""
        assert self.backend.name == "file"
        return Path(self.backend.root)

    # --- driving lakepipe ------------------------------------------------------------

    def pipeline(self, name: str, source: dict, **top) -> Path:
        doc = {"source": source}
        if "destination" not in top and "destinations" not in top:
            doc["destination"] = {"bucket": self.bucket}
        doc.update(top)
        path = self.home / "pipelines" / f"{name}.yaml"
        path.write_text(to_yaml(doc))
        return path

    def lakepipe(self, *args, check: bool = True, env: dict | None = None, timeout: float = 120):
        return self._run("--home", self.home, *args, env={**self.backend.env, **(env or {})},
                         check=check, timeout=timeout)

    def run(self, name: str, *flags, check: bool = True, env: dict | None = None,
            timeout: float = 120):
        return self.lakepipe("run", name, *flags, check=check, env=env, timeout=timeout)

    def argv(self, lakepipe_bin, *args) -> list[str]:
        return [str(lakepipe_bin), "--home", str(self.home), *map(str, args)]

    # --- reading the bucket independently --------------------------------------------

    def read_json(self, relative: str):
        return json.loads(self.backend.read_bytes(relative))

    def exists(self, relative: str) -> bool:
        return self.backend.exists(relative)

    def manifest(self) -> dict:
        return self.read_json(".dataspoc/manifest.json")

    def entry(self, key: str) -> dict:
        return self.manifest()["tables"][key]

    def state(self, pipeline: str):
        return self.read_json(f".dataspoc/state/{pipeline}/state.json")

    def files(self, prefix: str = "") -> dict[str, int]:
        """Every file under `prefix` (relative to the bucket) with its size."""
        selector = pafs.FileSelector(self.backend.fs_path(prefix).rstrip("/"), recursive=True,
                                     allow_not_found=True)
        base = self.backend.fs_root.rstrip("/") + "/"
        out = {}
        for info in self.backend.fs.get_file_info(selector):
            if info.type == pafs.FileType.File:
                out[info.path[len(base):]] = info.size
        return out

    def data_files(self, location: str = "") -> list[str]:
        """Visible Parquet files (hidden temp files of an atomic write excluded)."""
        return sorted(p for p in self.files(location) if p.endswith(".parquet")
                      and not any(part.startswith((".", "_")) for part in p.split("/")))

    def logs(self, pipeline: str) -> list[dict]:
        names = sorted(p for p in self.files(f".dataspoc/logs/{pipeline}") if p.endswith(".json"))
        return [self.read_json(p) for p in names]

    def journal(self, pipeline: str) -> list[str]:
        return sorted(self.files(f".dataspoc/journal/{pipeline}"))

    def read_parquet(self, relative: str) -> pa.Table:
        with self.backend.fs.open_input_file(self.backend.fs_path(relative)) as f:
            return pq.read_table(f)

    def read_table(self, key: str, entry: dict | None = None) -> pa.Table:
        """The table as the manifest lists it (every file in `files`), with pyarrow."""
        entry = entry or self.entry(key)
        tables = [self.read_parquet(f["path"]) for f in entry["files"]]
        if not tables:
            return pa.table({})
        return pa.concat_tables(tables, promote_options="permissive")

    def read_location(self, location: str) -> pa.Table:
        """Every visible Parquet file under a table's folder, whatever the manifest says."""
        tables = [self.read_parquet(p) for p in self.data_files(location)]
        return pa.concat_tables(tables, promote_options="permissive") if tables else None

    def snapshot(self) -> dict[str, bytes]:
        """Contents of every file of the bucket except logs (for 'nothing committed')."""
        return {p: self.backend.read_bytes(p) for p in self.files()
                if not p.startswith(".dataspoc/logs/")}


def rows_of(table: pa.Table, *columns, sort_by: str | None = "id") -> list[tuple]:
    """The table's rows as tuples of `columns` (all by default), ordered by the column
    `sort_by`, or by the whole row when it is None."""
    columns = columns or tuple(table.column_names)
    data = table.select(list(columns)).to_pylist()
    if sort_by is not None:
        data.sort(key=lambda r: r[sort_by])
    rows = [tuple(r[c] for c in columns) for r in data]
    return rows if sort_by is not None else sorted(rows)


def run_all(argvs: list[list[str]], env: dict, timeout: float = 120) -> list[subprocess.CompletedProcess]:
    """Starts every command at once and waits for all of them."""
    procs = [subprocess.Popen(a, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True) for a in argvs]
    out = []
    for a, p in zip(argvs, procs):
        stdout, stderr = p.communicate(timeout=timeout)
        out.append(subprocess.CompletedProcess(a, p.returncode, stdout, stderr))
    return out


def sample_rows(first: int, last: int) -> list[dict]:
    """Rows id first..last (inclusive) of the sample tap's default schema."""
    return [{"id": i, "name": f"name-{i}", "amount": i * 1.25} for i in range(first, last + 1)]


class SampleTap:
    """SAMPLE_TAP in a folder, with one data file per stream that tests grow or rewrite."""

    def __init__(self, folder: Path, streams=("things",), schemas: dict | None = None,
                 script: str = "tap-sample.py"):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.command = write_tap(folder, script, SAMPLE_TAP)
        self.calls_path = folder / "calls.jsonl"
        self.config = {"streams": {}, "calls": str(self.calls_path)}
        for stream in streams:
            data = folder / f"{stream}.jsonl"
            data.write_text("")
            self.config["streams"][stream] = {"data": str(data)}
            if schemas and stream in schemas:
                schema_file = folder / f"{stream}.schema.json"
                schema_file.write_text(json.dumps(schemas[stream]))
                self.config["streams"][stream]["schema_file"] = str(schema_file)

    def data(self, stream: str = "things") -> Path:
        return Path(self.config["streams"][stream]["data"])

    def add_rows(self, rows, stream: str = "things") -> None:
        write_jsonl(self.data(stream), rows, append=True)

    def set_rows(self, rows, stream: str = "things") -> None:
        write_jsonl(self.data(stream), rows)

    def source(self, **extra) -> dict:
        return {"tap": self.command, "config": self.config, **extra}

    def calls(self) -> list[dict]:
        if not self.calls_path.exists():
            return []
        return [json.loads(line) for line in self.calls_path.read_text().splitlines()]


class ReplayTap:
    """REPLAY_TAP: prints given Singer lines verbatim, then stderr / sleep / exit code."""

    def __init__(self, folder: Path, script: str = "tap-replay.py"):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.command = write_tap(folder, script, REPLAY_TAP)
        self.output = folder / "replay-output.txt"
        self.output.write_text("")

    def set_output(self, text: str) -> None:
        self.output.write_text(text)

    def source(self, **config) -> dict:
        return {"tap": self.command, "config": {"output": str(self.output), **config}}


class Committed:
    """A pipeline 'orders' (replay tap, incremental) with one successful run committed."""

    def __init__(self, lake, tmp_path):
        self.lake = lake
        self.tap = ReplayTap(tmp_path / "tap")
        self.tap.set_output(COMMITTED_OUTPUT)
        self.write()
        lake.run("orders")
        self.before = lake.snapshot()
        self.logs_before = len(lake.logs("orders"))
        assert lake.entry("replay/things")["stats"]["total_rows"] == 3

    def write(self, **top) -> None:
        config = top.pop("tap_config", {})
        self.lake.pipeline("orders", self.tap.source(**config),
                           incremental={"enabled": True}, **top)

    def fail(self, output: str | None = None, **top) -> str:
        """Runs with `output`; asserts exit 1 and one error line; returns the message."""
        if output is not None:
            self.tap.set_output(output)
        if top:
            self.write(**top)
        proc = self.lake.run("orders", check=False)
        assert proc.returncode == 1, proc
        assert proc.stderr.startswith("lakepipe: error: "), proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stdout == ""
        return proc.stderr[len("lakepipe: error: "):].rstrip("\n")

    def assert_nothing_committed(self, message: str) -> None:
        lake = self.lake
        # Manifest, table entries, state and data files byte for byte as before; no
        # journal and no stray (hidden or partial) file left.
        assert lake.snapshot() == self.before
        assert lake.journal("orders") == []
        logs = lake.logs("orders")
        assert len(logs) == self.logs_before + 1
        failure = [log for log in logs if log["status"] == "failure"]
        assert len(failure) == 1
        assert failure[0]["error"] == message
