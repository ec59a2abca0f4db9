"""Helpers of the flow end-to-end tests: a flow folder (flow file, input CSVs, exec scripts,
catalog) on a storage backend, the expected tables computed independently in Python, a
counting HTTP proxy in front of the S3 emulator, and independent readers of what a flow
wrote (Python DuckDB over the catalog file, pyarrow over the Parquet files).
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import http.client
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from services import DEPS

PYTHON = sys.executable
HTTPFS = DEPS / "duckdb" / "extensions" / "httpfs.duckdb_extension"
PREFIX = "shop"  # the table store's base inside the backend's bucket / folder

# --- the data ------------------------------------------------------------------------

CUSTOMERS = [(1, "ada", "north"), (2, "bob", "south"), (3, "cy", "north"), (4, "dee", "east"),
             (5, "eve", "south")]  # eve has no orders: the join drops her


def make_orders(first: int, last: int) -> list[tuple]:
    pattern = [1, 2, 1, 3, 1, 2, 4]
    # Multiples of 0.25: every sum is exact in binary floating point.
    return [(i, pattern[i % len(pattern)], (i * 37 % 100) / 4) for i in range(first, last + 1)]


ORDERS = make_orders(1, 40)
MORE_ORDERS = make_orders(1, 47)   # the "changed input" of several tests
BIG_MIN_ORDERS = 8

TOTALS_SQL = """SELECT c.id AS customer_id, c.name, c.region, count(o.id) AS orders,
       sum(o.amount) AS total
FROM raw.orders AS o JOIN raw.customers AS c ON c.id = o.customer_id
GROUP BY c.id, c.name, c.region"""

COLUMNS = {
    ("raw", "customers"): ["id", "name", "region"],
    ("raw", "orders"): ["id", "customer_id", "amount"],
    ("model", "totals"): ["customer_id", "name", "region", "orders", "total"],
    ("model", "names"): ["id", "name"],
    ("report", "roster"): ["id", "name"],
    ("report", "scored"): ["customer_id", "name", "total", "doubled", "rank"],
    ("report", "big"): ["customer_id", "orders"],
}


def csv_text(header: list[str], rows) -> str:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def expected_tables(customers=CUSTOMERS, orders=ORDERS,
                    report: bool = True) -> dict[tuple, list[tuple]]:
    """Every table of the standard flow, computed in plain Python, rows sorted."""
    by_id = {c[0]: c for c in customers}
    totals: dict[int, list] = {}
    for _, customer, amount in orders:
        entry = totals.setdefault(customer, [0, 0.0])
        entry[0] += 1
        entry[1] += amount
    model_totals = [(cid, by_id[cid][1], by_id[cid][2], n, total)
                    for cid, (n, total) in totals.items()]
    ranked = sorted(model_totals, key=lambda r: (-r[4], r[0]))
    scored = [(r[0], r[1], r[4], r[4] * 2, rank) for rank, r in enumerate(ranked, start=1)]
    big = [(r[0], r[3]) for r in model_totals if r[3] >= BIG_MIN_ORDERS]
    names = [(c[0], c[1]) for c in customers]
    tables = {
        ("raw", "customers"): sorted(customers),
        ("raw", "orders"): sorted(orders),
        ("model", "totals"): sorted(model_totals),
        ("model", "names"): sorted(names),
        ("report", "roster"): sorted(names),
        ("report", "scored"): sorted(scored),
        ("report", "big"): sorted(big),
    }
    return tables if report else {k: v for k, v in tables.items() if k[0] != "report"}


# --- the exec tasks' program -----------------------------------------------------------

# One script, several tasks (argv[1] picks). It runs in the flow file's folder, so the
# marker files it reads and writes are relative to that folder.
#   scored  reads LAKEPIPE_INPUTS (records it in inputs-scored.json); when a file `hold`
#           exists it writes `waiting` (its pid) and blocks until `release` exists.
#   big     reads model.totals as an Arrow IPC stream on stdin.
#   fail    writes two stderr lines and exits 1.   garbage: writes text, not IPC.
#   nulls   emits a table whose `v` column has a NULL in row 3.
#   types   emits decimal, timestamp with time zone, list, struct, date and binary columns.
TASKS_SCRIPT = r'''
import json, os, sys, time
from urllib.parse import urlparse
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pyarrow.fs as pafs


def read_all(uris):
    if not any(u.startswith("s3://") for u in uris):
        return pa.concat_tables([pq.read_table(u) for u in uris])
    endpoint = urlparse(os.environ["AWS_ENDPOINT_URL"])
    fs = pafs.S3FileSystem(endpoint_override=endpoint.netloc, scheme=endpoint.scheme,
                           region=os.environ.get("AWS_REGION", "us-east-1"))
    table = pa.concat_tables([pq.read_table(u[len("s3://"):], filesystem=fs) for u in uris])
    # No S3 filesystem may outlive the AWS SDK: pyarrow's S3 teardown at interpreter exit
    # can abort while one is still referenced (apache/arrow#41087), so drop it and shut
    # the SDK down here, once the inputs are in memory.
    del fs
    pafs.finalize_s3()
    return table


def emit(table):
    with ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
        writer.write_table(table)


def hold():
    if not os.path.exists("hold"):
        return
    with open("waiting.tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename("waiting.tmp", "waiting")
    while not os.path.exists("release"):
        time.sleep(0.02)


mode = sys.argv[1]
if mode == "scored":
    inputs = json.loads(os.environ["LAKEPIPE_INPUTS"])
    with open("inputs-scored.json", "w") as f:
        json.dump(inputs, f)
    hold()
    rows = read_all(inputs["model.totals"]).to_pylist()
    rows.sort(key=lambda r: (-r["total"], r["customer_id"]))
    emit(pa.table({
        "customer_id": pa.array([r["customer_id"] for r in rows], pa.int64()),
        "name": pa.array([r["name"] for r in rows], pa.string()),
        "total": pa.array([r["total"] for r in rows], pa.float64()),
        "doubled": pa.array([r["total"] * 2 for r in rows], pa.float64()),
        "rank": pa.array(list(range(1, len(rows) + 1)), pa.int64()),
    }))
elif mode == "big":
    table = ipc.open_stream(sys.stdin.buffer).read_all()
    rows = [r for r in table.to_pylist() if r["orders"] >= int(sys.argv[2])]
    emit(pa.table({"customer_id": pa.array([r["customer_id"] for r in rows], pa.int64()),
                   "orders": pa.array([r["orders"] for r in rows], pa.int64())}))
elif mode == "fail":
    sys.stderr.write("starting up\nboom: the model exploded\n")
    sys.exit(1)
elif mode == "garbage":
    sys.stdout.write("this is not arrow\n" * 10)
elif mode == "nulls":
    emit(pa.table({"k": pa.array([1, 2, 3, 4], pa.int64()),
                   "v": pa.array([10, 20, None, 40], pa.int64())}))
elif mode == "types":
    import datetime, decimal
    utc = datetime.timezone.utc
    emit(pa.table({
        "d": pa.array([decimal.Decimal("12.345"), None], pa.decimal128(12, 3)),
        "ts": pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc), None],
                       pa.timestamp("us", tz="UTC")),
        "l": pa.array([[1, 2, 3], []], pa.list_(pa.int64())),
        "s": pa.array([{"a": 1, "b": "x"}, {"a": None, "b": "y"}],
                      pa.struct([("a", pa.int64()), ("b", pa.string())])),
        "dt": pa.array([datetime.date(2024, 5, 6), None], pa.date32()),
        "b": pa.array([b"\x00\xff", None], pa.binary()),
    }))
else:
    sys.exit(f"unknown mode {mode}")
'''


# --- a flow folder on a backend --------------------------------------------------------

def data_file(relative_dir: str, index: int = 0) -> re.Pattern:
    """A data file a stage transaction writes into `relative_dir`:
    part-<8 hex digits naming the transaction>-<NNNN>.parquet."""
    return re.compile(re.escape(relative_dir) + rf"/part-[0-9a-f]{{8}}-{index:04d}\.parquet")


def data_files_match(paths, relative_dirs) -> bool:
    """Whether `paths` are, in order, one first data file in each of `relative_dirs`."""
    paths = list(paths)
    return len(paths) == len(relative_dirs) and all(
        data_file(d).fullmatch(p) for p, d in zip(paths, relative_dirs))


class Flow:
    """A flow folder (flow file, CSVs, scripts, catalog) whose table store lives on
    `backend` under PREFIX; drives the real binary and reads results back independently."""

    def __init__(self, folder: Path, backend, run_lakepipe, name: str = "shop",
                 instance: str = "dev", storage: dict | None = None):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self._run = run_lakepipe
        self.name = name
        self.instance = instance
        # The flow's own folder under the base: <instance>/<flow>.
        self.dir = f"{instance}/{name}"
        # Where its S3 inputs go in the bucket ("landing" for the flow named shop).
        self.landing = "landing" if name == "shop" else f"landing-{name}"
        self.file = folder / "flow.yaml"
        self.catalog = folder / "shop.duckdb"
        if backend.name == "file":
            # Relative to the flow file, as a user writes it.
            self.base = os.path.relpath(backend.fs_path(PREFIX), folder)
        else:
            self.base = backend.uri(PREFIX)
        self.storage = storage
        (folder / "tasks.py").write_text(TASKS_SCRIPT)

    # --- inputs ------------------------------------------------------------------------

    def put_input(self, name: str, text: str) -> str:
        """Writes an input file; returns the URI a read task names it by (local inputs
        in the flow's folder, by absolute path; S3 inputs under landing/ in the bucket)."""
        if self.backend.name == "file":
            (self.folder / name).write_text(text)
            return str(self.folder / name)
        with self.backend.fs.open_output_stream(self.backend.fs_path(f"{self.landing}/{name}")) as f:
            f.write(text.encode())
        return self.backend.uri(f"{self.landing}/{name}")

    def put_orders(self, orders) -> str:
        """Rewrites orders.csv only (customers.csv keeps its time stamp)."""
        return self.put_input("orders.csv", csv_text(COLUMNS[("raw", "orders")], orders))

    def put_data(self, customers=CUSTOMERS, orders=ORDERS) -> tuple[str, str]:
        return (self.put_input("customers.csv", csv_text(COLUMNS[("raw", "customers")], customers)),
                self.put_input("orders.csv", csv_text(COLUMNS[("raw", "orders")], orders)))

    # --- the flow file -----------------------------------------------------------------

    def doc(self, stages: list[dict], **extra) -> dict:
        doc = {"name": self.name, "instance": self.instance,
               "table_store": {"base": self.base, "catalog": "./shop.duckdb"},
               "metadata": "embedded", "stages": stages}
        if self.storage:
            doc["storage"] = self.storage
        doc.update(extra)
        return doc

    def write(self, stages: list[dict] | None = None, **extra) -> Path:
        # JSON is YAML: every value keeps its exact type.
        self.file.write_text(json.dumps(self.doc(stages or self.standard_stages(), **extra),
                                        indent=2) + "\n")
        return self.file

    def other_instance(self, instance: str) -> "Flow":
        """This flow as `--instance <instance>` sees it (its catalog is shop_<instance>)."""
        other = copy.copy(self)
        other.instance = instance
        other.dir = f"{instance}/{self.name}"
        other.catalog = self.folder / f"shop_{instance}.duckdb"
        return other

    def write_text(self, text: str) -> Path:
        self.file.write_text(text)
        return self.file

    def standard_stages(self, customers_uri: str | None = None, orders_uri: str | None = None,
                        names_version: int = 1, report: bool = True) -> list[dict]:
        """raw (two CSV readers) -> model (join + aggregate SQL; a second SQL task) ->
        report (an exec task over LAKEPIPE_INPUTS, an exec task fed on stdin, a SQL task).
        Without `report`, the first two stages only (no exec program to start: faster)."""
        customers_uri = customers_uri or self.input_uri("customers.csv")
        orders_uri = orders_uri or self.input_uri("orders.csv")
        stages = [
            {"name": "raw", "tasks": [
                {"name": "customers", "read": {"uri": customers_uri}},
                {"name": "orders", "read": {"uri": orders_uri}},
            ]},
            {"name": "model", "tasks": [
                {"name": "totals", "sql": TOTALS_SQL, "not_null": ["customer_id", "name"],
                 "sort_by": ["name"]},
                {"name": "names", "version": names_version,
                 "sql": "SELECT id, name FROM raw.customers"},
            ]},
            {"name": "report", "tasks": [
                {"name": "roster", "sql": "SELECT * FROM model.names"},
                # Also waits for roster, so a crash while it blocks leaves files in the slot.
                {"name": "scored", "exec": [PYTHON, "tasks.py", "scored"],
                 "inputs": ["model.totals", "report.roster"]},
                {"name": "big", "exec": [PYTHON, "tasks.py", "big", str(BIG_MIN_ORDERS)],
                 "stdin": "model.totals"},
            ]},
        ]
        return stages if report else stages[:2]

    def input_uri(self, name: str) -> str:
        if self.backend.name == "file":
            return str(self.folder / name)
        return self.backend.uri(f"{self.landing}/{name}")

    # --- running lakepipe --------------------------------------------------------------

    @property
    def env(self) -> dict:
        return dict(self.backend.env)

    def argv(self, lakepipe_bin, *args, output_json: bool = True) -> list[str]:
        head = ["--output", "json"] if output_json else []
        return [str(lakepipe_bin), *head, *map(str, args)]

    def lakepipe(self, *args, output_json: bool = True, check: bool = True,
                 env: dict | None = None, timeout: float = 120):
        head = ("--output", "json") if output_json else ()
        return self._run(*head, *args, env={**self.env, **(env or {})}, check=check,
                         timeout=timeout)

    def run(self, *flags, env: dict | None = None) -> dict:
        """`flow run` that must succeed; returns its JSON summary."""
        proc = self.lakepipe("flow", "run", self.file, *flags, env=env)
        return json.loads(proc.stdout)

    def run_fails(self, *flags, env: dict | None = None):
        proc = self.lakepipe("flow", "run", self.file, *flags, env=env, check=False)
        assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
        assert proc.stdout == "", proc.stdout
        return proc

    # --- reading back, independently ---------------------------------------------------

    def duck(self):
        """A read-only Python DuckDB connection to the catalog (with an S3 secret made here,
        in this session, for the emulator)."""
        import duckdb
        con = duckdb.connect(str(self.catalog), read_only=True)
        for statement in duck_setup_sql(self.backend):
            con.execute(statement)
        return con

    def query(self, sql: str) -> list[tuple]:
        con = self.duck()
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def catalog_tables(self) -> dict[tuple, list[tuple]]:
        """Every table of every stage through the catalog (stage schemas), rows sorted."""
        con = self.duck()
        try:
            out = {}
            for stage, table in con.execute(
                    "SELECT stage, \"table\" FROM lakepipe.tables t JOIN lakepipe.stages s "
                    "USING (instance, stage) WHERE t.slot = s.committed_slot").fetchall():
                out[(stage, table)] = sorted(con.execute(
                    f'SELECT * FROM "{stage}"."{table}"').fetchall())
            return out
        finally:
            con.close()

    def committed(self) -> dict[tuple, dict]:
        """lakepipe.tables rows of the committed slots: (stage, table) -> row dict."""
        con = self.duck()
        try:
            cursor = con.execute(
                "SELECT t.* FROM lakepipe.tables t JOIN lakepipe.stages s "
                "USING (instance, stage) WHERE t.slot = s.committed_slot")
            names = [d[0] for d in cursor.description]
            out = {}
            for row in cursor.fetchall():
                entry = dict(zip(names, row))
                for key in ("files_json", "schema_json", "partition_by"):
                    if isinstance(entry.get(key), str):
                        entry[key] = json.loads(entry[key])
                out[(entry["stage"], entry["table"])] = entry
            return out
        finally:
            con.close()

    def slots(self) -> dict[str, str]:
        return dict(self.query("SELECT stage, committed_slot FROM lakepipe.stages"))

    def store_path(self, relative: str) -> str:
        """A files_json path (relative to the base) as a path in the backend."""
        return f"{PREFIX}/{relative}"

    def read_file(self, relative: str) -> pa.Table:
        with self.backend.fs.open_input_file(self.backend.fs_path(self.store_path(relative))) as f:
            return pq.read_table(f)

    def read_schema(self, relative: str) -> pa.Schema:
        with self.backend.fs.open_input_file(self.backend.fs_path(self.store_path(relative))) as f:
            return pq.read_schema(f)

    def files(self) -> dict[str, int]:
        """Every file under the store's base (paths relative to the base) with its size."""
        root = self.backend.fs_path(PREFIX)
        selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
        return {info.path[len(root) + 1:]: info.size
                for info in self.backend.fs.get_file_info(selector)
                if info.type == pafs.FileType.File}

    def digests(self) -> dict[str, str]:
        """sha256 of every file under the base."""
        out = {}
        for relative in self.files():
            with self.backend.fs.open_input_stream(self.backend.fs_path(self.store_path(relative))) as f:
                out[relative] = hashlib.sha256(f.read()).hexdigest()
        return out

    def write_store_file(self, relative: str, data: bytes) -> None:
        if self.backend.name == "file":
            Path(self.backend.fs_path(self.store_path(relative))).parent.mkdir(
                parents=True, exist_ok=True)
        with self.backend.fs.open_output_stream(self.backend.fs_path(self.store_path(relative))) as f:
            f.write(data)

    def metadata_files(self) -> list[Path]:
        """The embedded metadata store (<catalog stem>.meta.*, WAL files included)."""
        return sorted(self.folder.glob("shop.meta.*"))

    def state(self) -> dict:
        """What a reader can observe: every table's rows through the catalog, the committed
        slots, and the bytes of every committed file."""
        committed = self.committed()
        digests = self.digests()
        files = {f["path"]: digests.get(f["path"])
                 for entry in committed.values() for f in entry["files_json"]}
        return {"tables": self.catalog_tables(), "slots": self.slots(), "files": files}


def duck_setup_sql(backend) -> list[str]:
    if backend.name != "s3":
        return []
    endpoint = urlparse(backend.env["AWS_ENDPOINT_URL"])
    return [f"LOAD '{HTTPFS}'",
            "CREATE SECRET (TYPE s3, KEY_ID '{}', SECRET '{}', ENDPOINT '{}', URL_STYLE 'path', "
            "USE_SSL false, REGION 'us-east-1')".format(
                backend.env["AWS_ACCESS_KEY_ID"], backend.env["AWS_SECRET_ACCESS_KEY"],
                endpoint.netloc)]


def by_task(summary: dict) -> dict[str, dict]:
    """`flow run --output json` tasks keyed "stage.task"."""
    return {f"{t['stage']}.{t['task']}": t for s in summary["stages"] for t in s["tasks"]}


def cache_hits(summary: dict) -> dict[str, bool]:
    return {key: t["cache_hit"] for key, t in by_task(summary).items()}


def metadata_only(summary: dict) -> dict[str, bool]:
    return {s["stage"]: s["metadata_only"] for s in summary["stages"]}


@contextlib.contextmanager
def background(argv: list[str], env: dict, *, cwd: Path | None = None, stderr=subprocess.PIPE):
    """A process started now (text pipes; `stderr` may be an open file); killed if still
    running when the block ends, so a failed test never leaves it behind."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr,
                            text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def wait_for(predicate, what: str, timeout: float = 60, proc: subprocess.Popen | None = None):
    """Polls `predicate` until it is true (synchronization, never an assertion on time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process exited {proc.returncode} while waiting for {what}\n"
                                 f"stdout: {out}\nstderr: {err}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# --- a reader process that keeps the catalog open --------------------------------------

# argv: catalog, results (JSON lines), control folder, setup SQL (JSON list),
# queries (JSON {name: sql}), "ro" | "rw". Opens the catalog (read-only, or read-write as
# the duckdb CLI and DBeaver do by default) and queries in a loop, one JSON
# line per round {"round", "generation", "results"}; reopens the connection when
# `reopen-<generation+1>` appears in the control folder; stops when `stop` appears.
READER_SCRIPT = r'''
import json, os, sys, time
import duckdb

catalog, results, control, setup, queries, mode = sys.argv[1:7]
setup, queries = json.loads(setup), json.loads(queries)

def connect():
    con = duckdb.connect(catalog, read_only=(mode == "ro"))
    for statement in setup:
        con.execute(statement)
    return con

generation, con, n = 0, connect(), 0
with open(results, "a") as out:
    while not os.path.exists(os.path.join(control, "stop")):
        if os.path.exists(os.path.join(control, f"reopen-{generation + 1}")):
            con.close()
            generation += 1
            con = connect()
        row = {name: con.execute(sql).fetchall() for name, sql in queries.items()}
        out.write(json.dumps({"round": n, "generation": generation, "results": row}) + "\n")
        out.flush()
        n += 1
        time.sleep(0.01)
con.close()
'''


class CatalogReader:
    """READER_SCRIPT in its own process, with the rounds it has written so far."""

    def __init__(self, folder: Path, flow: Flow, queries: dict[str, str],
                 read_only: bool = True):
        folder.mkdir(parents=True, exist_ok=True)
        self.control = folder
        self.results = folder / "results.jsonl"
        script = folder / "reader.py"
        script.write_text(READER_SCRIPT)
        self.proc = subprocess.Popen(
            [PYTHON, str(script), str(flow.catalog), str(self.results), str(folder),
             json.dumps(duck_setup_sql(flow.backend)), json.dumps(queries),
             "ro" if read_only else "rw"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.generation = 0

    def rounds(self) -> list[dict]:
        if not self.results.exists():
            return []
        lines = self.results.read_text().splitlines()
        complete = [line for line in lines if line.endswith("}")]
        return [json.loads(line) for line in complete]

    def wait_rounds(self, generation: int, count: int, after: int = -1) -> list[dict]:
        """Waits until `count` rounds of `generation` numbered above `after` exist."""
        def enough():
            got = [r for r in self.rounds() if r["generation"] == generation and r["round"] > after]
            return got if len(got) >= count else None
        return wait_for(enough, f"{count} reader rounds of generation {generation}",
                        proc=self.proc)

    def reopen(self) -> None:
        self.generation += 1
        (self.control / f"reopen-{self.generation}").write_text("")

    def stop(self) -> None:
        (self.control / "stop").write_text("")
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        assert self.proc.returncode == 0, f"reader failed: {err}"


# --- a counting proxy in front of the S3 emulator ----------------------------------------

class CountingProxy:
    """A threaded HTTP proxy on loopback that forwards every request to `target_port` and
    records (method, path, x-amz-copy-source or None) of each. With `fault`, a function of
    (method, path) returning an HTTP status or None, it answers that status with an S3
    error body instead of forwarding (the fault suite's 500 / 503 responses)."""

    ERRORS = {403: ("AccessDenied", "Access Denied"),
              500: ("InternalError", "We encountered an internal error. Please try again."),
              503: ("SlowDown", "Please reduce your request rate.")}

    def __init__(self, target_port: int, fault=None):
        self.target_port = target_port
        self.fault = fault
        self.requests: list[tuple[str, str, str | None]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _forward(self):
                body = self._body()
                with proxy._lock:
                    proxy.requests.append((self.command, self.path,
                                           self.headers.get("x-amz-copy-source")))
                    status = proxy.fault(self.command, self.path) if proxy.fault else None
                if status is not None:
                    code, message = proxy.ERRORS[status]
                    data = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}"
                            f"</Code><Message>{message}</Message></Error>").encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                    return
                # The length is set anew (the body was de-chunked); copying the client's
                # header as well would send two when its name is lower-case (Azure's SDK).
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("transfer-encoding", "expect", "connection",
                                                "content-length")}
                if body or self.command in ("PUT", "POST"):
                    headers["Content-Length"] = str(len(body))
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    self.send_response(response.status, response.reason)
                    for key, value in response.getheaders():
                        if key.lower() in ("transfer-encoding", "connection", "content-length"):
                            continue
                        self.send_header(key, value)
                    if self.command == "HEAD":
                        self.send_header("Content-Length",
                                         response.getheader("Content-Length", "0"))
                    else:
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "CountingProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def take(self) -> list[tuple[str, str, str | None]]:
        with self._lock:
            out, self.requests = self.requests, []
        return out


def flow_on(backend, run_lakepipe, folder: Path, **kwargs) -> Flow:
    """A Flow on `backend`; on S3 the flow's storage block names the emulator (and the
    environment carries the credentials, and the endpoint for the exec programs)."""
    if backend.name == "s3" and "storage" not in kwargs:
        kwargs["storage"] = {"endpoint": backend.env["AWS_ENDPOINT_URL"], "region": "us-east-1",
                             "url_style": "path"}
    return Flow(folder, backend, run_lakepipe, **kwargs)


def unseal_catalog(catalog: Path) -> None:
    """Removes the link to /dev/null each publication puts at the catalog's WAL path, as in
    a catalog an older lakepipe published: clients can write into it again."""
    wal = catalog.with_name(catalog.name + ".wal")
    assert wal.is_symlink() and os.readlink(wal) == "/dev/null", wal
    wal.unlink()


def location(flow: Flow, relative: str) -> str:
    """How lakepipe names a table file to programs and in the catalog's views."""
    if flow.backend.name == "file":
        return os.path.normpath(os.path.join(flow.folder, flow.base, relative))
    return flow.backend.uri(f"{PREFIX}/{relative}")
