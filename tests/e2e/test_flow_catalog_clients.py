"""Clients of the catalog file cannot wedge it, and one catalog file serves one flow.

A run republishes the catalog by renaming a new file over it. A client that opened the old
file read-write (DuckDB's default, as `duckdb.connect(path)` and the duckdb CLI open it) and
wrote after that left its write-ahead log under the catalog's name, and every later reader
replayed it onto the new file and failed. Each publication now makes the WAL path a link to
/dev/null: any client's write fails at its commit, no log is left, every reader opens. The
catalog is lakepipe's; users' tables go in a DuckDB file of their own that ATTACHes the
catalog READ_ONLY. A real stale WAL (a catalog an older lakepipe published) is removed by
the next lakepipe command. Two flows (or instances) naming one catalog file are refused
before anything is written."""
import json
import os
import subprocess
import sys

import duckdb

from backends import make_backend
from flow_support import MORE_ORDERS, ORDERS, Flow, unseal_catalog

COUNT_ORDERS = "SELECT count(*) FROM raw.orders"

# A notebook: keeps one read-write connection to the catalog and runs the statements it
# reads on stdin (one a line), answering "ok" or "error: ..." on stdout. It ends by
# os._exit, as a killed kernel does: no checkpoint on close.
NOTEBOOK = r'''
import os, sys
import duckdb
con = duckdb.connect(sys.argv[1])
print("ok", flush=True)
for line in sys.stdin:
    if line.strip() == "exit":
        os._exit(0)
    try:
        con.execute(line)
        print("ok", flush=True)
    except Exception as e:
        print("error: " + str(e).replace("\n", " "), flush=True)
'''


class Notebook:
    def __init__(self, catalog):
        self.proc = subprocess.Popen([sys.executable, "-c", NOTEBOOK, str(catalog)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ok"

    def answer(self, sql: str) -> str:
        self.proc.stdin.write(sql + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def execute(self, sql: str) -> None:
        answer = self.answer(sql)
        assert answer == "ok", (sql, answer)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("exit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)


def fresh_reader(catalog, sql: str, read_only: bool) -> list[tuple]:
    """A new DuckDB client in its own process (DuckDB's Python package caches databases per
    process)."""
    code = ("import duckdb, json, sys; con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] "
            "== 'ro'); print(json.dumps(con.execute(sys.argv[3]).fetchall())); con.close()")
    proc = subprocess.run([sys.executable, "-c", code, str(catalog),
                           "ro" if read_only else "rw", sql], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [tuple(row) for row in json.loads(proc.stdout)]


def leave_a_stale_wal(notebook: Notebook, n: int) -> None:
    """Writes through the notebook's connection to the replaced file: a table it made and
    checkpointed into that file, then rows for it, which its WAL (under the catalog's name)
    now holds; the new catalog has no such table."""
    notebook.execute(f"CREATE TABLE main.note{n} (x INTEGER)")
    notebook.execute("CHECKPOINT")
    notebook.execute(f"INSERT INTO main.note{n} VALUES ({n})")


def is_sealed(wal) -> bool:
    return wal.is_symlink() and os.readlink(wal) == "/dev/null"


def test_no_client_can_leave_a_wal_under_the_catalogs_name(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    wal = flow.catalog.with_name(flow.catalog.name + ".wal")
    assert is_sealed(wal)
    notebook = Notebook(flow.catalog)  # read-write, opened before the next run
    try:
        notebook.execute(COUNT_ORDERS)
        flow.put_orders(MORE_ORDERS)
        flow.run()  # publishes a new catalog file; the notebook keeps the old one
        # The notebook's write fails at its commit, and nothing is left under the name.
        answer = notebook.answer("CREATE TABLE main.note AS SELECT 1 AS x")
        assert answer.startswith("error: ") and ".wal" in answer, answer
        notebook.execute(COUNT_ORDERS)  # its connection still reads
        assert is_sealed(wal)
        # Every new client opens the new catalog at once, and cannot write it either.
        assert fresh_reader(flow.catalog, COUNT_ORDERS, True) == [(len(MORE_ORDERS),)]
        assert fresh_reader(flow.catalog, COUNT_ORDERS, False) == [(len(MORE_ORDERS),)]
        rows = flow.lakepipe("sql", flow.file, COUNT_ORDERS, output_json=False).stdout
        assert str(len(MORE_ORDERS)) in rows.split()
        writer = Notebook(flow.catalog)
        try:
            answer = writer.answer("CREATE SCHEMA scratch")
            assert answer.startswith("error: ") and ".wal" in answer, answer
        finally:
            writer.close()
        flow.put_orders(ORDERS)
        flow.run()
        flow.lakepipe("flow", "sync", flow.file)
        assert is_sealed(wal)
        assert fresh_reader(flow.catalog, COUNT_ORDERS, False) == [(len(ORDERS),)]
    finally:
        notebook.close()
    assert flow.query("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'note%'") \
        == [(0,)]


def test_a_stale_wal_an_older_lakepipe_let_in_is_removed(local_flow):
    """A catalog an older lakepipe published has no link at its WAL path: a stale client's
    WAL lands there. lakepipe sql, the next run and a sync remove it."""
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    wal = flow.catalog.with_name(flow.catalog.name + ".wal")
    notebook = Notebook(flow.catalog)
    try:
        notebook.execute(COUNT_ORDERS)
        flow.put_orders(MORE_ORDERS)
        flow.run()  # publishes a new catalog file; the notebook keeps the old one
        unseal_catalog(flow.catalog)
        leave_a_stale_wal(notebook, 1)
        assert wal.exists() and not wal.is_symlink()

        # lakepipe sql reads the new catalog, and removes the WAL that is not its own...
        rows = flow.lakepipe("sql", flow.file, COUNT_ORDERS, output_json=False).stdout
        assert str(len(MORE_ORDERS)) in rows.split()
        assert not wal.exists()
        # ...so any other client opens it again, read-only and read-write.
        assert fresh_reader(flow.catalog, COUNT_ORDERS, True) == [(len(MORE_ORDERS),)]
        assert fresh_reader(flow.catalog, COUNT_ORDERS, False) == [(len(MORE_ORDERS),)]

        # The notebook writes again after its own checkpoint: a new stale WAL. The next
        # run succeeds and seals the name again, and so does a sync.
        leave_a_stale_wal(notebook, 2)
        assert wal.exists() and not wal.is_symlink()
        flow.put_orders(ORDERS)
        flow.run()
        assert is_sealed(wal)
        assert fresh_reader(flow.catalog, COUNT_ORDERS, True) == [(len(ORDERS),)]
        unseal_catalog(flow.catalog)
        leave_a_stale_wal(notebook, 3)
        assert wal.exists() and not wal.is_symlink()
        flow.lakepipe("flow", "sync", flow.file)
        assert is_sealed(wal)
        assert fresh_reader(flow.catalog, COUNT_ORDERS, False) == [(len(ORDERS),)]
        assert flow.query(COUNT_ORDERS) == [(len(ORDERS),)]
    finally:
        notebook.close()
    # The notebook's writes went to the file the runs replaced, never into the catalog.
    assert flow.query("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'note%'") \
        == [(0,)]


def test_a_wal_of_the_catalog_itself_is_kept(local_flow):
    """The WAL of a client of the current catalog is never removed: not while the client
    holds the file (lakepipe sql cannot open it then, and judges the WAL), nor after the
    client died before its checkpoint (lakepipe sql reads through it)."""
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    wal = flow.catalog.with_name(flow.catalog.name + ".wal")
    unseal_catalog(flow.catalog)  # as an older lakepipe published it: clients may write
    notebook = Notebook(flow.catalog)
    try:
        notebook.execute("CREATE SCHEMA scratch")
        notebook.execute("CREATE TABLE scratch.notes AS SELECT 7 AS x")
        assert wal.exists()
        busy = flow.lakepipe("sql", flow.file, "SELECT 1", check=False)
        assert busy.returncode == 1 and "cannot open catalog" in busy.stderr, busy.stderr
        assert wal.exists()
    finally:
        notebook.close()  # os._exit: the writes are in the WAL only
    assert wal.exists()
    rows = flow.lakepipe("sql", flow.file, "SELECT x FROM scratch.notes", output_json=False)
    assert "7" in rows.stdout.split()
    assert wal.exists()


def test_user_schemas_survive_runs_and_an_attaching_file_always_works(local_flow, tmp_path):
    """Schemas users made in a catalog an older lakepipe published (clients could write it
    then) are kept by later runs; the pattern that always works is a file of one's own."""
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    unseal_catalog(flow.catalog)
    con = duckdb.connect(str(flow.catalog))
    con.execute("CREATE SCHEMA scratch")
    con.execute("CREATE TABLE scratch.notes AS SELECT 'keep me' AS note")
    con.execute("CREATE TABLE main.pinned AS SELECT 1 AS x")
    con.close()
    # The pattern that always works: a file of the user's own over the catalog.
    mine = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(mine))
    con.execute(f"ATTACH '{flow.catalog}' AS lake (READ_ONLY)")
    con.execute("CREATE TABLE mine_notes AS SELECT 'mine' AS note")
    con.execute("CREATE VIEW order_count AS SELECT count(*) AS n FROM lake.raw.orders")
    assert con.execute("SELECT n FROM order_count").fetchall() == [(len(ORDERS),)]
    con.close()

    flow.put_orders(MORE_ORDERS)
    flow.run()
    flow.run("--force")
    assert flow.query("SELECT note FROM scratch.notes") == [("keep me",)]
    assert flow.query("SELECT x FROM main.pinned") == [(1,)]
    assert flow.query(COUNT_ORDERS) == [(len(MORE_ORDERS),)]
    flow.lakepipe("flow", "sync", flow.file)
    assert flow.query("SELECT note FROM scratch.notes") == [("keep me",)]

    con = duckdb.connect(str(mine))
    con.execute(f"ATTACH '{flow.catalog}' AS lake (READ_ONLY)")
    assert con.execute("SELECT n FROM order_count").fetchall() == [(len(MORE_ORDERS),)]
    assert con.execute("SELECT note FROM mine_notes").fetchall() == [("mine",)]
    con.close()


def test_a_view_a_client_dropped_is_made_again_by_the_next_run(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    unseal_catalog(flow.catalog)
    con = duckdb.connect(str(flow.catalog))
    con.execute("DROP VIEW model.names")
    con.close()
    flow.run()  # every task a cache hit: no view changes
    assert flow.query("SELECT count(*) FROM model.names") == [(5,)]


def other_flow(first: Flow, folder, run_lakepipe, request, name: str, instance: str) -> Flow:
    """A second flow with a table store of its own whose `table_store.catalog` names the
    first flow's catalog file."""
    other = Flow(folder, make_backend("file", request, folder.parent / f"store_{name}"),
                 run_lakepipe, name=name, instance=instance)
    other.put_data()
    doc = other.doc(other.standard_stages(report=False))
    doc["table_store"]["catalog"] = str(first.catalog)
    other.write_text(json.dumps(doc, indent=2) + "\n")
    other.catalog = first.catalog
    return other


def test_a_catalog_file_serves_one_flow_and_instance(local_flow, run_lakepipe, request,
                                                     tmp_path):
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    # A catalog an older lakepipe wrote records no owner: it is adopted.
    unseal_catalog(flow.catalog)
    con = duckdb.connect(str(flow.catalog))
    con.execute("DROP TABLE lakepipe.catalog_owner")
    con.close()
    flow.run("--force")
    assert flow.query("SELECT flow, instance FROM lakepipe.catalog_owner") == [("shop", "dev")]
    before = flow.state()

    for name, instance in (("billing", "dev"), ("shop", "ci")):
        other = other_flow(flow, tmp_path / f"{name}_{instance}", run_lakepipe, request, name,
                           instance)
        for command in ("run", "sync"):
            proc = other.lakepipe("flow", command, other.file, check=False)
            assert proc.returncode == 1, (proc.stdout, proc.stderr)
            message = proc.stderr
            assert (f"catalog '{flow.catalog}' belongs to flow 'shop' (instance 'dev'), not to "
                    f"flow '{name}' (instance '{instance}')") in message, message
            assert "set `table_store.catalog:` to another file" in message, message
            assert "ATTACHes each flow's catalog READ_ONLY" in message, message
        # Nothing was written: no table file, no stage in its metadata, the catalog intact.
        assert other.files() == {}
        assert flow.state() == before
        status = json.loads(other.lakepipe("flow", "status", other.file).stdout)
        assert [s["committed_slot"] for s in status["stages"]] == ["", ""], status
        assert status["runs"] == [], status

    flow.put_orders(MORE_ORDERS)
    flow.run()
    assert flow.query(COUNT_ORDERS) == [(len(MORE_ORDERS),)]
